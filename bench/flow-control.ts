/**
 * `npm run bench:flow` — the flow-control figures (docs/FLOW-CONTROL.md), on the local
 * emulators: the same workload drained by four concurrent consumers, side by side, with and
 * without a rate limit (accuracy over a minute, write units and receives per task) and with
 * and without a concurrency limit (peak overlap, write units per task), and a quiet tenant's
 * latency beside a flooding one, without and with tenant ids (fair queues).
 * Writes bench/FLOW-CONTROL.md and bench/flow-control.json (with --quick: smaller, to stdout only).
 */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { ReceiveMessageCommand, DeleteMessageCommand, SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import type { SQSEvent, SQSRecord, Context } from 'aws-lambda';
import { defineTasks, type TaskDefinitions } from '../lib/runtime/index.ts';
import { encodeEnvelope } from '../lib/protocol/envelope.ts';
import { newTaskId } from '../lib/protocol/ids.ts';
import { MESSAGE_ATTRIBUTES } from '../lib/protocol/attributes.ts';
import { createResources, makeClients, startEmulatorHost, type Clients, type Resources } from './lib/env.ts';

const quick = process.argv.includes('--quick');
const log = (line: string) => process.stderr.write(line + '\n');
const CONSUMERS = 4;
const RATE = 10;
const RATE_TASKS = quick ? 100 : RATE * 60 + 1; // a minute at the limit
const CONCURRENCY_TASKS = quick ? 40 : 120;
const CONCURRENCY_MAX = 3;
/** Fairness: the flooding tenant's backlog, the quiet tenant's tasks and their spacing, each task's work. */
const FAIR_FLOOD = quick ? 1000 : 3000;
const FAIR_QUIET_TASKS = quick ? 30 : 100;
const FAIR_QUIET_EVERY_MS = 100;
const FAIR_WORK_MS = 200;

interface Counters {
  receives: number;
  received: number;
  flowWrites: number;
}

function countCalls(clients: Clients, counters: Counters): void {
  clients.dynamo.middlewareStack.add(
    (next: (args: any) => Promise<any>) => async (args: any) => {
      if (String(args.input?.Key?.pk?.S ?? '').startsWith('\u001fflow:')) counters.flowWrites++;
      return next(args);
    },
    { step: 'initialize', name: 'flow-writes' } as never,
  );
}

async function enqueue(clients: Clients, r: Resources, type: string, n: number): Promise<void> {
  for (let i = 0; i < n; i += 10) {
    const entries = Array.from({ length: Math.min(10, n - i) }, (_, k) => ({
      Id: String(k),
      MessageBody: encodeEnvelope({ v: 1, id: newTaskId(), type, payload: { n: i + k }, createdAt: new Date().toISOString() }),
      MessageAttributes: { [MESSAGE_ATTRIBUTES.taskType]: { DataType: 'String', StringValue: type } },
    }));
    await clients.sqs.send(new SendMessageBatchCommand({ QueueUrl: r.queueUrl, Entries: entries }));
  }
}

function record(m: { MessageId?: string; ReceiptHandle?: string; Body?: string; Attributes?: Record<string, string>; MessageAttributes?: Record<string, { DataType?: string; StringValue?: string }> }, r: Resources): SQSRecord {
  const messageAttributes: SQSRecord['messageAttributes'] = {};
  for (const [name, a] of Object.entries(m.MessageAttributes ?? {})) messageAttributes[name] = { dataType: a.DataType!, stringValue: a.StringValue, stringListValues: [], binaryListValues: [] };
  return {
    messageId: m.MessageId!,
    receiptHandle: m.ReceiptHandle!,
    body: m.Body ?? '',
    attributes: {
      ApproximateReceiveCount: m.Attributes?.ApproximateReceiveCount ?? '1',
      SentTimestamp: m.Attributes?.SentTimestamp ?? String(Date.now()),
      SenderId: 'bench',
      ApproximateFirstReceiveTimestamp: String(Date.now()),
    },
    messageAttributes,
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: r.queueArn,
    awsRegion: 'us-east-1',
  };
}

function context(ms: number): Context {
  const deadline = Date.now() + ms;
  return { getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()) } as Context;
}

