/**
 * Section 2: throughput, latency and CPU per task, (a) vs (c), with a handler that does no
 * work, the same batch size (10) and concurrency, in interleaved rounds.
 *
 * Per pipeline and round, on fresh resources:
 * 1. drain: `drainTasks` 1 KB tasks are enqueued, then `concurrency` pollers drain them —
 *    tasks/s, and the process CPU per task over the drain (handlers + the pollers' own SQS
 *    calls, the same code for both pipelines; the emulators run in another process);
 * 2. latency: tasks are produced at a fixed pace (`paceTasksPerSecond`, in batches of 10)
 *    while the consumer runs; latency = the invocation's end − the envelope's createdAt;
 * 3. handler CPU: `cpuTasks` tasks are received into batches first, then the handler is
 *    invoked on them one batch at a time with nothing else running in the process, so
 *    process.cpuUsage() around each invocation is the handler's own CPU (runtime + SDK calls).
 */
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import { Ledger } from './ledger.ts';
import { Meter } from './meter.ts';
import { createResources, makeClients, sleep, type Clients, type Endpoints } from './env.ts';
import { consumerHandler, makeConsumer, produce, type PipelineId } from './pipelines.ts';
import { lambdaContext, toRecord, type InvocationReport } from './esm.ts';
import { makeUniformWorkload } from './workload.ts';

export interface ThroughputSettings {
  rounds: number;
  drainTasks: number;
  paceTasksPerSecond: number;
  paceSeconds: number;
  cpuTasks: number;
  concurrency: number;
  memoryMb: number;
  timeoutSeconds: number;
  visibilityTimeoutSeconds: number;
}

export interface ThroughputRound {
  id: PipelineId;
  round: number;
  drainTasks: number;
  drainMs: number;
  tasksPerSecond: number;
  /** Process CPU during the drain / tasks, µs. */
  processCpuPerTaskMicros: number;
  latencyTasks: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  /** Handler-only CPU per task (sequential invocations), µs. */
  handlerCpuPerTaskMicros: number;
  /** Handler wall time per batch of 10 (sequential), ms. */
  handlerWallPerBatchMs: number;
}

export async function runThroughput(ids: readonly PipelineId[], e: Endpoints, admin: Clients, s: ThroughputSettings, log: (line: string) => void): Promise<ThroughputRound[]> {
  const rounds: ThroughputRound[] = [];
  for (let round = 0; round < s.rounds; round += 1) {
    // Alternate the order so neither pipeline always runs first (warm-up, load drift).
    const order = round % 2 === 0 ? [...ids] : [...ids].reverse();
    for (const id of order) {
      const r = await oneRound(id, round, e, admin, s);
      rounds.push(r);
      log(`  round ${round + 1} ${id}: ${r.tasksPerSecond.toFixed(0)} tasks/s, p50 ${r.latencyP50Ms.toFixed(0)} ms, p99 ${r.latencyP99Ms.toFixed(0)} ms, handler CPU ${r.handlerCpuPerTaskMicros.toFixed(0)} µs/task`);
    }
  }
  return rounds;
}

