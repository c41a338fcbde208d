/**
 * Anchor (b): the seed's naive pattern — one SendMessage per task; workers that
 * ReceiveMessage one message at a time (MaxNumberOfMessages 1), run it and DeleteMessage it.
 * No batching, no idempotency (a duplicate runs twice), no claim check (a payload must fit
 * in one SQS message), retries only by the visibility timeout and the queue's redrive policy.
 *
 * For the cost model each message is billed as one Lambda invocation of one record (its
 * handler wall time × memory): the same compute the seed's loop would spend per message.
 */
import { performance } from 'node:perf_hooks';
import { DeleteMessageCommand, ReceiveMessageCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { Meter } from '../lib/meter.ts';

export async function naiveSend(sqs: SQSClient, queueUrl: string, body: string): Promise<void> {
  await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body }));
}

export interface NaiveWorkerOptions {
  readonly sqs: SQSClient;
  readonly queueUrl: string;
  readonly concurrency: number;
  readonly waitTimeSeconds?: number;
  readonly meter: Meter;
  /** Runs one message body; throwing leaves the message to come back. */
  readonly handle: (body: string) => Promise<void> | void;
}

export class NaiveWorkers {
  private running = false;
  private readonly abort = new AbortController();
  private loops: Promise<void>[] = [];

  constructor(private readonly o: NaiveWorkerOptions) {}

  start(): void {
    this.running = true;
    this.loops = Array.from({ length: this.o.concurrency }, () => this.loop());
  }

  async stop(): Promise<void> {
    this.running = false;
    this.abort.abort();
    await Promise.allSettled(this.loops);
  }

  private async loop(): Promise<void> {
    const o = this.o;
    while (this.running) {
      let message;
      try {
        const out = await o.sqs.send(
          new ReceiveMessageCommand({ QueueUrl: o.queueUrl, MaxNumberOfMessages: 1, WaitTimeSeconds: o.waitTimeSeconds ?? 1 }),
          { abortSignal: this.abort.signal },
        );
        message = out.Messages?.[0];
      } catch {
        if (!this.running) return;
        await new Promise((r) => setTimeout(r, 100));
        continue;
      }
      if (!message) continue;
      const start = performance.now();
      let ok = true;
      try {
        await o.handle(message.Body ?? '');
      } catch {
        ok = false;
      }
      o.meter.invocation(performance.now() - start, 1);
      if (ok) {
        try {
          await o.sqs.send(new DeleteMessageCommand({ QueueUrl: o.queueUrl, ReceiptHandle: message.ReceiptHandle! }));
        } catch {
          // the message comes back; the task runs again (no idempotency)
        }
      }
    }
  }
}
