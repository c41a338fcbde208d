/**
 * Groups with a callback (issue 14.4) over the wire: producer.sendGroup and two consumer
 * instances on fauxqs and DynamoDB Local, every call evaluated against the synthesized
 * policies (the producer as a grantSend + grantStatusRead + grantCancel role). Each member is
 * counted once, whatever its SQS duplicates, redrives and the group being sent again; the
 * callback runs once with the counts; a count that fails keeps the member's message.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { DeleteMessageCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { defineContract } from '../../../lib/client/index.ts';
import { DEAD_LETTER_ATTRIBUTES, REDRIVE_ATTRIBUTES } from '../../../lib/protocol/attributes.ts';
import { createTestResources, testClients, type TestResources } from '../../support/aws.ts';
import { injectWireFaults } from '../../support/wire-faults.ts';
import { operator } from '../ops/helpers.ts';
import { drain, producerFor, recordingTasks, typeAttribute } from './group-helpers.ts';
import { consumer, invokeLikeLambda, receive, receiveEvent, sendRaw, sleep, spy, taskRecord } from './helpers.ts';

const clients = testClients();

async function deleteAll(r: TestResources): Promise<void> {
  for (const m of await receive(clients.sqs, r.queueUrl, 10, 1)) await clients.sqs.send(new DeleteMessageCommand({ QueueUrl: r.queueUrl, ReceiptHandle: m.ReceiptHandle! }));
}

describe('groups with a callback', { timeout: 120_000 }, () => {
  let r: TestResources;
  beforeAll(async () => {
    r = await createTestResources(clients, { visibilityTimeout: 2 });
  });

  it('the callback runs once with the counts, under SQS duplicates, a dead-lettered member, its redrive and the group sent again', async () => {
    const fail = new Set([3]);
    const { tasks, runs, callbacks, memberGroups } = recordingTasks(fail);
    const a = consumer(r, clients, tasks);
    const b = consumer(r, clients, tasks);
    const producer = producerFor(r);
    const members = [0, 1, 2, 3, 4].map((n) => ({ type: 'member', payload: { n } }));
    const sent = await producer.sendGroup(members, { onComplete: { type: 'report', payload: { to: 'ops' } } });
    expect(sent).toMatchObject({ total: 5, unsent: 0 });
    expect(sent.tasks.map((t) => t.ok && t.taskId)).toEqual([0, 1, 2, 3, 4].map((i) => `${sent.groupId}.${i}`));
    expect(await producer.getGroupStatus(sent.groupId)).toMatchObject({ groupId: sent.groupId, status: 'OPEN', total: 5, succeeded: 0, pending: 5, callback: { type: 'report', taskId: `${sent.groupId}.callback` } });

    // SQS duplicates of two members, side by side with the originals.
    const originals = await receive(clients.sqs, r.queueUrl, 10, 1);
    expect(originals).toHaveLength(5);
    for (const m of originals.slice(0, 2)) await sendRaw(clients.sqs, r.queueUrl, m.Body!, typeAttribute('member'));
    await sleep(2200);
    await drain(r, [a.handler, b.handler]);

    expect([...runs.entries()].sort()).toEqual([[0, 1], [1, 1], [2, 1], [3, 1], [4, 1]]);
    expect(memberGroups).toEqual(new Set([sent.groupId]));
    expect(callbacks).toEqual([{ payload: { to: 'ops' }, result: { groupId: sent.groupId, total: 5, succeeded: 4, deadLettered: 1, cancelled: 0 }, groupId: undefined }]);
    const complete = await producer.getGroupStatus(sent.groupId, { consistentRead: true });
    expect(complete).toMatchObject({ status: 'COMPLETE', succeeded: 4, deadLettered: 1, cancelled: 0, pending: 0, callbackSentAt: expect.any(String) });
    expect(await taskRecord(clients.dynamo, r.tableName, `group:${sent.groupId}:callback`)).toMatchObject({ status: 'SUCCEEDED', attempts: 1 });

    // The dead-lettered member is redriven and now succeeds: it runs again, and is not counted again.
    fail.clear();
    const [dead] = await receive(clients.sqs, r.deadLetterQueueUrl, 1, 1);
    await sendRaw(clients.sqs, r.queueUrl, dead!.Body!, { ...typeAttribute('member'), [REDRIVE_ATTRIBUTES.redrivenAt]: { DataType: 'String', StringValue: new Date().toISOString() } });
    // And the producer sends the whole group again (a retry after a timeout): members keep their ids.
    expect(await producer.sendGroup(members, { groupId: sent.groupId, onComplete: { type: 'report', payload: { to: 'ops' } } })).toMatchObject({ groupId: sent.groupId, unsent: 0 });
    await drain(r, [a.handler, b.handler]);
    expect(runs.get(3)).toBe(2);
    expect([0, 1, 2, 4].map((n) => runs.get(n))).toEqual([1, 1, 1, 1]);
    expect(callbacks).toHaveLength(1);
    expect(await producer.getGroupStatus(sent.groupId, { consistentRead: true })).toMatchObject({ succeeded: 4, deadLettered: 1, pending: 0 });
  });

  it('the calls the cost model assumes: per member one transaction of two items and one read of the group; per group one read of the callback, one send, one note', async () => {
    const { tasks, callbacks } = recordingTasks();
    const own = testClients();
    const dynamoCalls = spy(own.dynamo);
    const a = consumer(r, own, tasks);
    const producer = producerFor(r);
    const sent = await producer.sendGroup([30, 31, 32].map((n) => ({ type: 'member', payload: { n } })), { onComplete: { type: 'report', payload: {} } });
    // Each member in its own invocation: the worst case, one completion check each.
    for (let i = 0; i < 3; i++) await invokeLikeLambda(clients.sqs, r.queueUrl, a.handler, await receiveEvent(clients.sqs, r, 1, 1));
    const keyOf = (c: { input: any }) => Object.values(c.input.RequestItems ?? {}).flatMap((x: any) => x.Keys.map((k: any) => k.pk.S as string)); // eslint-disable-line @typescript-eslint/no-explicit-any
    const transactions = dynamoCalls.filter((c) => c.name === 'TransactWriteItemsCommand');
    expect(transactions.map((c) => c.input.TransactItems.map((t: object) => Object.keys(t)[0]))).toEqual([['Put', 'Update'], ['Put', 'Update'], ['Put', 'Update']]);
    const reads = dynamoCalls.filter((c) => c.name === 'BatchGetItemCommand').flatMap(keyOf);
    expect(reads.filter((k) => k === `\u001fgroup:${sent.groupId}`)).toHaveLength(3);
    expect(reads.filter((k) => k === `\u001fgroup:${sent.groupId}:callback`)).toHaveLength(1);
    expect(dynamoCalls.filter((c) => c.name === 'UpdateItemCommand' && c.input.Key.pk.S === `\u001fgroup:${sent.groupId}`)).toHaveLength(1);
    await drain(r, [a.handler]);
    expect(callbacks).toHaveLength(1);
  });

  it('a cancelled member counts as cancelled; a group without a callback completes all the same', async () => {
    const { tasks, runs } = recordingTasks();
    const a = consumer(r, clients, tasks);
    const producer = producerFor(r);
    const sent = await producer.sendGroup([{ type: 'member', payload: { n: 10 } }, { type: 'member', payload: { n: 11 } }]);
    await producer.cancel(`${sent.groupId}.1`);
    await drain(r, [a.handler]);
    expect([...runs.keys()]).toEqual([10]);
    expect(await producer.getGroupStatus(sent.groupId, { consistentRead: true })).toMatchObject({ status: 'COMPLETE', succeeded: 1, cancelled: 1, deadLettered: 0, pending: 0 });
    expect((await producer.getGroupStatus(sent.groupId))?.callback).toBeUndefined();
  });

  it('bad input is refused before anything is written or sent, each with its code', async () => {
    const Report = defineContract('report', z.object({ to: z.string() }));
    const Member = defineContract('member', z.object({ n: z.number() }));
    const producer = producerFor(r, { contracts: [Report, Member] });
    const member = { type: 'member', payload: { n: 1 } };
    const refused = async (call: Promise<unknown>, code: string) => expect(call).rejects.toMatchObject({ code });
    await refused(producer.sendGroup([member], { groupId: 'g-unknown', onComplete: { type: 'reprot', payload: {} } }), 'UNKNOWN_TASK_TYPE');
    await refused(producer.sendGroup([member], { groupId: 'g-schema', onComplete: { type: Report, payload: { to: 7 } } }), 'SCHEMA_VIOLATION');
    await refused(producer.sendGroup([{ type: 'member', payload: { n: 'x' } }], { groupId: 'g-member' }), 'SCHEMA_VIOLATION');
    await refused(producer.sendGroup([member, { ...member, taskId: 'g-dup.0' }], { groupId: 'g-dup' }), 'INVALID_OPTIONS');
    await refused(producer.sendGroup([{ ...member, dedupe: { key: 'k', ttlSeconds: 60 } }], { groupId: 'g-dedupe' }), 'INVALID_DEDUPE');
    await refused(producer.sendGroup([], { groupId: 'g-empty' }), 'INVALID_OPTIONS');
    await refused(producer.sendGroup([member], { groupId: 'not a group id' }), 'INVALID_OPTIONS');
    for (const id of ['g-unknown', 'g-schema', 'g-member', 'g-dup', 'g-dedupe', 'g-empty']) expect(await producer.getGroupStatus(id, { consistentRead: true })).toBeUndefined();
    expect(await receive(clients.sqs, r.queueUrl, 10, 0)).toEqual([]);

    // One id names one group: another member count or callback is a conflict, nothing sent.
    await producer.sendGroup([member], { groupId: 'g-once', onComplete: { type: Report, payload: { to: 'a' } } });
    await deleteAll(r); // the member stays out of the other tests' way
    await refused(producer.sendGroup([member, member], { groupId: 'g-once', onComplete: { type: Report, payload: { to: 'a' } } }), 'GROUP_CONFLICT');
    await refused(producer.sendGroup([member], { groupId: 'g-once' }), 'GROUP_CONFLICT');
  });

  it('a count the table refuses keeps the member\'s message; its next copy counts it and sends the callback', async () => {
    const { tasks, runs, callbacks } = recordingTasks();
    const own = testClients();
    // Every count of the first invocation is throttled (the SDK's retries too); none after it.
    let throttling = true;
    const injected = injectWireFaults(own.dynamo, 'dynamodb', (name) => (throttling && name === 'TransactWriteItemsCommand' ? { kind: 'error', status: 400, code: 'ThrottlingException' } : undefined));
    const faulty = consumer(r, own, tasks);
    const producer = producerFor(r);
    const sent = await producer.sendGroup([{ type: 'member', payload: { n: 20 } }], { onComplete: { type: 'report', payload: {} } });
    const first = await invokeLikeLambda(clients.sqs, r.queueUrl, faulty.handler, await receiveEvent(clients.sqs, r, 10, 1));
    throttling = false;
    expect(injected.length, faulty.captured.text()).toBeGreaterThan(0);
    expect(first.batchItemFailures).toHaveLength(1); // not acknowledged: not counted yet
    expect(faulty.captured.text()).toContain('group member not counted');
    expect(await producer.getGroupStatus(sent.groupId, { consistentRead: true })).toMatchObject({ status: 'OPEN', pending: 1 });
    await sleep(2200);
    await drain(r, [faulty.handler]);
    expect(runs.get(20)).toBe(1); // the copy found the task SUCCEEDED: counted, not run again
    expect(callbacks.map((c) => c.result)).toEqual([{ groupId: sent.groupId, total: 1, succeeded: 1, deadLettered: 0, cancelled: 0 }]);
  });

  it('a count refused for good (AccessDenied) ends, after maxReceiveCount receives, in the DLQ without a reason, the task SUCCEEDED and run once; redriven once the permission is back, it is counted and the callback runs', async () => {
    const own = await createTestResources(clients, { visibilityTimeout: 1, maxReceiveCount: 5 });
    const { tasks, runs, callbacks } = recordingTasks();
    const consumerClients = testClients();
    let denied = true;
    const injected = injectWireFaults(consumerClients.dynamo, 'dynamodb', (name) =>
      denied && name === 'TransactWriteItemsCommand' ? { kind: 'error', status: 400, code: 'AccessDeniedException', message: 'not authorized to perform dynamodb:TransactWriteItems' } : undefined,
    );
    const c = consumer(own, consumerClients, tasks, { maxReceiveCount: 5 });
    const producer = producerFor(own);
    const sent = await producer.sendGroup([{ type: 'member', payload: { n: 30 } }], { onComplete: { type: 'report', payload: {} } });
    await drain(own, [c.handler]);
    // What on-call sees: the warning on every receive, the group OPEN, the task SUCCEEDED, its message in the DLQ.
    expect(injected.length).toBeGreaterThanOrEqual(5);
    expect(c.captured.text().match(/group member not counted/g)?.length ?? 0).toBeGreaterThanOrEqual(5);
    expect(c.captured.text()).toContain('AccessDeniedException');
    expect(runs.get(30)).toBe(1);
    expect(await producer.getTaskStatus(`${sent.groupId}.0`)).toMatchObject({ status: 'SUCCEEDED' });
    expect(await producer.getGroupStatus(sent.groupId, { consistentRead: true })).toMatchObject({ status: 'OPEN', pending: 1, succeeded: 0 });
    const dlq = await clients.sqs.send(new ReceiveMessageCommand({ QueueUrl: own.deadLetterQueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, VisibilityTimeout: 0, MessageAttributeNames: ['All'] }));
    expect(dlq.Messages).toHaveLength(1);
    expect(dlq.Messages![0]!.MessageAttributes?.[DEAD_LETTER_ATTRIBUTES.reason]).toBeUndefined(); // moved by the redrive policy
    expect(callbacks).toEqual([]);

    // The runbook (docs/OPERATIONS.md "A group that never completes", 4): fix the permission, redrive.
    denied = false;
    const redriven = await operator.redriveDeadLetters({ sqs: clients.sqs, deadLetterQueueUrl: own.deadLetterQueueUrl, queueUrl: own.queueUrl, moveTask: 'never' });
    expect(redriven.moved).toBe(1);
    await drain(own, [c.handler]);
    expect(runs.get(30)).toBe(1); // found SUCCEEDED: counted, not run again
    expect(callbacks.map((x) => x.result)).toEqual([{ groupId: sent.groupId, total: 1, succeeded: 1, deadLettered: 0, cancelled: 0 }]);
    expect(await producer.getGroupStatus(sent.groupId, { consistentRead: true })).toMatchObject({ status: 'COMPLETE', pending: 0, succeeded: 1 });
  });
});
