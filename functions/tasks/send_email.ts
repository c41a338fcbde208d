/**
 * Example: send an email. The default stack has no mail provider, so this demo only
 * checks its input and pretends; replace the body with your provider's SDK call and pass
 * ctx.idempotencyKey as the provider's idempotency key where it has one.
 */
import type { TaskDefinition } from '../../lib/runtime/index.ts';

export interface SendEmailPayload {
  to: string;
  /** @default '(no subject)' */
  subject?: string;
  body?: string;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export const sendEmail: TaskDefinition<SendEmailPayload, { accepted: true }> = {
  // Each rejection names the field: it becomes the dead letter's last error.
  validate(p) {
    if (!isObject(p)) throw new Error('payload must be a JSON object like {"to":"a@example.com"}');
    if (typeof p.to !== 'string' || !p.to.includes('@')) throw new Error('to: must be an e-mail address');
    if (p.subject !== undefined && typeof p.subject !== 'string') throw new Error('subject: must be a string when given');
    if (p.body !== undefined && typeof p.body !== 'string') throw new Error('body: must be a string when given');
  },
  timeoutMs: 10_000,
  async handler(_payload, ctx) {
    ctx.logger.info('email handed to the provider (demo)', { taskId: ctx.taskId, attempt: ctx.attempt });
    return { accepted: true };
  },
};
