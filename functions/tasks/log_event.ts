/** Example: record an analytics event. Logging twice is harmless, so it needs no table: idempotency 'off'. */
import type { TaskDefinition } from '../../lib/runtime/index.ts';

export const logEvent: TaskDefinition = {
  idempotency: 'off',
  async handler(payload, ctx) {
    // The payload's size, never its content.
    ctx.logger.info('event recorded', { taskId: ctx.taskId, size: JSON.stringify(payload ?? null).length });
  },
};
