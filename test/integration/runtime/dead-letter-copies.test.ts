/**
 * Copies of a dead-lettered task over the wire: a leftover copy (SQS at-least-once, a delete
 * with a stale receipt handle) is acknowledged without running; only a redrive — marked by
 * taskq.redrivenAt (the CLI's manual redrive) or carrying taskq.reason (as StartMessageMoveTask
 * leaves it) — runs the task again with fresh attempts.
 */
import { describe, expect, it } from 'vitest';
import type { MessageAttributeValue } from '@aws-sdk/client-sqs';
import { DEAD_LETTER_ATTRIBUTES, MESSAGE_ATTRIBUTES, REDRIVE_ATTRIBUTES } from '../../../lib/protocol/attributes.ts';
import { encodeEnvelope } from '../../../lib/protocol/envelope.ts';
import { PermanentError } from '../../../lib/protocol/errors.ts';
import type { IdempotencyMode } from '../../../lib/runtime/config.ts';
import { createTestResources, testClients, type TestResources } from '../../support/aws.ts';
import { consumer, envelope, fakeContext, receive, receiveEvent, sendRaw, sendTask, taskRecord } from './helpers.ts';

const clients = testClients();

/** A task type that fails permanently until `fixed`; records each run's attempt. */
function payTask(mode: IdempotencyMode) {
  const state = { fixed: false, runs: [] as number[] };
  const tasks = {
    pay: {
      idempotency: mode,
      handler: (_p: unknown, ctx: { attempt: number }) => {
        state.runs.push(ctx.attempt);
        if (!state.fixed) throw new PermanentError('card declined');
        return { ok: true };
      },
    },
  };
  return { state, tasks };
}

/** Sends a task, lets the consumer dead-letter it, returns the envelope and the DLQ message. */
async function deadLettered(r: TestResources, handler: ReturnType<typeof consumer>['handler']) {
  const e = envelope('pay', { amount: 5 });
  await sendTask(clients.sqs, r.queueUrl, e);
  expect((await handler(await receiveEvent(clients.sqs, r), fakeContext())).batchItemFailures).toEqual([]);
  const [dead] = await receive(clients.sqs, r.deadLetterQueueUrl, 1, 1);
  expect(dead!.MessageAttributes![DEAD_LETTER_ATTRIBUTES.reason]!.StringValue).toBe('permanent-error');
  return { e, dead: dead! };
}

const typeAttribute = (type: string): Record<string, MessageAttributeValue> => ({ [MESSAGE_ATTRIBUTES.taskType]: { DataType: 'String', StringValue: type } });

