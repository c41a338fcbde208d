/**
 * `npm run bench:flow` — the flow-control figures (docs/FLOW-CONTROL.md), on the local
 * emulators: the same workload drained by four concurrent consumers, side by side, with and
 * without a rate limit (accuracy over a minute, write units and receives per task) and with
 * and without a concurrency limit (peak overlap, write units per task).
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

const started = Date.now();
const loadBefore = loadavg();
const e = await startEmulatorHost();
try {
  const admin = makeClients(e, undefined);
  log('rate limit: same workload without and with the limit');
  const rate = [await rateRun(admin, e, false), await rateRun(admin, e, true)];
  log('concurrency limit: same workload without and with the limit');
  const concurrency = [await concurrencyRun(admin, e, false), await concurrencyRun(admin, e, true)];
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
