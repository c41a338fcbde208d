/**
 * Lanes on the emulators, from the synthesized template: the stack's routing table (written
 * by provisioning the template, as the deployment's custom resource does) sends each type to
 * its lane's queue; moving a type to another lane is a stack change only — the same producer
 * code, after its cache TTL, sends to the new lane, and the old lane's consumer forwards its
 * leftovers there with their identity (task id, idempotency key, attempts) — and fan-out runs
 * each target once, in its own lane, under duplicated publishes and SQS duplicates.
 *
 * IAM: these tests run the producer and consumers as the test harness (they redeploy stacks
 * with other lanes than the IAM harness's lanes variant). The same calls made as the lanes
 * variant's synthesized roles — routing reads, sends to lane queues, forwarding between lanes,
 * a lane's dead letters — are evaluated in lanes-iam.test.ts; the grants' (action, resource)
 * pairs in test/infra/lanes.test.ts and test/infra/runtime-permissions.test.ts.
 */
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { DeleteTableCommand } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { TaskProducer } from '../../../lib/client/index.ts';
import { DEAD_LETTER_ATTRIBUTES } from '../../../lib/protocol/attributes.ts';
import { PermanentError } from '../../../lib/protocol/errors.ts';
import { ROUTING_ITEM_KEY } from '../../../lib/protocol/lanes.ts';
import type { TaskDefinitions } from '../../../lib/runtime/index.ts';
import { testClients, uniqueName } from '../../support/aws.ts';
import { deployLanes, laneConsumer, laneOf } from './lane-system.ts';
import { receive, sleep, taskRecord } from '../runtime/helpers.ts';

const clients = testClients();

async function bodies(queueUrl: string, max = 10): Promise<{ id: string; type: string; idempotencyKey?: string }[]> {
  const messages = await receive(clients.sqs, queueUrl, max, 1);
  return messages.map((m) => JSON.parse(m.Body!) as { id: string; type: string; idempotencyKey?: string });
}

