/**
 * Runtime behaviours the chaos suite ran into, reproduced deterministically with the real
 * runtime on the emulators. Each is `it.fails`: it passes while the behaviour is as found and
 * starts failing once the runtime is fixed — then turn it into a plain `it`.
 *
 * Both show up in chaos runs as a DLQ message without a reason next to (or instead of) the
 * consumer's own dead letter: SQS may deliver a message twice (or a delete with a stale
 * receipt handle may not delete), so a copy of a task the consumer already dead-lettered
 * comes back; and re-delays that use no attempt still use receives.
 */
import { describe, expect, it } from 'vitest';
import { ChangeMessageVisibilityCommand } from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import { DEAD_LETTER_ATTRIBUTES } from '../../lib/protocol/attributes.ts';
import { PermanentError } from '../../lib/protocol/errors.ts';
import { createTestResources, testClients, type TestResources } from '../support/aws.ts';
import { consumer, envelope, fakeContext, receive, receiveEvent, sendTask } from '../integration/runtime/helpers.ts';

const clients = testClients();

async function comeBack(r: TestResources, event: SQSEvent): Promise<SQSEvent> {
  for (const record of event.Records) {
    await clients.sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: r.queueUrl, ReceiptHandle: record.receiptHandle, VisibilityTimeout: 0 }));
  }
  return receiveEvent(clients.sqs, r);
}

describe('known runtime issues found by the chaos suite', () => {
  it.fails('a leftover copy of a dead-lettered task (not a DLQ redrive) is acknowledged, not run again with fresh attempts', async () => {
    const r = await createTestResources(clients, { visibilityTimeout: 30 });
    const runs: number[] = [];
    const { handler } = consumer(r, clients, {
      pay: {
        handler: (_p, ctx) => {
          runs.push(ctx.attempt);
          throw new PermanentError('card declined');
        },
      },
    });
    await sendTask(clients.sqs, r.queueUrl, envelope('pay', {}));
    const first = await receiveEvent(clients.sqs, r);
    expect((await handler(first, fakeContext())).batchItemFailures).toEqual([]); // dead-lettered and acknowledged
    // …but the source message is not gone: the invocation timed out after dead-lettering, or the delete used a
    // receipt handle made stale by a concurrent second delivery. The same message (no taskq.* attributes) returns.
    const again = await comeBack(r, first);
    expect(again.Records).toHaveLength(1);
    expect(again.Records[0]!.messageAttributes[DEAD_LETTER_ATTRIBUTES.reason]).toBeUndefined();
    await handler(again, fakeContext());
    // Found: store.acquire resets any DEAD_LETTERED record ("a redrive"), so the task runs again: runs = [1, 1]
    // and a second dead letter is sent. Expected: only a copy carrying the dead-letter attributes (a real redrive)
    // resets; a plain copy of a DEAD_LETTERED task is acknowledged like a copy of a SUCCEEDED one.
    expect(runs).toEqual([1]);
    expect(await receive(clients.sqs, r.deadLetterQueueUrl, 10, 1)).toHaveLength(1);
  });

  it.fails('a task that keeps failing is dead-lettered by the consumer with a reason even when a re-delay used one of its receives', async () => {
    // Runtime default maxAttempts 5 and the template's default maxReceiveCount 5.
    const r = await createTestResources(clients, { visibilityTimeout: 30, maxReceiveCount: 5 });
    let runs = 0;
    const { handler } = consumer(
      r,
      clients,
      {
        flaky: {
          handler: () => {
            runs++;
            throw new Error('downstream unavailable');
          },
        },
      },
      { backoff: { baseSeconds: 1, capSeconds: 1, jitter: 'none' } },
    );
    await sendTask(clients.sqs, r.queueUrl, envelope('flaky', {}));
    // Receive 1: the invocation has no time left to start it (it could as well be a lease held by a duplicate,
    // a throttled task table, or a copy in the same batch): re-delayed, no attempt used — but a receive used.
    let event = await receiveEvent(clients.sqs, r);
    expect((await handler(event, fakeContext(500))).batchItemFailures).toHaveLength(1);
    // Receives 2–5: attempts 1–4 fail.
    for (let i = 0; i < 4; i++) {
      event = await comeBack(r, event);
      expect(event.Records).toHaveLength(1);
      expect((await handler(event, fakeContext())).batchItemFailures).toHaveLength(1);
    }
    // Receive 6 never reaches the consumer: the redrive policy moves the message (maxReceiveCount 5) — after 4 of
    // its 5 attempts, with no reason, no attempts and no last error, and the task record left at RETRYING.
    event = await comeBack(r, event);
    expect(event.Records).toHaveLength(0);
    const dead = await receive(clients.sqs, r.deadLetterQueueUrl, 10, 1);
    expect(dead).toHaveLength(1);
    expect(runs).toBe(4);
    // Expected: the consumer dead-letters it itself, with a reason, when a failing record has used its last
    // receive (ApproximateReceiveCount ≥ maxReceiveCount) — or the defaults keep maxReceiveCount well above
    // maxAttempts so re-delays cannot exhaust the receives first.
    expect(dead[0]!.MessageAttributes?.[DEAD_LETTER_ATTRIBUTES.reason]?.StringValue).toBeDefined();
  });
});
