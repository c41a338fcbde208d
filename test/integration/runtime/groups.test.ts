/**
 * Groups with a callback (issue 14.4) over the wire: producer.sendGroup and two consumer
 * instances on fauxqs and DynamoDB Local, every call evaluated against the synthesized
 * policies (the producer as a grantSend + grantStatusRead + grantCancel role). Each member is
 * counted once, whatever its SQS duplicates, redrives and the group being sent again; the
 * callback runs once with the counts; a count that fails keeps the member's message.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { z } from 'zod';
import type { Context, SQSEvent } from 'aws-lambda';
import { DeleteMessageCommand } from '@aws-sdk/client-sqs';
import { TaskProducer, defineContract } from '../../../lib/client/index.ts';
import { MESSAGE_ATTRIBUTES, REDRIVE_ATTRIBUTES } from '../../../lib/protocol/attributes.ts';
import { PermanentError } from '../../../lib/protocol/errors.ts';
import type { GroupResult } from '../../../lib/protocol/group.ts';
import type { RuntimeOptions, TaskDefinitions } from '../../../lib/runtime/index.ts';
import { createTestResources, testClients, type TestResources } from '../../support/aws.ts';
import { actingAs } from '../../support/iam/principals.ts';
import { firstTimes, injectWireFaults } from '../../support/wire-faults.ts';
import { consumer, invokeLikeLambda, receive, receiveEvent, sendRaw, sleep, taskRecord } from './helpers.ts';

const clients = testClients();

function producerFor(r: TestResources, extra: Partial<ConstructorParameters<typeof TaskProducer>[0]> = {}): TaskProducer {
  return actingAs('producer', new TaskProducer({ queueUrl: r.queueUrl, sqs: clients.sqs, s3: clients.s3, dynamo: clients.dynamo, bucketName: r.bucketName, tableName: r.tableName, ...extra }));
}

const typeAttribute = (type: string) => ({ [MESSAGE_ATTRIBUTES.taskType]: { DataType: 'String', StringValue: type } });

type Handler = (event: SQSEvent, context: Context) => Promise<{ batchItemFailures: { itemIdentifier: string }[] }>;

/** Runs the queue dry with the given consumers taking turns, each batch in its own invocation. */
async function drain(r: TestResources, handlers: Handler[], rounds = 40): Promise<void> {
  let empty = 0;
  for (let i = 0; i < rounds && empty < 2; i++) {
    const event = await receiveEvent(clients.sqs, r, 10, 1);
    if (event.Records.length === 0) {
      empty++;
      continue;
    }
    empty = 0;
    await invokeLikeLambda(clients.sqs, r.queueUrl, handlers[i % handlers.length]!, event);
  }
}

async function emptyDeadLetterQueue(r: TestResources): Promise<void> {
  for (const m of await receive(clients.sqs, r.deadLetterQueueUrl, 10, 0)) await clients.sqs.send(new DeleteMessageCommand({ QueueUrl: r.deadLetterQueueUrl, ReceiptHandle: m.ReceiptHandle! }));
}

