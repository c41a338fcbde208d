/**
 * Section 1 (and 5): the seeded workload through one pipeline, every request counted, then
 * priced; plus the floor — the fewest billable requests and write units any design with the
 * same guarantees needs for the same workload.
 */
import { Ledger } from './ledger.ts';
import { Meter, type OpStats } from './meter.ts';
import { createResources, makeClients, queueDepth, scanAll, sleep, type Clients, type Endpoints, type Resources } from './env.ts';
import { makeConsumer, modeOf, produce, sendOrder, type PipelineId, PIPELINES, type ProduceResult } from './pipelines.ts';
import { perMillion, price, quantities, PRICE_TABLE, type CostBreakdown, type Quantities } from './pricing.ts';
import type { Workload, WorkloadTask } from './workload.ts';
import { SQS_BATCH_MAX_ENTRIES, SQS_BILLING_CHUNK_BYTES, SQS_MAX_MESSAGE_BYTES } from '../../lib/protocol/limits.ts';

export interface CostSettings {
  concurrency: number;
  memoryMb: number;
  /** Lifetime of claim objects (the bucket's expiration rule), days: their storage is billed. */
  claimLifetimeDays: number;
  timeoutSeconds: number;
  visibilityTimeoutSeconds: number;
  maxReceiveCount: number;
  waitTimeSeconds: number;
  /** Give up waiting for the pipeline to finish after this long. */
  deadlineMs: number;
}

export interface CostRun {
  id: PipelineId;
  label: string;
  tasks: number;
  messages: number;
  produce: ProduceResult;
  consumeMs: number;
  /** From the consumer's start until the last non-poison task succeeded. */
  allSucceededMs: number;
  /** Every request, per service:operation. */
  ops: Record<string, OpStats>;
  lambda: Meter['lambda'];
  quantities: Quantities;
  cost: CostBreakdown;
  costPerMillion: CostBreakdown;
  checks: {
    completed: boolean;
    /** Non-poison tasks that were sent but whose handler never succeeded. */
    missing: number;
    /** Tasks the producer could not send at all (e.g. > 1 MiB with no claim check). */
    unsendable: number;
    /** Task keys whose handler succeeded more than once. */
    duplicateEffects: number;
    /** Of those, keys the producer sent once: a second effect no duplicate send explains. */
    duplicateEffectsOfSingleSends: number;
    handlerExecutions: number;
    poisonTasks: number;
    /** Messages in the DLQ at the end. */
    deadLettered: number;
    sourceQueueEmpty: boolean;
    /** Task-table items by status (modes lease and record). */
    tableStatuses?: Record<string, number>;
  };
}

export async function runCost(id: PipelineId, workload: Workload, e: Endpoints, admin: Clients, s: CostSettings, prefix: string): Promise<CostRun> {
  const meter = new Meter(id);
  const clients = makeClients(e, meter);
  const r = await createResources(admin, prefix, { visibilityTimeoutSeconds: s.visibilityTimeoutSeconds, maxReceiveCount: s.maxReceiveCount });
  const ledger = new Ledger();
  const messages = sendOrder(workload.tasks);
  const produced = await produce(id, clients, r, messages);

  const consumer = makeConsumer(id, clients, r, ledger, meter, { ...s }, e.region);
  const start = performance.now();
  consumer.start();
  // A task none of whose copies could be sent (a payload > 1 MiB without a claim check) cannot succeed.
  const mustSucceed = workload.tasks.filter((t) => t.behaviour !== 'poison' && !produced.failedKeys.has(t.key));
  let completed = false;
  let emptyStreak = 0;
  let allSucceededMs = NaN;
  while (performance.now() - start < s.deadlineMs) {
    await sleep(250);
    if (!mustSucceed.every((t) => ledger.succeeded(t.key))) continue;
    if (Number.isNaN(allSucceededMs)) allSucceededMs = Math.max(...mustSucceed.map((t) => ledger.firstSuccessAt.get(t.key)!)) - (Date.now() - (performance.now() - start));
    const d = await queueDepth(admin, r.queueUrl);
    emptyStreak = d.visible + d.inFlight + d.delayed === 0 ? emptyStreak + 1 : 0;
    if (emptyStreak >= 2) {
      completed = true;
      break;
    }
  }
  const consumeMs = performance.now() - start - (completed ? 250 : 0);
  await consumer.stop();
  const result = await summarize(id, workload, messages.length, produced, consumeMs, allSucceededMs, meter, ledger, admin, r, s, completed);
  clients.destroy();
  return result;
}

