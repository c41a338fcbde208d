/**
 * What the opt-in recent-tasks index (`recentTasksIndex`) costs, measured: the real consumer
 * runtime processes tasks against a task table with the index (as the construct creates it)
 * on DynamoDB Local, and every write it makes asks for its consumed capacity per index
 * (ReturnConsumedCapacity INDEXES). DynamoDB charges a GSI write for every base-table write
 * that touches its keys or projected attributes — 2 when the key changes (delete + put).
 * DynamoDB Local reports the capacity of every write but the PartiQL batch of first-delivery
 * acquires; those are counted by DynamoDB's rule (see meteredDynamo).
 * The figures in docs/CONSOLE.md ("Recent tasks") are these; the test fails when they move.
 */
import { DynamoDBClient, type ConsumedCapacity } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { RetryableError } from '../../../lib/protocol/errors.ts';
import { LOCAL_CREDENTIALS } from '../../../lib/local/emulators.ts';
import { RECENT_TASKS_INDEX } from '../../../lib/protocol/resources.ts';
import { createTestResources, emulatorEndpoints, testClients } from '../../support/aws.ts';
import { createTableWithRecentTasksIndex } from './helpers.ts';
import { enforceIam } from '../../support/iam/enforcement.ts';
import { registerResources } from '../../support/iam/resource-roles.ts';
import { consumer, envelope, fakeContext, invokeLikeLambda, receiveEvent, sendTask, sleep, taskRecord } from '../runtime/helpers.ts';

interface Meter {
  table: number;
  index: number;
  /** Index units counted by DynamoDB's rule where DynamoDB Local reports none. */
  byRule: number;
}

/** A DynamoDB client that asks every write for its consumed capacity and adds it up. */
function meteredDynamo(meter: Meter): DynamoDBClient {
  const e = emulatorEndpoints();
  const client = enforceIam(new DynamoDBClient({ region: e.region, credentials: LOCAL_CREDENTIALS, endpoint: e.dynamoEndpoint }));
  // Every command the runtime writes with (PartiQL batches included); reads are not counted.
  const writes = new Set(['PutItemCommand', 'UpdateItemCommand', 'DeleteItemCommand', 'TransactWriteItemsCommand', 'BatchWriteItemCommand', 'ExecuteStatementCommand', 'BatchExecuteStatementCommand']);
  type Next = (args: { input: Record<string, unknown> }) => Promise<{ output: { ConsumedCapacity?: ConsumedCapacity | ConsumedCapacity[] } }>;
  const middleware = (next: Next, context: { commandName: string }) => async (args: { input: Record<string, unknown> }) => {
    if (!writes.has(context.commandName)) return next(args);
    const result = await next({ ...args, input: { ...args.input, ReturnConsumedCapacity: 'INDEXES' } });
    if (context.commandName === 'BatchExecuteStatementCommand' && result.output.ConsumedCapacity === undefined) {
      // DynamoDB Local reports no capacity for PartiQL batches: the runtime's first-delivery
      // acquire, one UPDATE per task that creates its item (≤ 1 KB). By DynamoDB's rules that is
      // 1 table write unit and 1 index write unit (a new index entry) per statement.
      const statements = (args.input.Statements as unknown[] | undefined)?.length ?? 0;
      meter.table += statements;
      meter.index += statements;
      meter.byRule += statements;
    }
    for (const c of [result.output.ConsumedCapacity ?? []].flat()) {
      meter.table += c.Table?.WriteCapacityUnits ?? c.Table?.CapacityUnits ?? 0;
      const index = c.GlobalSecondaryIndexes?.[RECENT_TASKS_INDEX.indexName];
      meter.index += index?.WriteCapacityUnits ?? index?.CapacityUnits ?? 0;
    }
    return result;
  };
  client.middlewareStack.add(middleware as never, { step: 'initialize', name: 'meter-consumed-capacity' });
  return client;
}

/** Fresh queues and a task table with the index; the consumer's writes metered. */
async function meteredResources() {
  const clients = testClients();
  const base = await createTestResources(clients);
  const meter: Meter = { table: 0, index: 0, byRule: 0 };
  const r = { ...base, tableName: await createTableWithRecentTasksIndex(clients.dynamo) };
  registerResources({ tableName: r.tableName });
  return { clients, r, meter, consumerClients: { ...clients, dynamo: meteredDynamo(meter) } };
}

describe('recentTasksIndex: write cost, measured with the real consumer', () => {
  it('a task that succeeds at its first attempt: 2 table writes, 3 index writes (≈ 3 million index write units per million tasks)', async () => {
    const { clients, r, meter, consumerClients } = await meteredResources();
    const { handler } = consumer(r, consumerClients, { greet: { handler: async (p: { name: string }) => ({ hello: p.name }) } });
    const tasks = 10;
    const sent = [];
    for (let n = 0; n < tasks; n++) sent.push(await sendTask(clients.sqs, r.queueUrl, envelope('greet', { name: `n${n}` })));
    let done = 0;
    while (done < tasks) {
      const event = await receiveEvent(clients.sqs, r);
      await invokeLikeLambda(clients.sqs, r.queueUrl, handler, event);
      done += event.Records.length;
    }
    expect(meter.table / tasks).toBe(2);
    expect(meter.index / tasks).toBe(3);
    expect(meter.byRule / tasks).toBe(1);
  });

  it('a task that fails once, then succeeds: 4 table writes, 7 index writes', async () => {
    const { clients, r, meter, consumerClients } = await meteredResources();
    const failed = new Set<string>();
    const { handler } = consumer(r, consumerClients, {
      flaky: {
        handler: async (p: { id: string }) => {
          if (!failed.has(p.id)) {
            failed.add(p.id);
            throw new RetryableError('not yet', 1);
          }
          return { ok: true };
        },
      },
    });
    const e = envelope('flaky', { id: 'a' });
    await sendTask(clients.sqs, r.queueUrl, e);
    for (let attempt = 0; attempt < 20; attempt++) {
      const event = await receiveEvent(clients.sqs, r);
      if (event.Records.length > 0) await invokeLikeLambda(clients.sqs, r.queueUrl, handler, event, fakeContext());
      if ((await taskRecord(clients.dynamo, r.tableName, e.id))?.status === 'SUCCEEDED') break;
      await sleep(300);
    }
    expect((await taskRecord(clients.dynamo, r.tableName, e.id))?.status).toBe('SUCCEEDED');
    expect({ table: meter.table, index: meter.index }).toEqual({ table: 4, index: 7 });
  });
});
