/**
 * The receive budget over the wire: the queue's RedrivePolicy maxReceiveCount matches the
 * consumer's maxReceiveCount option (as the construct passes TASKQ_MAX_RECEIVE_COUNT). A record
 * about to go back to the queue on its last receive is re-sent as a fresh copy (standard) or
 * dead-lettered with a reason (FIFO) — never moved to the DLQ by SQS without one.
 */
import { describe, expect, it } from 'vitest';
import { ChangeMessageVisibilityCommand } from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import { DEAD_LETTER_ATTRIBUTES, MESSAGE_ATTRIBUTES } from '../../../lib/protocol/attributes.ts';
import { createTestResources, testClients, type TestResources } from '../../support/aws.ts';
import { consumer, envelope, fakeContext, invokeLikeLambda, receive, receiveEvent, sendTask, taskRecord } from './helpers.ts';

const clients = testClients();
const BACKOFF = { baseSeconds: 1, capSeconds: 1, jitter: 'none' } as const;

async function comeBack(r: TestResources, event: SQSEvent): Promise<SQSEvent> {
  for (const record of event.Records) {
    await clients.sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: r.queueUrl, ReceiptHandle: record.receiptHandle, VisibilityTimeout: 0 }));
  }
  return receiveEvent(clients.sqs, r, 10, 2);
}

function failing() {
  const state = { runs: [] as number[] };
  const tasks = {
    flaky: {
      handler: (_p: unknown, ctx: { attempt: number }) => {
        state.runs.push(ctx.attempt);
        throw new Error('downstream unavailable');
      },
    },
  };
  return { state, tasks };
}

describe('receive budget (standard queue)', () => {
  it('a retryable failure on the last receive is re-sent as a fresh copy: new message, old one deleted, attempt recorded; then dead-lettered with a reason', async () => {
    const r = await createTestResources(clients, { visibilityTimeout: 30, maxReceiveCount: 2 });
    const { state, tasks } = failing();
    const { handler } = consumer(r, clients, tasks, { backoff: BACKOFF, maxReceiveCount: 2, maxAttempts: 3 });
    const e = envelope('flaky', { n: 1 });
    await sendTask(clients.sqs, r.queueUrl, e);

    let event = await receiveEvent(clients.sqs, r);
    expect((await invokeLikeLambda(clients.sqs, r.queueUrl, handler, event)).batchItemFailures).toHaveLength(1); // attempt 1, back by visibility
    event = await comeBack(r, event);
    const old = event.Records[0]!;
    expect(old.attributes.ApproximateReceiveCount).toBe('2');
    // Attempt 2 fails on receive 2 of 2: re-sent and acknowledged.
    expect((await invokeLikeLambda(clients.sqs, r.queueUrl, handler, event)).batchItemFailures).toEqual([]);
    expect(await taskRecord(clients.dynamo, r.tableName, e.id)).toMatchObject({ status: 'RETRYING', attempts: 2, lastError: 'downstream unavailable' });
    // Only the fresh copy is on the queue (after its 1 s delay): same body and attributes, receive count 1.
    event = await receiveEvent(clients.sqs, r, 10, 3);
    expect(event.Records).toHaveLength(1);
    const copy = event.Records[0]!;
    expect(copy.messageId).not.toBe(old.messageId);
    expect(copy.body).toBe(old.body);
    expect(copy.messageAttributes[MESSAGE_ATTRIBUTES.taskType]!.stringValue).toBe('flaky');
    expect(copy.attributes.ApproximateReceiveCount).toBe('1');
    // Attempt 3 of 3: the consumer dead-letters it with its reason.
    expect((await invokeLikeLambda(clients.sqs, r.queueUrl, handler, event)).batchItemFailures).toEqual([]);
    expect(state.runs).toEqual([1, 2, 3]);
    const dead = await receive(clients.sqs, r.deadLetterQueueUrl, 10, 1);
    expect(dead).toHaveLength(1);
    expect(dead[0]!.MessageAttributes![DEAD_LETTER_ATTRIBUTES.reason]!.StringValue).toBe('attempts-exhausted');
    expect(await taskRecord(clients.dynamo, r.tableName, e.id)).toMatchObject({ status: 'DEAD_LETTERED', attempts: 3 });
    expect(await receive(clients.sqs, r.queueUrl, 10, 2)).toHaveLength(0);
  });

  it('a re-delay on the last receive (not started before the deadline) is re-sent without counting an attempt', async () => {
    const r = await createTestResources(clients, { visibilityTimeout: 30, maxReceiveCount: 1 });
    const { state, tasks } = failing();
    const { handler, captured } = consumer(r, clients, tasks, { backoff: BACKOFF, maxReceiveCount: 1 });
    const e = envelope('flaky', {});
    await sendTask(clients.sqs, r.queueUrl, e);
    const event = await receiveEvent(clients.sqs, r);
    expect((await invokeLikeLambda(clients.sqs, r.queueUrl, handler, event, fakeContext(500))).batchItemFailures).toEqual([]);
    expect(state.runs).toEqual([]);
    expect(await taskRecord(clients.dynamo, r.tableName, e.id)).toBeUndefined();
    const copies = await receiveEvent(clients.sqs, r, 10, 2);
    expect(copies.Records).toHaveLength(1);
    expect(copies.Records[0]!.messageId).not.toBe(event.Records[0]!.messageId);
    expect(await receive(clients.sqs, r.deadLetterQueueUrl, 10, 0)).toHaveLength(0);
    expect(captured.text()).toContain('re-sent as a fresh copy');
  });

  it('without maxReceiveCount the record goes back to the queue as before', async () => {
    const r = await createTestResources(clients, { visibilityTimeout: 30, maxReceiveCount: 2 });
    const { tasks } = failing();
    const { handler } = consumer(r, clients, tasks, { backoff: BACKOFF });
    await sendTask(clients.sqs, r.queueUrl, envelope('flaky', {}));
    let event = await receiveEvent(clients.sqs, r);
    await invokeLikeLambda(clients.sqs, r.queueUrl, handler, event);
    event = await comeBack(r, event);
    expect(event.Records[0]!.attributes.ApproximateReceiveCount).toBe('2');
    expect((await invokeLikeLambda(clients.sqs, r.queueUrl, handler, event)).batchItemFailures).toHaveLength(1);
  });
});