async function oneRound(id: PipelineId, round: number, e: Endpoints, admin: Clients, s: ThroughputSettings): Promise<ThroughputRound> {
  const meter = new Meter(`${id}-throughput`);
  const clients = makeClients(e, meter);
  const ledger = new Ledger();
  const consumerSettings = { concurrency: s.concurrency, memoryMb: s.memoryMb, timeoutSeconds: s.timeoutSeconds, visibilityTimeoutSeconds: s.visibilityTimeoutSeconds, waitTimeSeconds: 1, noop: true };
  const q = { visibilityTimeoutSeconds: s.visibilityTimeoutSeconds, maxReceiveCount: 5 };

  // 1. drain
  const r1 = await createResources(admin, `tp${round}`, q);
  const drain = makeUniformWorkload(s.drainTasks, `d${round}${id}`);
  await produce(id, clients, r1, drain.tasks);
  let processed = 0;
  let doneAt = 0;
  const consumer = makeConsumer(id, clients, r1, ledger, meter, {
    ...consumerSettings,
    onInvocation: (rep) => {
      processed += rep.records.length - rep.failed.size;
      if (processed >= s.drainTasks && doneAt === 0) doneAt = performance.now();
    },
  }, e.region);
  const cpu0 = process.cpuUsage();
  const start = performance.now();
  consumer.start();
  while (doneAt === 0 && performance.now() - start < 600_000) await sleep(20);
  const cpu = process.cpuUsage(cpu0);
  const drainMs = (doneAt || performance.now()) - start;
  await consumer.stop();

  // 2. latency at a fixed pace
  const r2 = await createResources(admin, `tl${round}`, q);
  const latencies: number[] = [];
  const consumer2 = makeConsumer(id, clients, r2, ledger, meter, {
    ...consumerSettings,
    onInvocation: (rep: InvocationReport) => {
      for (const rec of rep.records) {
        if (rep.failed.has(rec.messageId)) continue;
        const createdAt = Date.parse((JSON.parse(rec.body) as { createdAt: string }).createdAt);
        latencies.push(rep.endedAt - createdAt);
      }
    },
  }, e.region);
  consumer2.start();
  const paced = makeUniformWorkload(s.paceTasksPerSecond * s.paceSeconds, `l${round}${id}`);
  const batches = Math.ceil(paced.tasks.length / 10);
  const interval = 1000 / (s.paceTasksPerSecond / 10);
  const paceStart = performance.now();
  const sends: Promise<unknown>[] = [];
  for (let b = 0; b < batches; b += 1) {
    const wait = paceStart + b * interval - performance.now();
    if (wait > 0) await sleep(wait);
    sends.push(produce(id, clients, r2, paced.tasks.slice(b * 10, b * 10 + 10)));
  }
  await Promise.all(sends);
  const waitStart = performance.now();
  while (latencies.length < paced.tasks.length && performance.now() - waitStart < 60_000) await sleep(20);
  await consumer2.stop();

  // 3. handler CPU, sequential invocations
  const r3 = await createResources(admin, `tc${round}`, { ...q, visibilityTimeoutSeconds: 600 });
  const cpuWork = makeUniformWorkload(s.cpuTasks, `c${round}${id}`);
  await produce(id, clients, r3, cpuWork.tasks);
  const batchesOfRecords: SQSRecord[][] = [];
  let received = 0;
  while (received < s.cpuTasks) {
    const out = await clients.sqs.send(new ReceiveMessageCommand({ QueueUrl: r3.queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, MessageAttributeNames: ['All'], MessageSystemAttributeNames: ['All'] }));
    const messages = out.Messages ?? [];
    if (messages.length === 0) break;
    batchesOfRecords.push(messages.map((m) => toRecord(m, r3.queueArn, e.region)));
    received += messages.length;
  }
  const handler = consumerHandler(id, clients, r3, ledger, { visibilityTimeoutSeconds: 600, noop: true });
  let cpuMicros = 0;
  let wallMs = 0;
  let records = 0;
  for (const [i, batch] of batchesOfRecords.entries()) {
    const context = lambdaContext('bench-cpu', s.memoryMb, `cpu-${i}`, Date.now() + s.timeoutSeconds * 1000);
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    await handler({ Records: batch }, context);
    const c = process.cpuUsage(c0);
    wallMs += performance.now() - t0;
    cpuMicros += c.user + c.system;
    records += batch.length;
  }
  clients.destroy();

  latencies.sort((a, b) => a - b);
  return {
    id,
    round,
    drainTasks: s.drainTasks,
    drainMs,
    tasksPerSecond: (processed / drainMs) * 1000,
    processCpuPerTaskMicros: (cpu.user + cpu.system) / Math.max(1, processed),
    latencyTasks: latencies.length,
    latencyP50Ms: percentile(latencies, 0.5),
    latencyP99Ms: percentile(latencies, 0.99),
    handlerCpuPerTaskMicros: cpuMicros / Math.max(1, records),
    handlerWallPerBatchMs: wallMs / Math.max(1, batchesOfRecords.length),
  };
}

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}

export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export interface Spread {
  median: number;
  min: number;
  max: number;
  n: number;
}

export function spread(values: readonly number[]): Spread {
  return { median: median(values), min: Math.min(...values), max: Math.max(...values), n: values.length };
}
