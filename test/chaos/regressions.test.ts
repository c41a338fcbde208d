/**
 * Regressions for runtime behaviours the chaos suite ran into, reproduced
 * deterministically with the real runtime on the emulators. Both used to show up in chaos runs
 * as a DLQ message without a reason next to (or instead of) the consumer's own dead letter:
 * SQS may deliver a message twice (or a delete with a stale receipt handle may not delete), so
 * a copy of a task the consumer already dead-lettered comes back; and re-delays that use no
 * attempt still use receives, so the queue's redrive policy could move a task before the
 * consumer dead-lettered it.
 *
 * Each test fails with the fix reverted (they were `it.fails` reproductions before):
 * - the first if TaskStore.acquire resets a DEAD_LETTERED record for any copy (runs = [1, 1],
 *   a second dead letter);
 * - the second if the runtime lets a record on its last receive go back to the queue (the
 *   5th receive is reported as a failure, and the redrive policy moves it without a reason).
 */
import { describe, expect, it } from 'vitest';
import { ChangeMessageVisibilityCommand, type Message } from '@aws-sdk/client-sqs';
import { COPY_ATTRIBUTES } from '../../lib/protocol/attributes.ts';
import { encodeEnvelope } from '../../lib/protocol/envelope.ts';
import type { RuntimeOptions, TaskDefinitions } from '../../lib/runtime/config.ts';
import { injectWireFaults, type FaultRule } from '../support/wire-faults.ts';
import type { SQSEvent } from 'aws-lambda';
import { DEAD_LETTER_ATTRIBUTES } from '../../lib/protocol/attributes.ts';
import { PermanentError } from '../../lib/protocol/errors.ts';
import { createTestResources, testClients, type TestResources } from '../support/aws.ts';
import { consumer, envelope, fakeContext, invokeLikeLambda, receive, receiveEvent, sendTask, taskRecord, toRecord } from '../integration/runtime/helpers.ts';

const clients = testClients();

async function comeBack(r: TestResources, event: SQSEvent): Promise<SQSEvent> {
  for (const record of event.Records) {
    await clients.sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: r.queueUrl, ReceiptHandle: record.receiptHandle, VisibilityTimeout: 0 }));
  }
  return receiveEvent(clients.sqs, r);
}