describe('receive budget (FIFO queue)', () => {
  it('on the last receive a retryable failure is dead-lettered with reason attempts-exhausted and a last error naming the receive budget', async () => {
    const r = await createTestResources(clients, { fifo: true, visibilityTimeout: 30, maxReceiveCount: 2 });
    const { state, tasks } = failing();
    const { handler } = consumer(r, clients, tasks, { backoff: BACKOFF, maxReceiveCount: 2 });
    const e = envelope('flaky', {});
    await sendTask(clients.sqs, r.queueUrl, e, { MessageGroupId: 'g', MessageDeduplicationId: 'd1' });
    let event = await receiveEvent(clients.sqs, r);
    expect((await invokeLikeLambda(clients.sqs, r.queueUrl, handler, event)).batchItemFailures).toHaveLength(1);
    event = await comeBack(r, event);
    expect(event.Records[0]!.attributes.ApproximateReceiveCount).toBe('2');
    expect((await invokeLikeLambda(clients.sqs, r.queueUrl, handler, event)).batchItemFailures).toEqual([]);
    expect(state.runs).toEqual([1, 2]); // 2 of the default 5 attempts used
    const dead = await receive(clients.sqs, r.deadLetterQueueUrl, 10, 1);
    expect(dead).toHaveLength(1);
    const attrs = dead[0]!.MessageAttributes!;
    expect(attrs[DEAD_LETTER_ATTRIBUTES.reason]!.StringValue).toBe('attempts-exhausted');
    expect(attrs[DEAD_LETTER_ATTRIBUTES.attempts]!.StringValue).toBe('2');
    expect(attrs[DEAD_LETTER_ATTRIBUTES.lastError]!.StringValue).toMatch(/receive budget exhausted .*maxReceiveCount 2.* after attempt 2 of 5: downstream unavailable/);
    expect(await taskRecord(clients.dynamo, r.tableName, e.id)).toMatchObject({ status: 'DEAD_LETTERED', attempts: 2, deadLetterReason: 'attempts-exhausted' });
    // No fresh copy on a FIFO queue.
    expect(await receive(clients.sqs, r.queueUrl, 10, 1)).toHaveLength(0);
  });
});
