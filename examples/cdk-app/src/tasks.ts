/**
 * The consumer: one handler per task type. The construct bundles this file with esbuild
 * (consumerEntry in bin/app.ts); the producer service sends the task types named here.
 */
import { defineTasks, PermanentError, type TaskPayloads } from 'taskq/runtime';

export interface WelcomeEmail {
  to: string;
  name?: string;
}

export interface ResizeImage {
  key: string;
  width: number;
}

function isWelcomeEmail(payload: unknown): payload is WelcomeEmail {
  return typeof payload === 'object' && payload !== null && 'to' in payload && typeof payload.to === 'string' && payload.to.includes('@');
}

export const handler = defineTasks({
  welcome_email: {
    // Rejected payloads go to the DLQ at once; the thrown message names the field.
    validate(payload) {
      if (!isWelcomeEmail(payload)) throw new Error('to: must be an e-mail address');
    },
    timeoutMs: 10_000,
    async handler(payload: WelcomeEmail, ctx) {
      // Call your mail provider here, with ctx.idempotencyKey as its idempotency key.
      ctx.logger.info('welcome e-mail sent', { taskId: ctx.taskId, attempt: ctx.attempt });
      return { greeted: payload.name ?? payload.to };
    },
  },
  resize_image: {
    maxAttempts: 3,
    async handler(payload: ResizeImage) {
      if (!(payload.width > 0)) throw new PermanentError('width: must be a positive number');
      return { key: `${payload.key}@${payload.width}w` };
    },
  },
});

/** The payload type of each task type, for producers written in TypeScript. */
export type Payloads = TaskPayloads<typeof handler>;