describe('runtime regressions found by the chaos suite', () => {
  it('a leftover copy of a dead-lettered task (not a DLQ redrive) is acknowledged, not run again with fresh attempts', async () => {
    const r = await createTestResources(clients, { visibilityTimeout: 30 });
    const runs: number[] = [];
    const { handler, captured } = consumer(r, clients, {
      pay: {
        handler: (_p, ctx) => {
          runs.push(ctx.attempt);
          throw new PermanentError('card declined');
        },
      },
    });
    const e = envelope('pay', {});
    await sendTask(clients.sqs, r.queueUrl, e);
    const first = await receiveEvent(clients.sqs, r);
    expect((await handler(first, fakeContext())).batchItemFailures).toEqual([]); // dead-lettered and acknowledged
    // …but the source message is not gone: the invocation timed out after dead-lettering, or the delete used a
    // receipt handle made stale by a concurrent second delivery. The same message (no taskq.* attributes) returns.
    const again = await comeBack(r, first);
    expect(again.Records).toHaveLength(1);
    expect(again.Records[0]!.messageAttributes[DEAD_LETTER_ATTRIBUTES.reason]).toBeUndefined();
    expect((await handler(again, fakeContext())).batchItemFailures).toEqual([]); // acknowledged like a duplicate
    // Not run again, no second dead letter, the record still says why it was dead-lettered.
    expect(runs).toEqual([1]);
    expect(await receive(clients.sqs, r.deadLetterQueueUrl, 10, 1)).toHaveLength(1);
    expect(await taskRecord(clients.dynamo, r.tableName, e.id)).toMatchObject({ status: 'DEAD_LETTERED', attempts: 1, deadLetterReason: 'permanent-error' });
    expect(captured.text()).toContain('leftover copy skipped');
  });

  it('a task that keeps failing is dead-lettered by the consumer with a reason even when a re-delay used one of its receives', async () => {
    // Runtime default maxAttempts 5; the template's default maxReceiveCount 5, passed to the consumer as the
    // construct does (TASKQ_MAX_RECEIVE_COUNT).
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
      { backoff: { baseSeconds: 1, capSeconds: 1, jitter: 'none' }, maxReceiveCount: 5 },
    );
    const e = envelope('flaky', {});
    await sendTask(clients.sqs, r.queueUrl, e);
    // Receive 1: the invocation has no time left to start it (it could as well be a lease held by a duplicate,
    // a throttled task table, or a copy in the same batch): re-delayed, no attempt used — but a receive used.
    let event = await receiveEvent(clients.sqs, r);
    expect((await invokeLikeLambda(clients.sqs, r.queueUrl, handler, event, fakeContext(500))).batchItemFailures).toHaveLength(1);
    // Receives 2–4: attempts 1–3 fail and go back to the queue.
    for (let i = 0; i < 3; i++) {
      event = await comeBack(r, event);
      expect(event.Records).toHaveLength(1);
      expect((await invokeLikeLambda(clients.sqs, r.queueUrl, handler, event)).batchItemFailures).toHaveLength(1);
    }
    // Receive 5, the last one the redrive policy allows: attempt 4 fails, and instead of going back (to be moved
    // by SQS without a reason on receive 6) a fresh copy is re-sent and this one acknowledged.
    event = await comeBack(r, event);
    expect(event.Records[0]!.attributes.ApproximateReceiveCount).toBe('5');
    const last = event.Records[0]!.messageId;
    expect((await invokeLikeLambda(clients.sqs, r.queueUrl, handler, event)).batchItemFailures).toEqual([]);
    expect(await taskRecord(clients.dynamo, r.tableName, e.id)).toMatchObject({ status: 'RETRYING', attempts: 4 });
    // The fresh copy (receive count 1) runs attempt 5, the last: the consumer dead-letters it with its reason.
    event = await receiveEvent(clients.sqs, r, 10, 3);
    expect(event.Records).toHaveLength(1);
    expect(event.Records[0]!.messageId).not.toBe(last);
    expect(event.Records[0]!.attributes.ApproximateReceiveCount).toBe('1');
    expect((await invokeLikeLambda(clients.sqs, r.queueUrl, handler, event)).batchItemFailures).toEqual([]);
    expect(runs).toBe(5);
    const dead = await receive(clients.sqs, r.deadLetterQueueUrl, 10, 1);
    expect(dead).toHaveLength(1);
    expect(dead[0]!.MessageAttributes?.[DEAD_LETTER_ATTRIBUTES.reason]?.StringValue).toBe('attempts-exhausted');
    expect(dead[0]!.MessageAttributes?.[DEAD_LETTER_ATTRIBUTES.attempts]?.StringValue).toBe('5');
    expect(await taskRecord(clients.dynamo, r.tableName, e.id)).toMatchObject({ status: 'DEAD_LETTERED', attempts: 5, deadLetterReason: 'attempts-exhausted' });
    expect(await receive(clients.sqs, r.queueUrl, 10, 0)).toHaveLength(0);
  });
});

/**
 * The chaos suite's FIFO variant counted a repeated effect in the window copyNotRecorded although the table
 * refused only the completion, never the outcome copy: the outcome copy was not recorded
 * before a duplicate took the task over. Two ways, each reproduced here with an injected clock:
 * on a FIFO queue the copy joined the back of its task's message group, behind a duplicate of
 * the same task; and when the copy and a duplicate arrive in one batch, the duplicate's
 * lease-taking write ran alongside the copy's write instead of after it.
 */
