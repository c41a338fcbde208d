/**
 * The consumer: one handler per task type, each bound to its contract (src/contracts.ts). The
 * construct bundles this file with esbuild (consumerEntry in bin/app.ts); the producer
 * service sends the task types named here. A payload that breaks its contract goes to the
 * DLQ at once (schema-violation), with each field's path and problem.
 */
import { defineTasks, type TaskPayloads } from 'taskq/runtime';
import { ResizeImage, WelcomeEmail } from './contracts.js';

export const handler = defineTasks({
  welcome_email: {
    contract: WelcomeEmail,
    async handler(payload, ctx) {
      // Call your mail provider here, with ctx.idempotencyKey as its idempotency key.
      ctx.logger.info('welcome e-mail sent', { taskId: ctx.taskId, attempt: ctx.attempt });
      return { greeted: payload.name ?? payload.to };
    },
  },
  resize_image: {
    contract: ResizeImage,
    async handler(payload) {
      return { key: `${payload.key}@${payload.width}w` };
    },
  },
});

/** The payload type of each task type, for producers written in TypeScript. */
export type Payloads = TaskPayloads<typeof handler>;