/** Four consumers, each receive → handler → delete, until `done` or nothing came for 10 s. */
async function drain(clients: Clients, r: Resources, tasks: TaskDefinitions, counters: Counters, done: () => boolean): Promise<void> {
  const handlers = Array.from({ length: CONSUMERS }, () =>
    defineTasks(tasks, {
      clients,
      tableName: r.tableName,
      queueUrl: r.queueUrl,
      deadLetterQueueUrl: r.deadLetterQueueUrl,
      maxReceiveCount: 1000,
      logger: { debug() {}, info() {}, warn() {}, error() {} },
      metrics: { flush() {} },
      backoff: { baseSeconds: 1, capSeconds: 4, jitter: 'equal' },
    }),
  );
  let lastWork = Date.now();
  await Promise.all(
    handlers.map(async (handler) => {
      while (!done() && Date.now() - lastWork < 10_000) {
        const out = await clients.sqs.send(
          new ReceiveMessageCommand({ QueueUrl: r.queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, MessageAttributeNames: ['All'], MessageSystemAttributeNames: ['All'] }),
        );
        counters.receives++;
        const messages = out.Messages ?? [];
        if (messages.length === 0) continue;
        counters.received += messages.length;
        lastWork = Date.now();
        const event: SQSEvent = { Records: messages.map((m) => record(m, r)) };
        const response = await handler(event, context(60_000));
        const failed = new Set(response.batchItemFailures.map((f) => f.itemIdentifier));
        await Promise.all(event.Records.filter((x) => !failed.has(x.messageId)).map((x) => clients.sqs.send(new DeleteMessageCommand({ QueueUrl: r.queueUrl, ReceiptHandle: x.receiptHandle }))));
        lastWork = Date.now();
      }
    }),
  );
}

interface RateRow {
  readonly label: string;
  readonly tasks: number;
  readonly spanSeconds: number;
  readonly achievedPerSecond: number;
  readonly peakInOneSecond: number;
  readonly flowWritesPerTask: number;
  readonly receivesPerTask: number;
}

function peak(starts: number[], windowMs: number): number {
  const s = [...starts].sort((a, b) => a - b);
  let best = 0;
  for (let i = 0, j = 0; i < s.length; i++) {
    while (s[i]! - s[j]! >= windowMs) j++;
    best = Math.max(best, i - j + 1);
  }
  return best;
}

async function rateRun(admin: Clients, e: Parameters<typeof makeClients>[0], limited: boolean): Promise<RateRow> {
  const r = await createResources(admin, limited ? 'flow-rate' : 'flow-free', { visibilityTimeoutSeconds: 60, maxReceiveCount: 1000 });
  const clients = makeClients(e, undefined);
  const counters: Counters = { receives: 0, received: 0, flowWrites: 0 };
  countCalls(clients, counters);
  const starts: number[] = [];
  const tasks: TaskDefinitions = {
    call_api: { idempotency: 'lease', ...(limited ? { rateLimit: { perSecond: RATE, burst: 1 } } : {}), handler: () => void starts.push(Date.now()) },
  };
  await enqueue(admin, r, 'call_api', RATE_TASKS);
  await drain(clients, r, tasks, counters, () => starts.length >= RATE_TASKS);
  const sorted = [...starts].sort((a, b) => a - b);
  const span = (sorted.at(-1)! - sorted[0]!) / 1000;
  return {
    label: limited ? `rateLimit ${RATE}/s, burst 1` : 'no limit',
    tasks: starts.length,
    spanSeconds: Math.round(span * 10) / 10,
    achievedPerSecond: Math.round(((starts.length - 1) / span) * 100) / 100,
    peakInOneSecond: peak(starts, 1000),
    flowWritesPerTask: Math.round((counters.flowWrites / starts.length) * 100) / 100,
    receivesPerTask: Math.round((counters.received / starts.length) * 100) / 100,
  };
}

interface ConcurrencyRow {
  readonly label: string;
  readonly tasks: number;
  readonly peakOverlap: number;
  readonly seconds: number;
  readonly flowWritesPerTask: number;
  readonly receivesPerTask: number;
}

async function concurrencyRun(admin: Clients, e: Parameters<typeof makeClients>[0], limited: boolean): Promise<ConcurrencyRow> {
  const r = await createResources(admin, limited ? 'flow-conc' : 'flow-conc-free', { visibilityTimeoutSeconds: 60, maxReceiveCount: 1000 });
  const clients = makeClients(e, undefined);
  const counters: Counters = { receives: 0, received: 0, flowWrites: 0 };
  countCalls(clients, counters);
  let running = 0;
  let peakOverlap = 0;
  let finished = 0;
  const tasks: TaskDefinitions = {
    export_report: {
      ...(limited ? { concurrency: { max: CONCURRENCY_MAX } } : {}),
      handler: async () => {
        running++;
        peakOverlap = Math.max(peakOverlap, running);
        await new Promise((resolve) => setTimeout(resolve, 200));
        running--;
        finished++;
      },
    },
  };
  await enqueue(admin, r, 'export_report', CONCURRENCY_TASKS);
  const started = Date.now();
  await drain(clients, r, tasks, counters, () => finished >= CONCURRENCY_TASKS);
  return {
    label: limited ? `concurrency max ${CONCURRENCY_MAX}` : 'no limit',
    tasks: finished,
    peakOverlap,
    seconds: Math.round((Date.now() - started) / 100) / 10,
    flowWritesPerTask: Math.round((counters.flowWrites / finished) * 100) / 100,
    receivesPerTask: Math.round((counters.received / finished) * 100) / 100,
  };
}

