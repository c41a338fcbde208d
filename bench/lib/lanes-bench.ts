/**
 * Section 7: lanes as priorities. A critical task stream's latency (send → handler done) is
 * measured three ways, on the emulators with the real runtime (defineTasks, lease mode) behind
 * the benchmark's event source mapping stand-in (esm.ts):
 *
 * - idle: the critical lane alone;
 * - lanes, bulk flooded: `bulkTasks` slow bulk tasks wait in the bulk lane (its own queue,
 *   event source capped at `bulkConcurrency` — maxConcurrency), the critical lane has its own
 *   queue and `criticalConcurrency` (its reserved capacity);
 * - one shared queue, bulk flooded: the same tasks and the same total concurrency on one
 *   queue and one event source (no lanes).
 *
 * The ratio flooded p99 / idle p99 of each is the figure: lanes keep it within 2×, a shared
 * queue does not (the critical tasks wait behind the flood).
 */
import { performance } from 'node:perf_hooks';
import { PurgeQueueCommand, SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { TaskProducer } from '../../lib/client/task-producer.ts';
import { RoutingTableReader } from '../../lib/client/routing.ts';
import { DEFAULT_LANE, ROUTING_ATTRIBUTE, ROUTING_ITEM_KEY } from '../../lib/protocol/lanes.ts';
import { TABLE_SCHEMA } from '../../lib/protocol/resources.ts';
import { encodeEnvelope } from '../../lib/protocol/envelope.ts';
import { newTaskId } from '../../lib/protocol/ids.ts';
import { MESSAGE_ATTRIBUTES } from '../../lib/protocol/attributes.ts';
import { defineTasks } from '../../lib/runtime/index.ts';
import { createResources, makeClients, type Clients, type Endpoints, type Resources } from './env.ts';
import { EventSourceMappingSim } from './esm.ts';
import { Meter } from './meter.ts';

export interface LanesSettings {
  readonly bulkTasks: number;
  /** The slow bulk handler's time per task, ms. */
  readonly bulkHandlerMs: number;
  readonly criticalTasks: number;
  /** Gap between two critical sends, ms. */
  readonly criticalIntervalMs: number;
  readonly criticalConcurrency: number;
  readonly bulkConcurrency: number;
  /** Sends measured with and without routing. */
  readonly routingSends: number;
}

export interface LatencyStats {
  readonly tasks: number;
  readonly completed: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

export interface LanesResult {
  readonly settings: LanesSettings;
  readonly idle: LatencyStats;
  readonly lanesFlooded: LatencyStats & { readonly bulkDoneDuringRun: number };
  readonly sharedFlooded: LatencyStats & { readonly bulkDoneDuringRun: number };
  /** lanesFlooded.p99 / idle.p99 — the target is ≤ 2. */
  readonly lanesRatio: number;
  /** sharedFlooded.p99 / idle.p99. */
  readonly sharedRatio: number;
  /** The producer's cost of routing (routing: true) on the emulators: per-send latency with the table cached vs without routing, and the read itself. */
  readonly routing: { readonly sends: number; readonly withoutMs: LatencyStats; readonly cachedMs: LatencyStats; readonly tableReadMs: LatencyStats; readonly tableReads: number };
}

const WARM_UP_TASKS = 10;
const QUEUE = { visibilityTimeoutSeconds: 60, maxReceiveCount: 5 };
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export async function runLanesBench(e: Endpoints, admin: Clients, s: LanesSettings, log: (line: string) => void): Promise<LanesResult> {
  const clients = makeClients(e, undefined, 128);
  try {
    log(`7. lanes: critical p99 idle, then with ${s.bulkTasks} bulk tasks (${s.bulkHandlerMs} ms each) flooding — in lanes, and on one shared queue`);
    const idle = await scenario('idle', false, 0);
    const lanes = await scenario('lanes', true, s.bulkTasks);
    const shared = await scenario('shared', false, s.bulkTasks);
    const routing = await routingCost();
    return {
      routing,
      settings: s,
      idle: idle.stats,
      lanesFlooded: { ...lanes.stats, bulkDoneDuringRun: lanes.bulkDone },
      sharedFlooded: { ...shared.stats, bulkDoneDuringRun: shared.bulkDone },
      lanesRatio: lanes.stats.p99Ms / idle.stats.p99Ms,
      sharedRatio: shared.stats.p99Ms / idle.stats.p99Ms,
    };
  } finally {
    clients.destroy();
  }

  async function scenario(name: string, separateLanes: boolean, bulkTasks: number): Promise<{ stats: LatencyStats; bulkDone: number }> {
    const critical = await createResources(admin, `lanes-${name}-critical`, QUEUE);
    const bulk = separateLanes ? await createResources(admin, `lanes-${name}-bulk`, QUEUE) : critical;
    const sentAt = new Map<string, number>();
    const latencies: number[] = [];
    let bulkDone = 0;
    const tasks = {
      critical: { handler: async (_p: unknown, ctx: { taskId: string }) => void latencies.push(Date.now() - sentAt.get(ctx.taskId)!) },
      bulk: { handler: async () => {
        await sleep(s.bulkHandlerMs);
        bulkDone++;
      } },
    };
    // One runtime per queue, configured for it (the table is the critical resources').
    const handlerFor = (r: Resources) => () => defineTasks(tasks, { clients, tableName: critical.tableName, queueUrl: r.queueUrl, deadLetterQueueUrl: r.deadLetterQueueUrl, logger: { debug() {}, info() {}, warn() {}, error() {} }, metrics: { flush() {} } });
    const meter = new Meter(`lanes-${name}`);
    const esms = separateLanes
      ? [
          new EventSourceMappingSim({ sqs: clients.sqs, queueUrl: critical.queueUrl, queueArn: critical.queueArn, region: e.region, handlerFor: handlerFor(critical), concurrency: s.criticalConcurrency, memoryMb: 256, timeoutSeconds: 30, meter }),
          new EventSourceMappingSim({ sqs: clients.sqs, queueUrl: bulk.queueUrl, queueArn: bulk.queueArn, region: e.region, handlerFor: handlerFor(bulk), concurrency: s.bulkConcurrency, memoryMb: 256, timeoutSeconds: 30, meter }),
        ]
      : [new EventSourceMappingSim({ sqs: clients.sqs, queueUrl: critical.queueUrl, queueArn: critical.queueArn, region: e.region, handlerFor: handlerFor(critical), concurrency: s.criticalConcurrency + s.bulkConcurrency, memoryMb: 256, timeoutSeconds: 30, meter })];
    for (const esm of esms) esm.start();
    try {
      // Warm-up (first calls, connections), not measured: a few critical tasks through the empty queues.
      for (let i = 0; i < WARM_UP_TASKS; i++) {
        const id = newTaskId();
        sentAt.set(id, Date.now());
        await send(critical.queueUrl, [{ id, type: 'critical' }]);
      }
      const warmDeadline = Date.now() + 60_000;
      while (latencies.length < WARM_UP_TASKS && Date.now() < warmDeadline) await sleep(20);
      latencies.length = 0;
      if (bulkTasks > 0) await sendBulk(bulk.queueUrl, bulkTasks);
      for (let i = 0; i < s.criticalTasks; i++) {
        const id = newTaskId();
        sentAt.set(id, Date.now());
        await send(critical.queueUrl, [{ id, type: 'critical' }]);
        await sleep(s.criticalIntervalMs);
      }
      // Wait for the critical tasks: a shared queue first works through the flood ahead of them.
      const deadline = Date.now() + 300_000;
      while (latencies.length < s.criticalTasks && Date.now() < deadline) await sleep(50);
    } finally {
      for (const esm of esms) await esm.stop();
    }
    const doneDuringRun = bulkDone;
    for (const r of separateLanes ? [critical, bulk] : [critical]) await admin.sqs.send(new PurgeQueueCommand({ QueueUrl: r.queueUrl })).catch(() => {});
    log(`   ${name}: critical p50 ${percentile(latencies, 0.5).toFixed(0)} ms, p99 ${percentile(latencies, 0.99).toFixed(0)} ms over ${latencies.length}/${s.criticalTasks}; bulk done meanwhile ${doneDuringRun}`);
    return { stats: stats(latencies, s.criticalTasks), bulkDone: doneDuringRun };
  }

  /** Sends with and without routing (interleaved), and the routing table read alone (a producer per read: nothing cached). */
  async function routingCost(): Promise<LanesResult['routing']> {
    const r = await createResources(admin, 'lanes-routing', QUEUE);
    await admin.dynamo.send(
      new PutItemCommand({
        TableName: r.tableName,
        Item: { [TABLE_SCHEMA.partitionKey]: { S: ROUTING_ITEM_KEY }, [ROUTING_ATTRIBUTE]: { S: JSON.stringify({ lanes: { [DEFAULT_LANE]: r.queueUrl }, types: {}, fanOut: {} }) } },
      }),
    );
    const plain = new TaskProducer({ queueUrl: r.queueUrl, sqs: clients.sqs });
    const routed = new TaskProducer({ queueUrl: r.queueUrl, tableName: r.tableName, routing: true, sqs: clients.sqs, dynamo: clients.dynamo });
    await routed.send('warm', {});
    await plain.send('warm', {});
    const without: number[] = [];
    const cached: number[] = [];
    const reads: number[] = [];
    for (let i = 0; i < s.routingSends; i++) {
      let t = performance.now();
      await plain.send('t', {});
      without.push(performance.now() - t);
      t = performance.now();
      await routed.send('t', {});
      cached.push(performance.now() - t);
    }
    for (let i = 0; i < Math.min(50, s.routingSends); i++) {
      const reader = new RoutingTableReader(async () => clients.dynamo, r.tableName, 60_000, Date.now);
      const t = performance.now();
      await reader.table();
      reads.push(performance.now() - t);
    }
    await admin.sqs.send(new PurgeQueueCommand({ QueueUrl: r.queueUrl })).catch(() => {});
    log(`   routing: send p50 ${percentile(without, 0.5).toFixed(1)} ms without, ${percentile(cached, 0.5).toFixed(1)} ms with the table cached; a table read p50 ${percentile(reads, 0.5).toFixed(1)} ms`);
    return { sends: s.routingSends, withoutMs: stats(without, without.length), cachedMs: stats(cached, cached.length), tableReadMs: stats(reads, reads.length), tableReads: reads.length };
  }

  async function sendBulk(queueUrl: string, n: number): Promise<void> {
    const batches: { id: string; type: string }[][] = [];
    for (let i = 0; i < n; i += 10) batches.push(Array.from({ length: Math.min(10, n - i) }, () => ({ id: newTaskId(), type: 'bulk' })));
    for (let i = 0; i < batches.length; i += 16) await Promise.all(batches.slice(i, i + 16).map((b) => send(queueUrl, b)));
  }

  async function send(queueUrl: string, tasks: { id: string; type: string }[]): Promise<void> {
    const createdAt = new Date().toISOString();
    await clients.sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: tasks.map((t, i) => ({
          Id: String(i),
          MessageBody: encodeEnvelope({ v: 1, id: t.id, type: t.type, payload: {}, createdAt }),
          MessageAttributes: { [MESSAGE_ATTRIBUTES.taskType]: { DataType: 'String', StringValue: t.type } },
        })),
      }),
    );
  }
}

function percentile(values: readonly number[], q: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
}

function stats(latencies: readonly number[], tasks: number): LatencyStats {
  return { tasks, completed: latencies.length, p50Ms: percentile(latencies, 0.5), p99Ms: percentile(latencies, 0.99), maxMs: latencies.length ? Math.max(...latencies) : NaN };
}