describe('an outcome copy is recorded before a duplicate of its task can take the task over', () => {
  const refuseCompletion: FaultRule = (name) => (name === 'BatchWriteItemCommand' ? { kind: 'unprocessed' } : undefined);

  function faulty(r: TestResources, tasks: TaskDefinitions, rule: FaultRule, options: RuntimeOptions) {
    const own = testClients();
    injectWireFaults(own.dynamo, 'dynamodb', rule);
    return consumer(r, own, tasks, options);
  }

  it('in one batch: the copy is written first, the duplicate then finds SUCCEEDED', async () => {
    const r = await createTestResources(clients);
    let runs = 0;
    let now = Date.now();
    const clock = { now: () => now };
    const tasks = { charge: { handler: () => void runs++ } };
    // The task runs; the table refuses its completion past every retry: an outcome copy carries it.
    const f = faulty(r, tasks, refuseCompletion, { clock });
    const e2 = envelope('charge', {});
    await sendTask(clients.sqs, r.queueUrl, e2);
    expect((await f.handler(await receiveEvent(clients.sqs, r), fakeContext(5000))).batchItemFailures).toEqual([]);
    expect(runs).toBe(1);
    const [copy] = await receive(clients.sqs, r.queueUrl, 1, 1);
    expect(copy!.MessageAttributes?.[COPY_ATTRIBUTES.outcome]).toBeDefined();
    // Past the lease and the takeover grace, the copy and a producer re-send of the task arrive in one batch; the
    // copy's write answers slowly (200 ms), as a write may.
    now += 120_000;
    const healthy = testClients();
    healthy.dynamo.middlewareStack.add(
      ((next: (args: unknown) => Promise<unknown>, context: { commandName: string }) => async (args: unknown) => {
        if (context.commandName === 'PutItemCommand') await new Promise((resolve) => setTimeout(resolve, 200));
        return next(args);
      }) as never,
      { step: 'initialize', name: 'slowPutItem' },
    );
    const duplicate: Message = { MessageId: 'duplicate-1', ReceiptHandle: 'rh-duplicate', Body: encodeEnvelope(e2), MessageAttributes: { taskType: { DataType: 'String', StringValue: 'charge' } }, Attributes: { ApproximateReceiveCount: '2' } };
    const event = { Records: [toRecord(duplicate, r.queueArn), toRecord(copy!, r.queueArn)] };
    const out = await consumer(r, healthy, tasks, { clock }).handler(event, fakeContext());
    expect(out.batchItemFailures).toEqual([]);
    expect(runs).toBe(1);
    expect(await taskRecord(clients.dynamo, r.tableName, e2.id)).toMatchObject({ status: 'SUCCEEDED', attempts: 1 });
  });

  it('FIFO: the copy does not wait behind its task\'s message group, where a duplicate of the task was waiting', async () => {
    const r = await createTestResources(clients, { fifo: true });
    let runs = 0;
    let now = Date.now();
    const clock = { now: () => now };
    const tasks = { charge: { handler: () => void runs++ } };
    const e = envelope('charge', {});
    // The task, and a producer re-send of it behind it in the same group (another deduplication id).
    await sendTask(clients.sqs, r.queueUrl, e, { MessageGroupId: 'g', MessageDeduplicationId: 'first' });
    await sendTask(clients.sqs, r.queueUrl, e, { MessageGroupId: 'g', MessageDeduplicationId: 'again' });
    const f = faulty(r, tasks, refuseCompletion, { clock });
    const event = await receiveEvent(clients.sqs, r);
    expect(event.Records).toHaveLength(1);
    expect((await invokeLikeLambda(clients.sqs, r.queueUrl, f.handler, event, fakeContext(5000))).batchItemFailures).toEqual([]);
    expect(runs).toBe(1);
    // Later than the lease and the takeover grace: what the queue hands out next must not run the task again.
    now += 120_000;
    const healthy = consumer(r, testClients(), tasks, { clock });
    for (let round = 0; round < 3; round++) {
      const next = await receiveEvent(clients.sqs, r, 10, 1);
      if (next.Records.length === 0) break;
      expect((await invokeLikeLambda(clients.sqs, r.queueUrl, healthy.handler, next)).batchItemFailures).toEqual([]);
    }
    expect(runs).toBe(1);
    expect(await taskRecord(clients.dynamo, r.tableName, e.id)).toMatchObject({ status: 'SUCCEEDED', attempts: 1 });
  });
});