async function summarize(
  id: PipelineId,
  workload: Workload,
  messages: number,
  produced: ProduceResult,
  consumeMs: number,
  allSucceededMs: number,
  meter: Meter,
  ledger: Ledger,
  admin: Clients,
  r: Resources,
  s: CostSettings,
  completed: boolean,
): Promise<CostRun> {
  const q = quantities(meter, s.memoryMb, s.claimLifetimeDays);
  const cost = price(q);
  const dlq = await queueDepth(admin, r.deadLetterQueueUrl);
  const src = await queueDepth(admin, r.queueUrl);
  let tableStatuses: Record<string, number> | undefined;
  const mode = modeOf(id);
  if (mode === 'lease' || mode === 'record') {
    tableStatuses = {};
    for (const item of await scanAll(admin, r.tableName)) {
      const status = item.status?.S ?? '?';
      tableStatuses[status] = (tableStatuses[status] ?? 0) + 1;
    }
  }
  return {
    id,
    label: PIPELINES[id].label,
    tasks: workload.tasks.length,
    messages,
    produce: produced,
    consumeMs,
    allSucceededMs,
    ops: meter.toJSON().ops,
    lambda: { ...meter.lambda },
    quantities: q,
    cost,
    costPerMillion: perMillion(cost, workload.tasks.length),
    checks: {
      completed,
      missing: workload.tasks.filter((t) => t.behaviour !== 'poison' && !produced.failedKeys.has(t.key) && !ledger.succeeded(t.key)).length,
      unsendable: workload.tasks.filter((t) => produced.failedKeys.has(t.key)).length,
      duplicateEffects: ledger.duplicateEffects(),
      duplicateEffectsOfSingleSends: ledger.duplicateEffectKeys().filter((key) => !workload.tasks.find((t) => t.key === key)?.duplicate).length,
      handlerExecutions: ledger.totalExecutions(),
      poisonTasks: workload.tasks.filter((t) => t.behaviour === 'poison').length,
      deadLettered: dlq.visible + dlq.inFlight + dlq.delayed,
      sourceQueueEmpty: src.visible + src.inFlight + src.delayed === 0,
      ...(tableStatuses ? { tableStatuses } : {}),
    },
  };
}

// ───────────────────────────── the floor ─────────────────────────────

export type FloorGuarantee = 'lease' | 'record' | 'off';

export interface Floor {
  guarantee: FloorGuarantee;
  sqsBilledRequests: number;
  lambdaInvocations: number;
  dynamoWru: number;
  dynamoRru: number;
  s3Put: number;
  s3Get: number;
  /** USD per million tasks, Lambda compute (GB-s) excluded: it depends on the handler. */
  usdPerMillionExclCompute: number;
  reasoning: string[];
}

/** Approximate envelope + attribute overhead of one message around its payload, bytes. */
const ENVELOPE_OVERHEAD = 200;

/**
 * The floor for `workload` under `guarantee`, per the reasoning listed in the result.
 * Shares are fractional: a batched request serves up to 10 messages, and SQS bills each
 * 64 KiB of payload, so a task's share of a request is max(1/10, size / 64 KiB).
 */