describe('routing owned by the stack', { timeout: 180_000 }, () => {
  it('each type goes to its lane; a type no lane names goes to the default queue; an unknown event is refused', { timeout: 180_000 }, async () => {
    const system = await deployLanes(uniqueName('Route'), { lanes: { critical: { types: ['password_reset'] } } });
    const producer = new TaskProducer({ queueUrl: system.outputs.QueueUrl!, tableName: system.outputs.TableName!, routing: true, sqs: clients.sqs, dynamo: clients.dynamo });
    const reset = await producer.send('password_reset', { user: 'ada' });
    const email = await producer.send('send_email', { to: 'ada@example.com' });
    const batch = await producer.sendBatch([{ type: 'password_reset', payload: {} }, { type: 'send_email', payload: {} }]);
    expect(batch.every((r) => r.ok)).toBe(true);
    const critical = await bodies(laneOf(system, 'critical').queueUrl);
    const standard = await bodies(system.outputs.QueueUrl!);
    expect(critical.map((b) => b.type)).toEqual(['password_reset', 'password_reset']);
    expect(critical.map((b) => b.id)).toContain(reset.taskId);
    expect(standard.map((b) => b.type)).toEqual(['send_email', 'send_email']);
    expect(standard.map((b) => b.id)).toContain(email.taskId);
    await expect(producer.publish('order_placed', {}, { eventId: 'e1' })).rejects.toMatchObject({ code: 'UNKNOWN_EVENT' });
  });

  it('a producer without tableName cannot route; a routing table that cannot be read fails the send with nothing sent', async () => {
    expect(() => new TaskProducer({ queueUrl: 'https://sqs.us-east-1.amazonaws.com/1/q', routing: true })).toThrow(/routing needs tableName/);
    const system = await deployLanes(uniqueName('NoTable'), { lanes: { critical: { types: ['password_reset'] } } });
    const producer = new TaskProducer({ queueUrl: system.outputs.QueueUrl!, tableName: 'no-such-table', routing: true, sqs: clients.sqs, dynamo: clients.dynamo });
    await expect(producer.send('password_reset', {})).rejects.toMatchObject({ code: 'ROUTING_FAILED' });
    expect(await receive(clients.sqs, laneOf(system, 'critical').queueUrl, 10, 0)).toEqual([]);
    expect(await receive(clients.sqs, system.outputs.QueueUrl!, 10, 0)).toEqual([]);
  });

  it('a failed refresh keeps the routing table the producer has (the table deleted under it)', async () => {
    const system = await deployLanes(uniqueName('Stale'), { lanes: { critical: { types: ['password_reset'] } } });
    let clock = Date.now();
    const producer = new TaskProducer({ queueUrl: system.outputs.QueueUrl!, tableName: system.outputs.TableName!, routing: { cacheTtlMs: 1000 }, sqs: clients.sqs, dynamo: clients.dynamo, now: () => clock });
    await producer.send('password_reset', {});
    await clients.dynamo.send(new DeleteTableCommand({ TableName: system.outputs.TableName! }));
    clock += 5000;
    await producer.send('password_reset', {});
    expect((await bodies(laneOf(system, 'critical').queueUrl)).map((b) => b.type)).toEqual(['password_reset', 'password_reset']);
    expect(await receive(clients.sqs, system.outputs.QueueUrl!, 10, 0)).toEqual([]);
  });

  it('moving a type between lanes is a stack change only: the same producer follows after its TTL, leftovers are forwarded keeping their identity and attempts', async () => {
    const stackName = uniqueName('Move');
    const before = await deployLanes(stackName, { lanes: { alpha: { types: ['report'] }, beta: { types: ['archive'] } } });
    const ttlMs = 60_000;
    // The producer's clock: its cache TTL passes when the test says so, however long a synth takes.
    let clock = Date.now();
    const producer = new TaskProducer({ queueUrl: before.outputs.QueueUrl!, tableName: before.outputs.TableName!, routing: { cacheTtlMs: ttlMs }, sqs: clients.sqs, dynamo: clients.dynamo, now: () => clock });
    const runs: { taskId: string; key: string; attempt: number; lane: string }[] = [];
    let failFirst = true;
    const handlerIn = (laneName: string): TaskDefinitions => ({
      report: {
        handler: async (_payload, ctx) => {
          runs.push({ taskId: ctx.taskId, key: ctx.idempotencyKey, attempt: ctx.attempt, lane: laneName });
          if (failFirst) {
            failFirst = false;
            throw new Error('downstream hiccup');
          }
        },
      },
      archive: { handler: async () => {} },
    });

    // In lane alpha: one task fails its first attempt there; another waits, unconsumed.
    const tried = await producer.send('report', { n: 1 }, { idempotencyKey: 'report-1' });
    const alphaBefore = laneConsumer(before, 'alpha', handlerIn('alpha'));
    expect(await alphaBefore()).toBe(1);
    expect(runs).toEqual([{ taskId: tried.taskId, key: 'report-1', attempt: 1, lane: 'alpha' }]);
    const waiting = await producer.send('report', { n: 2 });

    // The stack moves `report` to beta. Within its TTL the producer still sends to alpha.
    const after = await deployLanes(stackName, { lanes: { alpha: { types: ['archive'] }, beta: { types: ['report'] } } });
    expect(laneOf(after, 'alpha').queueUrl).toBe(laneOf(before, 'alpha').queueUrl);
    const stale = await producer.send('report', { n: 3 });
    clock += ttlMs;
    const fresh = await producer.send('report', { n: 4 });
    expect((await receive(clients.sqs, laneOf(after, 'beta').queueUrl, 10, 1)).map((m) => JSON.parse(m.Body!).id)).toEqual([fresh.taskId]);

    // alpha's consumer, redeployed with the new routing, forwards its leftovers to beta without running them.
    const alphaAfter = laneConsumer(after, 'alpha', handlerIn('alpha'));
    await sleep(1100); // the failed task's 1 s backoff
    let forwarded = 0;
    for (let i = 0; i < 5 && forwarded < 3; i++) forwarded += await alphaAfter();
    expect(forwarded).toBe(3);
    expect(runs.filter((r) => r.lane === 'alpha')).toHaveLength(1);
    expect(await receive(clients.sqs, laneOf(after, 'alpha').queueUrl, 10, 0)).toEqual([]);

    const beta = laneConsumer(after, 'beta', handlerIn('beta'));
    for (let i = 0; i < 5 && runs.filter((r) => r.lane === 'beta').length < 3; i++) await beta();
    const inBeta = runs.filter((r) => r.lane === 'beta');
    expect(inBeta.map((r) => r.taskId).sort()).toEqual([tried.taskId, waiting.taskId, stale.taskId].sort());
    // Same task, same idempotency key, its attempt count carried on: the second attempt.
    expect(inBeta.find((r) => r.taskId === tried.taskId)).toMatchObject({ key: 'report-1', attempt: 2 });
    expect(await taskRecord(clients.dynamo, after.outputs.TableName!, 'report-1')).toMatchObject({ status: 'SUCCEEDED', attempts: 2 });
    expect(await taskRecord(clients.dynamo, after.outputs.TableName!, stale.taskId)).toMatchObject({ status: 'SUCCEEDED', attempts: 1 });
  }, 180_000);

  it('the routing item is in the task table under its reserved key, written by provisioning the template', async () => {
    const system = await deployLanes(uniqueName('Item'), { lanes: { bulk: { types: ['analytics'] } } });
    const item = await taskRecord(clients.dynamo, system.outputs.TableName!, ROUTING_ITEM_KEY);
    expect(JSON.parse(item!.routing as string)).toEqual({
      lanes: { default: system.outputs.QueueUrl, bulk: laneOf(system, 'bulk').queueUrl },
      types: { analytics: 'bulk' },
      fanOut: {},
    });
    expect(item!.expiresAt).toBeUndefined();
  });
});