describe.each(['lease', 'record'] as const)("copies of a dead-lettered task (idempotency '%s')", (mode) => {
  it('a leftover copy is acknowledged without running, sends nothing to the DLQ and leaves the record DEAD_LETTERED', async () => {
    const r = await createTestResources(clients);
    const { state, tasks } = payTask(mode);
    const { handler, captured } = consumer(r, clients, tasks);
    const { e } = await deadLettered(r, handler);
    // The same body and attributes again, first receive (a duplicate SQS delivered) and a later one.
    await sendTask(clients.sqs, r.queueUrl, e);
    await sendTask(clients.sqs, r.queueUrl, e);
    const copies = await receiveEvent(clients.sqs, r, 2);
    expect(copies.Records).toHaveLength(2);
    copies.Records[1]!.attributes.ApproximateReceiveCount = '3';
    // Two invocations (one record each: a second copy in the same batch would be re-delayed as a batch duplicate).
    for (const record of copies.Records) expect((await handler({ Records: [record] }, fakeContext())).batchItemFailures).toEqual([]);
    expect(state.runs).toEqual([1]);
    expect(await receive(clients.sqs, r.deadLetterQueueUrl, 10, 1)).toHaveLength(0); // the one dead letter was received above
    expect(await taskRecord(clients.dynamo, r.tableName, e.id)).toMatchObject({ status: 'DEAD_LETTERED', attempts: 1, deadLetterReason: 'permanent-error' });
    expect(captured.metrics.at(-1)!.get('pay')!.duplicatesSkipped).toBe(1);
  });

  it('a copy redriven by the CLI (taskq.redrivenAt, dead-letter attributes removed) runs again with fresh attempts', async () => {
    const r = await createTestResources(clients);
    const { state, tasks } = payTask(mode);
    const { handler } = consumer(r, clients, tasks);
    const { e, dead } = await deadLettered(r, handler);
    state.fixed = true;
    await sendRaw(clients.sqs, r.queueUrl, dead.Body!, {
      ...typeAttribute('pay'),
      [REDRIVE_ATTRIBUTES.redrivenAt]: { DataType: 'String', StringValue: new Date().toISOString() },
    });
    expect((await handler(await receiveEvent(clients.sqs, r), fakeContext())).batchItemFailures).toEqual([]);
    expect(state.runs).toEqual([1, 1]);
    expect(await taskRecord(clients.dynamo, r.tableName, e.id)).toMatchObject({ status: 'SUCCEEDED', attempts: 1 });
    expect(encodeEnvelope(e)).toBe(dead.Body);
  });

  it('a copy moved back by StartMessageMoveTask (dead-letter attributes kept) runs again with fresh attempts', async () => {
    const r = await createTestResources(clients);
    const { state, tasks } = payTask(mode);
    const { handler } = consumer(r, clients, tasks);
    const { e, dead } = await deadLettered(r, handler);
    await sendRaw(clients.sqs, r.queueUrl, dead.Body!, dead.MessageAttributes);
    // Still failing: dead-lettered again, with this run's attempt count and a fresh reason.
    expect((await handler(await receiveEvent(clients.sqs, r), fakeContext())).batchItemFailures).toEqual([]);
    expect(state.runs).toEqual([1, 1]);
    const [again] = await receive(clients.sqs, r.deadLetterQueueUrl, 1, 1);
    expect(again!.MessageAttributes![DEAD_LETTER_ATTRIBUTES.attempts]!.StringValue).toBe('1');
    expect(await taskRecord(clients.dynamo, r.tableName, e.id)).toMatchObject({ status: 'DEAD_LETTERED', attempts: 1 });
  });
});

describe('the redrive mark is not carried into the DLQ', () => {
  it('a redriven copy that is dead-lettered again reaches the DLQ without taskq.redrivenAt; a leftover of it is then acknowledged', async () => {
    const r = await createTestResources(clients);
    const { state, tasks } = payTask('lease');
    const { handler } = consumer(r, clients, tasks);
    const { e, dead } = await deadLettered(r, handler);
    const redriven = { ...typeAttribute('pay'), [REDRIVE_ATTRIBUTES.redrivenAt]: { DataType: 'String', StringValue: new Date().toISOString() } };
    await sendRaw(clients.sqs, r.queueUrl, dead.Body!, redriven);
    expect((await handler(await receiveEvent(clients.sqs, r), fakeContext())).batchItemFailures).toEqual([]);
    const [again] = await receive(clients.sqs, r.deadLetterQueueUrl, 1, 1);
    expect(again!.MessageAttributes).not.toHaveProperty(REDRIVE_ATTRIBUTES.redrivenAt);
    expect(again!.MessageAttributes![DEAD_LETTER_ATTRIBUTES.reason]!.StringValue).toBe('permanent-error');
    // A plain copy of the task now is a leftover.
    await sendTask(clients.sqs, r.queueUrl, e);
    expect((await handler(await receiveEvent(clients.sqs, r), fakeContext())).batchItemFailures).toEqual([]);
    expect(state.runs).toEqual([1, 1]);
    expect(await receive(clients.sqs, r.deadLetterQueueUrl, 10, 1)).toHaveLength(0);
  });
});