interface FairnessRow {
  readonly label: string;
  /** Tasks of the flooding tenant sent at the start. */
  readonly flood: number;
  readonly quietTasks: number;
  /** The quiet tenant's latency, send → its task finished, ms. */
  readonly quietP50Ms: number;
  readonly quietP99Ms: number;
}

function percentile(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
}

/**
 * One tenant floods the queue while a quiet tenant sends a task every QUIET_EVERY_MS; the quiet
 * tenant's latency is measured to its task's end. `idle`: the quiet tenant alone. The flood runs
 * with tenant ids (MessageGroupId: the local fair-queue emulation, lib/local/fair-queues.ts) or without.
 */
async function fairnessRun(admin: Clients, e: Parameters<typeof makeClients>[0], mode: 'idle' | 'flood' | 'flood-tenants'): Promise<FairnessRow> {
  const r = await createResources(admin, `flow-fair-${mode}`, { visibilityTimeoutSeconds: 60, maxReceiveCount: 1000 });
  const clients = makeClients(e, undefined);
  const counters: Counters = { receives: 0, received: 0, flowWrites: 0 };
  const latencies: number[] = [];
  const tasks: TaskDefinitions = {
    render: {
      idempotency: 'lease',
      handler: async (p: { sentAt?: number }) => {
        // Work that varies, as real tasks' does (it also keeps the consumers from receiving in lockstep).
        await new Promise((resolve) => setTimeout(resolve, FAIR_WORK_MS * (0.5 + Math.random())));
        if (p.sentAt !== undefined) latencies.push(Date.now() - p.sentAt);
      },
    },
  };
  const tenants = mode === 'flood-tenants';
  const send = (entries: { payload: unknown; group: string }[]) =>
    clients.sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: r.queueUrl,
        Entries: entries.map((x, k) => ({
          Id: String(k),
          MessageBody: encodeEnvelope({ v: 1, id: newTaskId(), type: 'render', payload: x.payload, createdAt: new Date().toISOString() }),
          MessageAttributes: { [MESSAGE_ATTRIBUTES.taskType]: { DataType: 'String', StringValue: 'render' } },
          ...(tenants ? { MessageGroupId: x.group } : {}),
        })),
      }),
    );
  const flood = mode === 'idle' ? 0 : FAIR_FLOOD;
  const floodSent = (async () => {
    for (let i = 0; i < flood; i += 10) await send(Array.from({ length: Math.min(10, flood - i) }, () => ({ payload: {}, group: 'noisy-tenant' })));
  })();
  const quietSent = (async () => {
    // Let the flood build a backlog first (it is sent in well under this time).
    if (flood > 0) await floodSent;
    for (let i = 0; i < FAIR_QUIET_TASKS; i++) {
      await send([{ payload: { sentAt: Date.now() }, group: 'quiet-tenant' }]);
      await new Promise((resolve) => setTimeout(resolve, FAIR_QUIET_EVERY_MS));
    }
  })();
  await drain(clients, r, tasks, counters, () => latencies.length >= FAIR_QUIET_TASKS);
  await Promise.all([floodSent, quietSent]);
  return {
    label: mode === 'idle' ? 'quiet tenant alone (idle)' : mode === 'flood' ? 'flood, no tenant ids' : 'flood, tenant ids (fair queue)',
    flood,
    quietTasks: latencies.length,
    quietP50Ms: percentile(latencies, 50),
    quietP99Ms: percentile(latencies, 99),
  };
}