describe('fan-out', { timeout: 180_000 }, () => {
  it('one event runs each target once in its own lane, under a repeated publish and an SQS duplicate; a failing target never re-runs another', async () => {
    const system = await deployLanes(uniqueName('Fan'), {
      lanes: { receipts: { types: ['send_receipt'] }, analytics: { types: ['update_analytics'] } },
      fanOut: { order_placed: ['send_receipt', 'update_analytics'] },
    });
    const producer = new TaskProducer({ queueUrl: system.outputs.QueueUrl!, tableName: system.outputs.TableName!, routing: true, sqs: clients.sqs, dynamo: clients.dynamo });
    const ran = { send_receipt: 0, update_analytics: 0 };
    const tasks: TaskDefinitions = {
      send_receipt: { handler: async () => void ran.send_receipt++ },
      update_analytics: {
        handler: async () => {
          ran.update_analytics++;
          throw new PermanentError('the analytics store refuses this order');
        },
      },
    };
    const first = await producer.publish('order_placed', { orderId: 'o-1' }, { eventId: 'o-1' });
    expect(first.targets.map((t) => [t.type, t.ok, t.idempotencyKey])).toEqual([
      ['send_receipt', true, 'o-1:send_receipt'],
      ['update_analytics', true, 'o-1:update_analytics'],
    ]);
    await producer.publish('order_placed', { orderId: 'o-1' }, { eventId: 'o-1' });
    // An SQS duplicate: the same message delivered again.
    const receiptsUrl = laneOf(system, 'receipts').queueUrl;
    const [one] = await receive(clients.sqs, receiptsUrl, 1, 1);
    await clients.sqs.send(new SendMessageCommand({ QueueUrl: receiptsUrl, MessageBody: one!.Body!, MessageAttributes: one!.MessageAttributes }));
    await sleep(50);

    const receipts = laneConsumer(system, 'receipts', tasks);
    const analytics = laneConsumer(system, 'analytics', tasks);
    for (let i = 0; i < 6; i++) {
      await analytics();
      await receipts();
    }
    expect(ran).toEqual({ send_receipt: 1, update_analytics: 1 });
    const table = system.outputs.TableName!;
    expect(await taskRecord(clients.dynamo, table, 'o-1:send_receipt')).toMatchObject({ status: 'SUCCEEDED', attempts: 1 });
    expect(await taskRecord(clients.dynamo, table, 'o-1:update_analytics')).toMatchObject({ status: 'DEAD_LETTERED' });
    const dead = await receive(clients.sqs, laneOf(system, 'analytics').deadLetterQueueUrl, 10, 1);
    expect(dead).toHaveLength(1);
    expect(dead[0]!.MessageAttributes?.[DEAD_LETTER_ATTRIBUTES.reason]?.StringValue).toBe('permanent-error');
    expect(dead[0]!.MessageAttributes?.[DEAD_LETTER_ATTRIBUTES.lastError]?.StringValue).toContain('the analytics store refuses this order');
    expect(await receive(clients.sqs, laneOf(system, 'receipts').deadLetterQueueUrl, 10, 0)).toEqual([]);
  }, 180_000);
});

