/** Polls `probe` every 100 ms until it returns a value (not undefined), or fails after `timeoutMs` naming `what`. */
export async function until<T>(probe: () => T | undefined | Promise<T | undefined>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** `work`'s value and how long it took, or undefined when it had not settled after `limitMs` (the caller fails on that, naming what hung). */
export async function settledWithin<T>(work: Promise<T>, limitMs: number): Promise<{ value: T; ms: number } | undefined> {
  const started = Date.now();
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), limitMs)));
  try {
    return await Promise.race([work.then((value) => ({ value, ms: Date.now() - started })), late]);
  } finally {
    clearTimeout(timer);
  }
}