/** Member handlers and a callback handler that records what each run saw. */
function recordingTasks(fail: Set<number> = new Set()) {
  const runs = new Map<number, number>();
  const callbacks: { payload: unknown; result: GroupResult | undefined; groupId: string | undefined }[] = [];
  const memberGroups = new Set<string | undefined>();
  const tasks: TaskDefinitions = {
    member: {
      handler: (payload: { n: number }, ctx) => {
        runs.set(payload.n, (runs.get(payload.n) ?? 0) + 1);
        memberGroups.add(ctx.groupId);
        if (fail.has(payload.n)) throw new PermanentError(`member ${payload.n} refuses`);
        return { n: payload.n };
      },
    },
    report: { handler: (payload, ctx) => void callbacks.push({ payload, result: ctx.groupResult, groupId: ctx.groupId }) },
  };
  return { tasks, runs, callbacks, memberGroups };
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
    await receive(clients.sqs, r.queueUrl, 10, 1); // (received: the member stays out of the other tests' way)
    await refused(producer.sendGroup([member, member], { groupId: 'g-once', onComplete: { type: Report, payload: { to: 'a' } } }), 'GROUP_CONFLICT');
    await refused(producer.sendGroup([member], { groupId: 'g-once' }), 'GROUP_CONFLICT');
  });

  it('a count the table refuses keeps the member\'s message; its next copy counts it and sends the callback', async () => {
    const { tasks, runs, callbacks } = recordingTasks();
    const own = testClients();
    const injected = injectWireFaults(own.dynamo, 'dynamodb', firstTimes(10, (name) => name === 'TransactWriteItemsCommand', { kind: 'error', status: 400, code: 'ThrottlingException' }));
    const faulty = consumer(r, own, tasks);
    const producer = producerFor(r);
    const sent = await producer.sendGroup([{ type: 'member', payload: { n: 20 } }], { onComplete: { type: 'report', payload: {} } });
    const first = await invokeLikeLambda(clients.sqs, r.queueUrl, faulty.handler, await receiveEvent(clients.sqs, r, 10, 1));
    expect(injected.length, faulty.captured.text()).toBeGreaterThan(0);
    expect(first.batchItemFailures).toHaveLength(1); // not acknowledged: not counted yet
    expect(faulty.captured.text()).toContain('group member not counted');
    expect(await producer.getGroupStatus(sent.groupId, { consistentRead: true })).toMatchObject({ status: 'OPEN', pending: 1 });
    await sleep(2200);
    await drain(r, [faulty.handler]);
    expect(runs.get(20)).toBe(1); // the copy found the task SUCCEEDED: counted, not run again
    expect(callbacks.map((c) => c.result)).toEqual([{ groupId: sent.groupId, total: 1, succeeded: 1, deadLettered: 0, cancelled: 0 }]);
  });
});

describe('groups: a member is counted once whatever the deliveries (property, on the emulators)', { timeout: 300_000 }, () => {
  it('random duplicates, redrives, failures and consumer interleavings: counts = members, callback once', async () => {
    const r = await createTestResources(clients, { visibilityTimeout: 1 });
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          size: fc.integer({ min: 1, max: 6 }),
          failing: fc.array(fc.integer({ min: 0, max: 5 }), { maxLength: 3 }),
          duplicates: fc.array(fc.integer({ min: 0, max: 5 }), { maxLength: 4 }),
          redrive: fc.boolean(),
          consumers: fc.integer({ min: 1, max: 3 }),
        }),
        async ({ size, failing, duplicates, redrive, consumers }) => {
          const fail = new Set(failing.filter((n) => n < size));
          const { tasks, runs, callbacks } = recordingTasks(fail);
          const options: RuntimeOptions = {};
          const handlers = Array.from({ length: consumers }, () => consumer(r, clients, tasks, options).handler);
          const producer = producerFor(r);
          const sent = await producer.sendGroup(Array.from({ length: size }, (_, n) => ({ type: 'member', payload: { n } })), { onComplete: { type: 'report', payload: {} } });
          const messages = await receive(clients.sqs, r.queueUrl, 10, 1);
          for (const n of duplicates.filter((d) => d < size)) {
            const m = messages.find((x) => JSON.parse(x.Body!).payload.n === n);
            if (m) await sendRaw(clients.sqs, r.queueUrl, m.Body!, typeAttribute('member'));
          }
          await sleep(1100);
          await drain(r, handlers);
          if (redrive) {
            fail.clear();
            for (const dead of await receive(clients.sqs, r.deadLetterQueueUrl, 10, 0)) {
              await sendRaw(clients.sqs, r.queueUrl, dead.Body!, { ...typeAttribute('member'), [REDRIVE_ATTRIBUTES.redrivenAt]: { DataType: 'String', StringValue: new Date().toISOString() } });
            }
            await drain(r, handlers);
          }
          await emptyDeadLetterQueue(r);
          // A member is counted in the first final state it reaches: a dead-lettered one stays so when its redrive succeeds.
          const failed = new Set(failing.filter((n) => n < size)).size;
          const status = await producer.getGroupStatus(sent.groupId, { consistentRead: true });
          expect(status).toMatchObject({ status: 'COMPLETE', total: size, succeeded: size - failed, deadLettered: failed, pending: 0 });
          expect(callbacks.map((c) => c.result)).toEqual([{ groupId: sent.groupId, total: size, succeeded: size - failed, deadLettered: failed, cancelled: 0 }]);
          for (let n = 0; n < size; n++) expect(runs.get(n)).toBeGreaterThanOrEqual(1);
        },
      ),
      { numRuns: Number(process.env.TASKQ_MODEL_RUNS ?? 12) > 12 ? 40 : 12 },
    );
  });
});