export function floorOf(workload: Workload, guarantee: FloorGuarantee, claimLifetimeDays: number): Floor {
  const p = PRICE_TABLE.usd;
  let sqs = 0;
  let invocations = 0;
  let wru = 0;
  let rru = 0;
  let s3Put = 0;
  let s3Get = 0;
  let s3StorageUsd = 0;
  const share = (bytes: number) => Math.max(1 / SQS_BATCH_MAX_ENTRIES, bytes / SQS_BILLING_CHUNK_BYTES);
  for (const t of workload.tasks) {
    const size = t.payloadBytes + ENVELOPE_OVERHEAD;
    // Large payload: inline (if it fits) or claim check, whichever is cheaper.
    const inlineUsd = size <= SQS_MAX_MESSAGE_BYTES ? (2 * share(size) * p.sqsPerMillionRequests) / 1e6 : Infinity;
    // With a duplicate check the object of a succeeded task can be deleted at once (storage ≈ 0);
    // a dead-lettered task's object is kept for redrive, and without idempotency every object is kept.
    const kept = guarantee === 'off' || t.behaviour === 'poison';
    const storageUsd = kept ? (t.payloadBytes / 2 ** 30) * (claimLifetimeDays / 30.4375) * p.s3PerGbMonth : 0;
    const claimUsd = (p.s3PerThousandPut + p.s3PerThousandGet) / 1000 + storageUsd + (2 * share(ENVELOPE_OVERHEAD + 100) * p.sqsPerMillionRequests) / 1e6;
    const claim = claimUsd < inlineUsd;
    const msg = claim ? ENVELOPE_OVERHEAD + 100 : size;
    const copies = t.duplicate ? 2 : 1;
    const deliveries = (t.behaviour === 'fail-once' ? 2 : 1) + (copies - 1);
    sqs += copies * share(msg); // send
    sqs += deliveries * share(msg); // receive
    sqs += deliveries / SQS_BATCH_MAX_ENTRIES; // delete (batched)
    invocations += deliveries / SQS_BATCH_MAX_ENTRIES;
    if (claim) {
      s3Put += 1;
      s3Get += deliveries;
      s3StorageUsd += storageUsd;
    }
    if (t.behaviour === 'poison') sqs += share(msg); // one SendMessage to the DLQ, with the reason
    if (guarantee === 'lease') {
      // acquire + complete per run; a duplicate copy: one conditional write that fails.
      wru += (t.behaviour === 'fail-once' ? 4 : 2) + (copies - 1);
    } else if (guarantee === 'record') {
      // a consistent read before each delivery (batched, 1 RRU ≤ 4 KB), one write per final outcome.
      rru += deliveries;
      wru += 1;
    }
  }
  const n = workload.tasks.length;
  const usd =
    (sqs * p.sqsPerMillionRequests) / 1e6 +
    (invocations * p.lambdaPerMillionRequests) / 1e6 +
    (wru * p.dynamoPerMillionWru) / 1e6 +
    (rru * p.dynamoPerMillionRru) / 1e6 +
    (s3Put * p.s3PerThousandPut) / 1000 +
    (s3Get * p.s3PerThousandGet) / 1000 +
    s3StorageUsd;
  return {
    guarantee,
    sqsBilledRequests: sqs,
    lambdaInvocations: invocations,
    dynamoWru: wru,
    dynamoRru: rru,
    s3Put,
    s3Get,
    usdPerMillionExclCompute: (usd / n) * 1e6,
    reasoning: FLOOR_REASONING[guarantee],
  };
}

const COMMON_REASONING = [
  'SQS: each message is sent once (a share of a 10-entry SendMessageBatch, or size/64 KiB when larger), received once per delivery (a share of a 10-message receive, or size/64 KiB), deleted once per delivery (a share of a 10-entry DeleteMessageBatch).',
  'Deliveries: 1 per task, +1 for a task that fails once, +1 per duplicate copy. Lambda: one invocation per 10 deliveries.',
  'Poison: isolated with its reason by one SendMessage to the DLQ after one delivery (a redrive-policy-only design needs maxReceiveCount deliveries instead).',
  'Large payloads: whichever is cheaper and possible — inline (2 × size/64 KiB SQS units; only up to 1 MiB) or S3 (1 PUT + 1 GET per delivery + a small pointer message + storage: none once the task succeeded when duplicates are detected (lease, record: the object is deleted at once), else the lifecycle\'s lifetime; a dead-lettered task\'s object is kept for redrive).',
];

const FLOOR_REASONING: Record<FloorGuarantee, string[]> = {
  lease: [
    ...COMMON_REASONING,
    'Idempotency with a lease (no two copies run at once, a completed task never runs again — the guarantee Powertools idempotency also gives): 1 conditional write to acquire + 1 write to complete per run (items < 1 KB: 1 WRU each); a failed run also records its failure (acquire + fail, then acquire + complete: 4); a duplicate copy costs 1 rejected conditional write (billed 1 WRU).',
  ],
  record: [
    ...COMMON_REASONING,
    'Idempotency by record (a completed task never runs again; concurrent copies may both run): 1 consistent read (1 RRU, batched) per delivery and 1 write for the final outcome.',
  ],
  off: [...COMMON_REASONING, 'No idempotency table: no DynamoDB units.'],
};

export function floorFor(id: PipelineId): FloorGuarantee {
  const mode = modeOf(id);
  if (mode) return mode;
  return id === 'c-powertools' ? 'lease' : 'off';
}

export type { WorkloadTask };
