/** Example task handlers the default stack deploys. */
export const tasks: Record<string, (payload: unknown) => Promise<void>> = {
  async log_event(payload) {
    console.log(JSON.stringify({ message: 'event', size: JSON.stringify(payload).length }));
  },
};
