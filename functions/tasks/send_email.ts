/**
 * Example: send an email. The default stack has no mail provider, so this demo only
 * checks its input and pretends; replace the body with your provider's SDK call and pass
 * ctx.idempotencyKey as the provider's idempotency key where it has one.
 */
import type { TaskDefinition } from '../../lib/runtime/index.ts';

export interface SendEmailPayload {
  to: string;
  subject: string;
  body?: string;
}

export const sendEmail: TaskDefinition<SendEmailPayload, { accepted: true }> = {
  validate: (p) =>
    typeof p === 'object' && p !== null && typeof (p as SendEmailPayload).to === 'string' && (p as SendEmailPayload).to.includes('@') && typeof (p as SendEmailPayload).subject === 'string',
  timeoutMs: 10_000,
  async handler(_payload, ctx) {
    ctx.logger.info('email handed to the provider (demo)', { taskId: ctx.taskId, attempt: ctx.attempt });
    return { accepted: true };
  },
};