const started = Date.now();
const loadBefore = loadavg();
const e = await startEmulatorHost();
try {
  const admin = makeClients(e, undefined);
  // Development aid: one section alone, printed (nothing written).
  const only = process.env.TASKQ_BENCH_FLOW_ONLY;
  if (only === 'fairness' || only === 'rate') {
    const rows = only === 'rate' ? [await rateRun(admin, e, true)] : [await fairnessRun(admin, e, 'flood'), await fairnessRun(admin, e, 'flood-tenants'), await fairnessRun(admin, e, 'idle')];
    log(JSON.stringify(rows, null, 2));
    process.exit(0);
  }
  log('rate limit: same workload without and with the limit');
  const rate = [await rateRun(admin, e, false), await rateRun(admin, e, true)];
  log('concurrency limit: same workload without and with the limit');
  const concurrency = [await concurrencyRun(admin, e, false), await concurrencyRun(admin, e, true)];
  log('fairness: a quiet tenant alone, then beside a flood without and with tenant ids');
  // The idle run last: warm by then, its p99 (the anchor) is not inflated by a cold start.
  const [flooded, fair, idle] = [await fairnessRun(admin, e, 'flood'), await fairnessRun(admin, e, 'flood-tenants'), await fairnessRun(admin, e, 'idle')];
  const fairness = [idle, flooded, fair];
  const idleP99 = fairness[0]!.quietP99Ms;
  const fairnessRatios = { withoutTenantIds: Math.round((fairness[1]!.quietP99Ms / idleP99) * 100) / 100, withTenantIds: Math.round((fairness[2]!.quietP99Ms / idleP99) * 100) / 100 };
  const limitedRate = rate[1]!;
  const accuracy = limitedRate.achievedPerSecond / RATE;
  const results = {
    generatedAt: new Date().toISOString(),
    mode: quick ? 'quick' : 'full',
    node: process.version,
    cpus: cpus().length,
    loadAverage: { start: loadBefore, end: loadavg() },
    dynamoEngine: e.dynamoEngine,
    consumers: CONSUMERS,
    rate,
    rateAccuracy: Math.round(accuracy * 1000) / 1000,
    rateWithin10Percent: Math.abs(1 - accuracy) <= 0.1,
    concurrency,
    fairness,
    fairnessRatios,
    fairWithin2x: fairnessRatios.withTenantIds <= 2,
    seconds: Math.round((Date.now() - started) / 1000),
  };
  const md = [
    '# Flow-control benchmark',
    '',
    `Generated by \`npm run bench:flow\` on ${results.generatedAt} in ${results.seconds} s — ${results.mode} mode, Node.js ${results.node}, ${results.cpus} CPUs, load average ${loadBefore.map((x) => x.toFixed(1)).join(' / ')} at start, DynamoDB emulator: ${results.dynamoEngine}.`,
    `${CONSUMERS} consumers drain one queue concurrently (receive 10, run, delete), on the local emulators. Raw data: \`bench/flow-control.json\`.`,
    '',
    '## Rate limit: the same workload with and without it',
    '',
    '| run | tasks | span, s | achieved tasks/s | most starts in any 1 s | flow writes per task | receives per task |',
    '|---|---|---|---|---|---|---|',
    ...rate.map((x) => `| ${x.label} | ${x.tasks} | ${x.spanSeconds} | ${x.achievedPerSecond} | ${x.peakInOneSecond} | ${x.flowWritesPerTask} | ${x.receivesPerTask} |`),
    '',
    `Achieved rate / limit: **${results.rateAccuracy}** (${results.rateWithin10Percent ? 'within' : 'outside'} 10 %).`,
    '',
    '## Concurrency limit: the same workload with and without it',
    '',
    '| run | tasks | peak handlers at once | seconds | flow writes per task | receives per task |',
    '|---|---|---|---|---|---|',
    ...concurrency.map((x) => `| ${x.label} | ${x.tasks} | ${x.peakOverlap} | ${x.seconds} | ${x.flowWritesPerTask} | ${x.receivesPerTask} |`),
    '',
    '## Fairness: a quiet tenant beside a flooding one',
    '',
    `One tenant sends ${FAIR_FLOOD} tasks at once; then a quiet tenant sends ${FAIR_QUIET_TASKS}, one every ${FAIR_QUIET_EVERY_MS} ms (each task works ${FAIR_WORK_MS / 2}–${(FAIR_WORK_MS * 3) / 2} ms, uniformly). Latency: from the quiet task's send to its end. With tenant ids the messages carry a MessageGroupId, and local mode serves them as an SQS fair queue would (lib/local/fair-queues.ts; docs/FLOW-CONTROL.md says what is reproduced).`,
    '',
    '| run | flood | quiet tasks | quiet p50, ms | quiet p99, ms | p99 / idle p99 |',
    '|---|---|---|---|---|---|',
    ...fairness.map((x) => `| ${x.label} | ${x.flood} | ${x.quietTasks} | ${x.quietP50Ms} | ${x.quietP99Ms} | ${Math.round((x.quietP99Ms / idleP99) * 100) / 100}× |`),
    '',
    `The quiet tenant's p99 beside the flood: **${fairnessRatios.withTenantIds}×** its idle value with tenant ids (${results.fairWithin2x ? 'within' : 'not within'} 2×), **${fairnessRatios.withoutTenantIds}×** without.`,
    '',
  ].join('\n');
  if (quick) process.stdout.write(md + '\n');
  else {
    writeFileSync(fileURLToPath(new URL('./FLOW-CONTROL.md', import.meta.url)), md);
    writeFileSync(fileURLToPath(new URL('./flow-control.json', import.meta.url)), JSON.stringify(results, null, 2) + '\n');
    log(md);
  }
} finally {
  await e.stop();
}
