/**
 * Turns the results of one run into bench/results.json's shape (ratios and targets included)
 * and renders bench/RESULTS.md.
 */
import type { ColdStartResult } from './coldstart.ts';
import { floorFor, type CostRun, type Floor, type FloorGuarantee } from './cost.ts';
import type { CurvePoint } from './claimcheck.ts';
import type { OpStats } from './meter.ts';
import { PIPELINES, type PipelineId } from './pipelines.ts';
import { PRICE_TABLE } from './pricing.ts';
import type { ProducerResult } from './producer-bench.ts';
import { spread, type Spread, type ThroughputRound } from './throughput.ts';
import type { PackageResult } from './package-bench.ts';
import type { LanesResult } from './lanes-bench.ts';

export interface GrowthRow {
  tasks: number;
  id: PipelineId;
  usdPerMillion: number;
  /** Tasks / time until the last non-poison task succeeded (retries included). */
  tasksPerSecond: number;
  source: 'measured' | 'extrapolated';
}

export interface Target {
  name: string;
  target: string;
  measured: number | null;
  limit: number;
  direction: '≤' | '≥';
  met: boolean | null;
  note: string;
}

export interface Results {
  meta: {
    mode: 'full' | 'quick';
    startedAt: string;
    durationMs: number;
    node: string;
    cpus: number;
    loadAverageStart: number[];
    loadAverageEnd: number[];
    dynamoEngine: string;
    gitCommit: string;
    memoryMb: number;
    claimLifetimeDays: number;
    infraDefaultsFrom: string;
    settings: Record<string, unknown>;
    notes: string[];
  };
  prices: typeof PRICE_TABLE;
  workload: Record<string, number> & { seed: number; largeBytes: number };
  cost: {
    runs: CostRun[];
    floors: Record<FloorGuarantee, Floor>;
    /** Requests of clients no pipeline claimed (must be empty). */
    unattributed: Record<string, OpStats>;
  };
  throughput?: { rounds: ThroughputRound[]; summary: Record<string, Record<string, Spread>> };
  coldStart?: ColdStartResult;
  producer?: ProducerResult[];
  growth?: GrowthRow[];
  claimCheck?: { points: CurvePoint[]; defaultThresholdBytes: number; breakEvenBytes: number | null };
  /** Section 6; `measuredAt` says when, since `--only package` refreshes it alone. */
  package?: PackageResult & { measuredAt: string; node: string; loadAverage: number[]; gitCommit: string };
  /** Section 7 (lanes-bench.ts); `measuredAt` says when, since `--only lanes` refreshes it alone. */
  lanes?: LanesResult & { measuredAt: string; loadAverage: number[]; gitCommit: string };
  ratios: Record<string, number | null>;
  targets: Target[];
}

/** Why a run's S3 storage is what it is: objects deleted after success vs kept until expiration. */
function storageWhy(run: CostRun, days: number): string {
  const q = run.quantities;
  const deleted = q.s3DeletedBytes ?? 0;
  const usdStorage = `$${usd(run.costPerMillion.s3Storage)}/M`;
  if (deleted > 0) {
    return `S3 storage (${usdStorage}) is what stays: the claim objects of succeeded tasks are deleted once the success is recorded (${Math.round(deleted / 2 ** 20)} MiB deleted in this run); the objects of dead-lettered tasks are kept for redrive until the bucket's ${days}-day expiration.`;
  }
  return `S3 storage (${usdStorage}) is the claim objects kept until the bucket's ${days}-day expiration (this mode deletes none: without a duplicate check a later copy may still need its object).`;
}

/** USD per million of a run's S3 use (claim checks: PUT, GET, storage). */
export const s3Of = (run: CostRun): number => run.costPerMillion.s3Put + run.costPerMillion.s3Get + run.costPerMillion.s3Storage;

const ratio = (a: number | undefined, b: number | undefined): number | null => (a === undefined || b === undefined || !(b > 0) ? null : a / b);

export function computeRatios(r: Omit<Results, 'ratios' | 'targets'>): Record<string, number | null> {
  const run = (id: PipelineId) => r.cost.runs.find((x) => x.id === id);
  const c = run('c-powertools');
  const b = run('b-naive');
  const out: Record<string, number | null> = {};
  for (const id of ['a-lease', 'a-record', 'a-off'] as const) {
    out[`cost_${id}_vs_c`] = ratio(run(id)?.costPerMillion.total, c?.costPerMillion.total);
    out[`sqs_${id}_vs_b`] = ratio(run(id)?.quantities.sqsBilledRequests, b?.quantities.sqsBilledRequests);
  }
  out.cost_b_vs_c = ratio(b?.costPerMillion.total, c?.costPerMillion.total);
  // Like for like: without the claim checks (S3) that only (a) pays, for the tasks (b) and (c) cannot send at all.
  for (const id of ['a-lease', 'a-record', 'a-off'] as const) {
    const a = run(id);
    out[`cost_${id}_vs_c_excl_s3`] = a ? ratio(a.costPerMillion.total - s3Of(a), c?.costPerMillion.total) : null;
  }
  if (r.throughput) {
    const s = r.throughput.summary;
    out.throughput_a_vs_c = ratio(s['a-lease']?.tasksPerSecond?.median, s['c-powertools']?.tasksPerSecond?.median);
    out.handler_cpu_a_vs_c = ratio(s['a-lease']?.handlerCpuPerTaskMicros?.median, s['c-powertools']?.handlerCpuPerTaskMicros?.median);
    out.process_cpu_a_vs_c = ratio(s['a-lease']?.processCpuPerTaskMicros?.median, s['c-powertools']?.processCpuPerTaskMicros?.median);
    out.latency_p50_a_vs_c = ratio(s['a-lease']?.latencyP50Ms?.median, s['c-powertools']?.latencyP50Ms?.median);
    out.latency_p99_a_vs_c = ratio(s['a-lease']?.latencyP99Ms?.median, s['c-powertools']?.latencyP99Ms?.median);
  }
  if (r.coldStart) {
    out.init_a_vs_c = ratio(r.coldStart.a.initMs.median, r.coldStart.c.initMs.median);
    out.init_a_vs_c_same_externals = ratio(r.coldStart.a.initMs.median, r.coldStart.cSameExternals.initMs.median);
    out.bundle_a_vs_c = ratio(r.coldStart.a.bytes, r.coldStart.c.bytes);
  }
  return out;
}

export function computeTargets(ratios: Record<string, number | null>): Target[] {
  const t = (name: string, key: string, direction: '≤' | '≥', limit: number, note: string): Target => {
    const measured = ratios[key] ?? null;
    return { name, target: `${direction} ${limit}× (c)`, measured, limit, direction, met: measured === null ? null : direction === '≤' ? measured <= limit : measured >= limit, note };
  };
  return [
    t('cost per million, lease mode', 'cost_a-lease_vs_c', '≤', 1.0, 'same guarantee as Powertools idempotency'),
    t('cost per million, record mode', 'cost_a-record_vs_c', '≤', 0.6, ''),
    t('cost per million, idempotency off', 'cost_a-off_vs_c', '≤', 0.2, ''),
    t('cost per million, lease mode, like for like', 'cost_a-lease_vs_c_excl_s3', '≤', 1.0, '(a) without S3: the claim checks of the tasks (b) and (c) cannot send'),
    t('cost per million, record mode, like for like', 'cost_a-record_vs_c_excl_s3', '≤', 0.6, '(a) without S3, as above'),
    t('cost per million, idempotency off, like for like', 'cost_a-off_vs_c_excl_s3', '≤', 0.2, '(a) without S3, as above'),
    { ...t('SQS billed requests vs (b) naive', 'sqs_a-lease_vs_b', '≤', 0.2, 'lease mode; the other modes in the cost table'), target: '≤ 0.2× (b)' },
    t('throughput, no-op handler', 'throughput_a_vs_c', '≥', 1.2, 'median of interleaved rounds'),
    t('runtime CPU per task, no-op handler', 'handler_cpu_a_vs_c', '≤', 0.5, 'handler-only CPU, sequential invocations'),
    t('module init time', 'init_a_vs_c', '≤', 0.9, 'median of fresh node processes'),
  ];
}

const COMPONENT_LABELS: Record<string, string> = {
  sqs: 'SQS',
  lambdaRequests: 'Lambda requests',
  lambdaCompute: 'Lambda GB-s',
  dynamoWrite: 'DynamoDB writes',
  dynamoRead: 'DynamoDB reads',
  s3Put: 'S3 PUT',
  s3Get: 'S3 GET',
  s3Storage: 'S3 storage',
};

/** For each missed target, what the numbers of this run say about why. */
export function explainMisses(r: Results): string[] {
  const out: string[] = [];
  const run = (id: PipelineId) => r.cost.runs.find((x) => x.id === id);
  const c = run('c-powertools');
  for (const t of r.targets) {
    if (t.met !== false) continue;
    if (t.name.endsWith('like for like')) {
      const id = t.name.includes('lease') ? 'a-lease' : t.name.includes('record') ? 'a-record' : 'a-off';
      const a = run(id);
      if (a && c) out.push(`**${t.name}**: ${x(t.measured)} of (c) ($${usd(a.costPerMillion.total - s3Of(a))} vs $${usd(c.costPerMillion.total)} per million, (a) without S3), over the ${t.limit}× limit: see the cost table for the components.`);
      continue;
    }
    const costId = t.name === 'cost per million, lease mode' ? 'a-lease' : t.name === 'cost per million, record mode' ? 'a-record' : t.name === 'cost per million, idempotency off' ? 'a-off' : undefined;
    if (costId && c) {
      const a = run(costId)!;
      const limitUsd = t.limit * c.costPerMillion.total;
      const deltas = Object.keys(COMPONENT_LABELS)
        .map((k) => ({ k, d: (a.costPerMillion as unknown as Record<string, number>)[k]! - (c.costPerMillion as unknown as Record<string, number>)[k]!, a: (a.costPerMillion as unknown as Record<string, number>)[k]! }))
        .sort((x, y) => y.a - x.a);
      const parts = deltas.filter((d) => d.a >= 0.005).map((d) => `${COMPONENT_LABELS[d.k]} $${usd(d.a)} (${d.d >= 0 ? '+' : '−'}$${usd(Math.abs(d.d))} vs (c))`);
      const excl = r.ratios[`cost_${costId}_vs_c_excl_s3`];
      out.push(
        `**${t.name}**: ${x(t.measured)} of (c), over the ${t.limit}× limit ($${usd(limitUsd)}) by $${usd(a.costPerMillion.total - limitUsd)} per million. Where (a)'s money goes: ${parts.join(', ')}. ` +
          `S3 ($${usd(s3Of(a))}/M) is the claim check of the ${r.workload.large} tasks above 1 MiB — (c) pays nothing for them because it cannot send them (${c.checks.unsendable} unsendable); ${storageWhy(a, r.meta.claimLifetimeDays)} Like for like, without S3: ${x(excl)} of (c).` +
          (costId === 'a-lease' ? ' The rest is at the floor: lease mode needs the same 2 writes per task as Powertools (see the floor table).' : ''),
      );
    } else if (t.name.startsWith('throughput') && r.throughput) {
      const s = r.throughput.summary;
      out.push(`**${t.name}**: ${x(t.measured)} of (c), short of ${t.limit}× by ${((t.limit - (t.measured ?? 0)) * 100).toFixed(1)} points. (a) ${sp(s['a-lease']?.tasksPerSecond)} tasks/s vs (c) ${sp(s['c-powertools']?.tasksPerSecond)} over ${r.throughput.rounds.length / 2} rounds on a machine at load ${r.meta.loadAverageStart[0]?.toFixed(1)}: with 2 cores shared by the emulators (DynamoDB Local, fauxqs) and other work, the drain rate is bounded by the emulators more than by the handler — the handler's own CPU per task is ${x(r.ratios.handler_cpu_a_vs_c)} of (c).`);
    } else if (t.name === 'module init time' && r.coldStart) {
      const cs = r.coldStart;
      out.push(`**${t.name}**: ${x(t.measured)} of (c) (${n1(cs.a.initMs.median)} vs ${n1(cs.c.initMs.median)} ms), over the ${t.limit}× limit. (a)'s bundle is ${kib(cs.a.bytes)} against ${kib(cs.c.bytes)}. Diagnostics: (a) with everything bundled ${n1(cs.aAllBundled.initMs.median)} ms; (c) with the same modules external ${n1(cs.cSameExternals.initMs.median)} ms — ${x(cs.a.initMs.median / cs.cSameExternals.initMs.median)} like for like.`);
    } else {
      out.push(`**${t.name}**: ${x(t.measured)}, limit ${t.target}.`);
    }
  }
  return out;
}

// ───────────────────────────── Markdown ─────────────────────────────

const usd = (v: number) => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));
const x = (v: number | null | undefined) => (v === null || v === undefined || !Number.isFinite(v) ? 'n/a' : `${v.toFixed(2)}×`);
const n0 = (v: number) => (Number.isFinite(v) ? Math.round(v).toLocaleString('en-US') : 'n/a');
const n1 = (v: number) => (Number.isFinite(v) ? v.toFixed(1) : 'n/a');
const kib = (b: number) => `${(b / 1024).toFixed(b < 10240 ? 1 : 0)} KiB`;
const sp = (s: Spread | undefined, f: (v: number) => string = n0) => (s ? `${f(s.median)} (${f(s.min)}–${f(s.max)})` : 'n/a');

/** The summary table (copied into docs/BENCHMARKS.md). */
export function summaryTable(r: Results): string {
  const rows: string[] = ['| measure | (a) taskq | (c) Powertools + sqs-producer | (b) naive | ratio | target | met |', '|---|---|---|---|---|---|---|'];
  const run = (id: PipelineId) => r.cost.runs.find((c) => c.id === id);
  const c = run('c-powertools');
  const b = run('b-naive');
  const target = (name: string) => r.targets.find((t) => t.name === name);
  const met = (t: Target | undefined) => (t?.met === null || t === undefined ? 'n/a' : t.met ? 'yes' : `**no**`);
  for (const [id, name] of [['a-lease', 'cost per million, lease mode'], ['a-record', 'cost per million, record mode'], ['a-off', 'cost per million, idempotency off']] as const) {
    const a = run(id);
    const t = target(name);
    rows.push(`| $ per million tasks, ${id.slice(2)} | $${a ? usd(a.costPerMillion.total) : 'n/a'} | $${c ? usd(c.costPerMillion.total) : 'n/a'} | $${b ? usd(b.costPerMillion.total) : 'n/a'} | ${x(t?.measured)} | ${t?.target ?? ''} | ${met(t)} |`);
  }
  const lfl = ['lease', 'record', 'off'].map((m) => target(m === 'off' ? 'cost per million, idempotency off, like for like' : `cost per million, ${m} mode, like for like`));
  rows.push(`| $ per million, lease / record / off, like for like: excl. S3 (claim checks (b), (c) cannot make) | $${['a-lease', 'a-record', 'a-off'].map((id) => { const a = run(id as PipelineId); return a ? usd(a.costPerMillion.total - s3Of(a)) : 'n/a'; }).join(' / $')} | $${c ? usd(c.costPerMillion.total) : 'n/a'} | $${b ? usd(b.costPerMillion.total) : 'n/a'} | ${['a-lease', 'a-record', 'a-off'].map((id) => x(r.ratios[`cost_${id}_vs_c_excl_s3`])).join(' / ')} | ${lfl.map((t) => t?.target.replace(' (c)', '') ?? '').join(' / ')} (c) | ${lfl.map((t) => met(t)).join(' / ')} |`);
  const sq = target('SQS billed requests vs (b) naive');
  const a = run('a-lease');
  rows.push(`| SQS billed requests per task | ${a ? (a.quantities.sqsBilledRequests / a.tasks).toFixed(2) : 'n/a'} | ${c ? (c.quantities.sqsBilledRequests / c.tasks).toFixed(2) : 'n/a'} | ${b ? (b.quantities.sqsBilledRequests / b.tasks).toFixed(2) : 'n/a'} | ${x(sq?.measured)} vs (b) | ${sq?.target ?? ''} | ${met(sq)} |`);
  if (r.throughput) {
    const s = r.throughput.summary;
    const tp = target('throughput, no-op handler');
    rows.push(`| tasks/s, no-op handler (median, min–max) | ${sp(s['a-lease']?.tasksPerSecond)} | ${sp(s['c-powertools']?.tasksPerSecond)} | – | ${x(tp?.measured)} | ${tp?.target ?? ''} | ${met(tp)} |`);
    const cpu = target('runtime CPU per task, no-op handler');
    rows.push(`| handler CPU µs/task, no-op handler | ${sp(s['a-lease']?.handlerCpuPerTaskMicros)} | ${sp(s['c-powertools']?.handlerCpuPerTaskMicros)} | – | ${x(cpu?.measured)} | ${cpu?.target ?? ''} | ${met(cpu)} |`);
    rows.push(`| latency p50 / p99, ms | ${n0(s['a-lease']?.latencyP50Ms?.median ?? NaN)} / ${n0(s['a-lease']?.latencyP99Ms?.median ?? NaN)} | ${n0(s['c-powertools']?.latencyP50Ms?.median ?? NaN)} / ${n0(s['c-powertools']?.latencyP99Ms?.median ?? NaN)} | – | ${x(r.ratios.latency_p50_a_vs_c)} / ${x(r.ratios.latency_p99_a_vs_c)} | – | – |`);
  }
  if (r.coldStart) {
    const it = target('module init time');
    rows.push(`| module init, ms (median, min–max) | ${sp(r.coldStart.a.initMs, n1)} | ${sp(r.coldStart.c.initMs, n1)} | – | ${x(it?.measured)} | ${it?.target ?? ''} | ${met(it)} |`);
    rows.push(`| module init, (c) given the same external modules as (a) (diagnostic) | ${n1(r.coldStart.a.initMs.median)} | ${n1(r.coldStart.cSameExternals.initMs.median)} | – | ${x(r.ratios.init_a_vs_c_same_externals)} | – | – |`);
    rows.push(`| consumer bundle (minified) | ${kib(r.coldStart.a.bytes)} | ${kib(r.coldStart.c.bytes)} | – | ${x(r.ratios.bundle_a_vs_c)} | – | – |`);
  }
  return rows.join('\n');
}

export function renderMarkdown(r: Results): string {
  const L: string[] = [];
  const m = r.meta;
  L.push('# Benchmarks and cost model');
  L.push('');
  L.push(`Generated by \`npm run bench${m.mode === 'quick' ? ' -- --quick' : ''}\` on ${m.startedAt} in ${(m.durationMs / 1000).toFixed(0)} s — ${m.mode} mode, Node.js ${m.node}, ${m.cpus} CPUs, load average ${m.loadAverageStart.map((v) => v.toFixed(1)).join(' / ')} at start and ${m.loadAverageEnd.map((v) => v.toFixed(1)).join(' / ')} at the end, DynamoDB emulator: ${m.dynamoEngine}, commit ${m.gitCommit}.`);
  L.push('Every number below is measured in this run on the local emulators (fauxqs for SQS and S3, DynamoDB Local), and every ratio is between pipelines of this same run. Raw data: `bench/results.json`.');
  L.push('');
  for (const note of m.notes) L.push(`> ${note}`);
  if (m.notes.length) L.push('');
  L.push('## Summary');
  L.push('');
  L.push(summaryTable(r));
  L.push('');
  L.push('## Targets');
  L.push('');
  L.push('| target | limit | measured | met | |');
  L.push('|---|---|---|---|---|');
  for (const t of r.targets) L.push(`| ${t.name} | ${t.target} | ${x(t.measured)} | ${t.met === null ? 'n/a' : t.met ? 'yes' : '**no**'} | ${t.note} |`);
  L.push('');
  const misses = explainMisses(r);
  if (misses.length) {
    L.push('Why the missed targets are missed (from this run\'s numbers):');
    L.push('');
    for (const line of misses) L.push(`- ${line}`);
    L.push('');
  }

  // 1. cost
  L.push('## 1. Cost per million tasks');
  L.push('');
  const w = r.workload;
  L.push(`Workload (seed ${w.seed}): ${n0(w.tasks)} tasks, ${n0(w.messagesSent)} messages sent — ${n0(w.small)} × 1 KiB, ${n0(w.medium)} × 100 KiB, ${n0(w.large)} × ${kib(w.largeBytes)} (above the claim-check threshold, ${kib(r.claimCheck?.defaultThresholdBytes ?? NaN)}, which is the largest message SQS accepts with the DLQ headroom: (a) sends them by claim check; (b) and (c) have none and cannot send them at all — counted as unsendable; their cost per million is still divided by all ${n0(w.tasks)} tasks, which flatters them); ${n0(w.failOnce)} fail on their first run, ${n0(w.duplicates)} are sent twice (same task id), ${n0(w.poison)} are poison (the handler always rejects them: (a) throws PermanentError and dead-letters at once; (b) and (c) have no such notion and retry until the redrive policy moves them, maxReceiveCount ${String(m.settings.maxReceiveCount)}).`);
  L.push('');
  L.push(`S3 storage: each claim object is billed per GB-month for as long as it lived — until a counted DeleteObjects (this project deletes a task's object once its SUCCEEDED write is acknowledged, in the lease and record modes), otherwise the bucket's ${m.claimLifetimeDays}-day expiration (objects of dead-lettered tasks, kept for redrive; idempotency off; (b), (c) have none). Lambda: ${m.memoryMb} MB (lib/infra default), GB-s = each invocation's measured handler wall time rounded up to 1 ms × memory. Event source: batch size 10, ${String(m.settings.concurrency)} concurrent invocations, ReportBatchItemFailures; (b) is billed one invocation per message. Empty receives (idle polling) are counted but not charged to the tasks (they depend on idle time, not on tasks).`);
  L.push('');
  L.push('| pipeline | $/M total | excl. S3 | SQS | Lambda req | Lambda GB-s | DynamoDB W | DynamoDB R | S3 PUT | S3 GET | S3 storage | all sent tasks processed | unsendable | duplicate effects | dead-lettered |');
  L.push('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const run of r.cost.runs) {
    const c = run.costPerMillion;
    const ok = run.checks.completed && run.checks.missing === 0 ? 'yes' : `**no** (${run.checks.missing} missing${run.checks.completed ? '' : ', timed out'})`;
    L.push(`| ${run.label} | **$${usd(c.total)}** | $${usd(c.total - s3Of(run))} | $${usd(c.sqs)} | $${usd(c.lambdaRequests)} | $${usd(c.lambdaCompute)} | $${usd(c.dynamoWrite)} | $${usd(c.dynamoRead)} | $${usd(c.s3Put)} | $${usd(c.s3Get)} | $${usd(c.s3Storage)} | ${ok} | ${run.checks.unsendable} | ${run.checks.duplicateEffects} | ${run.checks.deadLettered} / ${run.checks.poisonTasks} poison |`);
  }
  L.push('');
  L.push('Counted quantities (whole run):');
  L.push('');
  L.push('| pipeline | SQS billed (64 KiB chunks) | SQS HTTP requests | empty receives | Lambda invocations | GB-s | DynamoDB requests | WRU | RRU | S3 PUT | S3 GET | handler runs | send failures |');
  L.push('|---|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const run of r.cost.runs) {
    const q = run.quantities;
    L.push(`| ${PIPELINES[run.id].short} | ${n0(q.sqsBilledRequests)} | ${n0(q.sqsHttpRequests)} | ${n0(q.sqsEmptyReceives)} | ${n0(q.lambdaInvocations)} | ${q.lambdaGbSeconds.toFixed(1)} | ${n0(q.dynamoRequests)} | ${n1(q.dynamoWru)} | ${n1(q.dynamoRru)} | ${n0(q.s3Put)} | ${n0(q.s3Get)} | ${n0(run.checks.handlerExecutions)} | ${run.produce.failed} |`);
  }
  L.push('');
  L.push('Requests per operation:');
  L.push('');
  L.push('| pipeline | operation | requests | billed | errors | WRU (computed) | RRU (computed) |');
  L.push('|---|---|---|---|---|---|---|');
  for (const run of r.cost.runs) {
    for (const [op, s] of Object.entries(run.ops)) {
      L.push(`| ${PIPELINES[run.id].short} | ${op} | ${n0(s.requests)} | ${n0(s.billed)} | ${n0(s.errors)} | ${s.wru ? `${n1(s.wru)} (${n1(s.computedWru)})` : ''} | ${s.rru ? `${n1(s.rru)} (${n1(s.computedRru)})` : ''} |`);
    }
  }
  L.push('');
  L.push(`Requests from clients no pipeline claimed: ${Object.keys(r.cost.unattributed).length === 0 ? 'none (every request above is attributed)' : JSON.stringify(r.cost.unattributed)}.`);
  L.push('');
  L.push('DynamoDB units: as reported by DynamoDB Local with ReturnConsumedCapacity=TOTAL, except where it reports none — conditional writes that fail (billed 1 WRU: items < 1 KB) and PartiQL statements (INSERT: ⌈item size / 1 KB⌉, 1 if rejected) — counted as "computed".');
  L.push('');

  L.push('### The floor');
  L.push('');
  L.push('The fewest billable requests and units any design with the same guarantees needs for this workload (Lambda GB-s excluded: it depends on the handler):');
  L.push('');
  L.push('| guarantee | SQS billed | Lambda invocations | WRU | RRU | S3 PUT + GET | $/M excl. GB-s |');
  L.push('|---|---|---|---|---|---|---|');
  for (const f of Object.values(r.cost.floors)) {
    L.push(`| ${f.guarantee} | ${n0(f.sqsBilledRequests)} | ${n0(f.lambdaInvocations)} | ${n0(f.dynamoWru)} | ${n0(f.dynamoRru)} | ${n0(f.s3Put + f.s3Get)} | $${usd(f.usdPerMillionExclCompute)} |`);
  }
  L.push('');
  L.push('| pipeline | floor used | SQS billed / floor | WRU / floor | $/M excl. GB-s | / floor |');
  L.push('|---|---|---|---|---|---|');
  for (const run of r.cost.runs) {
    const f = r.cost.floors[floorFor(run.id)];
    const excl = run.costPerMillion.total - run.costPerMillion.lambdaCompute;
    L.push(`| ${PIPELINES[run.id].short} | ${f.guarantee} | ${x(run.quantities.sqsBilledRequests / f.sqsBilledRequests)} | ${f.dynamoWru > 0 ? x(run.quantities.dynamoWru / f.dynamoWru) : run.quantities.dynamoWru === 0 ? '–' : 'n/a'} | $${usd(excl)} | ${x(excl / f.usdPerMillionExclCompute)} |`);
  }
  L.push('');
  L.push('A pipeline can come in under its floor in dollars only by doing less: (b) and (c) do not carry the tasks above 1 MiB, whose claim checks the floor includes.');
  L.push('');
  L.push('How the floor is reasoned:');
  L.push('');
  const seen = new Set<string>();
  for (const f of Object.values(r.cost.floors)) for (const line of f.reasoning) if (!seen.has(line)) (seen.add(line), L.push(`- ${line}`));
  L.push('');

  // 2. throughput
  if (r.throughput) {
    L.push('## 2. Throughput, latency, CPU (no-op handler)');
    L.push('');
    L.push(`Same batch size (10), ${String(m.settings.concurrency)} concurrent invocations, ${String(m.settings.throughputRounds)} interleaved rounds (the order alternates); medians with (min–max). (a) is in lease mode (the guarantee Powertools idempotency gives). Drain: ${String(m.settings.drainTasks)} pre-enqueued 1 KiB tasks. Latency: ${String(m.settings.paceTasksPerSecond)} tasks/s produced for ${String(m.settings.paceSeconds)} s; latency = end of the invocation − the envelope's createdAt. Handler CPU: invocations one at a time, nothing else running in the process.`);
    L.push('');
    L.push('| pipeline | tasks/s | process CPU µs/task (drain, incl. polling) | handler CPU µs/task | handler ms per batch of 10 | p50 ms | p99 ms |');
    L.push('|---|---|---|---|---|---|---|');
    for (const [id, s] of Object.entries(r.throughput.summary)) {
      L.push(`| ${PIPELINES[id as PipelineId].short} | ${sp(s.tasksPerSecond)} | ${sp(s.processCpuPerTaskMicros)} | ${sp(s.handlerCpuPerTaskMicros)} | ${sp(s.handlerWallPerBatchMs, n1)} | ${sp(s.latencyP50Ms)} | ${sp(s.latencyP99Ms)} |`);
    }
    L.push('');
  }

  // 3. cold start
  if (r.coldStart) {
    const cs = r.coldStart;
    L.push('## 3. Cold start');
    L.push('');
    L.push(`Bundles: ${cs.settings}. Init = time to \`import()\` the bundle in a fresh \`node\` process (AWS_* and the consumers' environment set), ${cs.a.initMs.n} processes each, alternating.`);
    L.push('');
    L.push('| consumer | entry | bundle | gzip | init ms median (min–max) |');
    L.push('|---|---|---|---|---|');
    L.push(`| (a) taskq | ${cs.a.entry} | ${kib(cs.a.bytes)} | ${kib(cs.a.gzipBytes)} | ${sp(cs.a.initMs, n1)} |`);
    L.push(`| (c) Powertools | ${cs.c.entry} | ${kib(cs.c.bytes)} | ${kib(cs.c.gzipBytes)} | ${sp(cs.c.initMs, n1)} |`);
    L.push(`| diagnostic: (a) with everything bundled (the previous deployment setting) | ${cs.aAllBundled.entry} | ${kib(cs.aAllBundled.bytes)} | ${kib(cs.aAllBundled.gzipBytes)} | ${sp(cs.aAllBundled.initMs, n1)} |`);
    L.push(`| diagnostic: (c) with the same modules external as (a) (not how the anchor is configured) | ${cs.cSameExternals.entry} | ${kib(cs.cSameExternals.bytes)} | ${kib(cs.cSameExternals.gzipBytes)} | ${sp(cs.cSameExternals.initMs, n1)} |`);
    L.push('');
    L.push(`(a) leaves out of its bundle (lib/infra/consumer-bundling.ts): ${cs.external.map((m) => `\`${m}\``).join(', ')} — modules the runtime reaches only through \`import()\` on rare paths (retries, dead-lettering, claim checks) or that the default credential chain loads only when environment credentials are absent (never on Lambda); on Lambda they resolve from the runtime's own AWS SDK v3. The DynamoDB client of the hot path stays bundled. Like for like — (a) against (c) given the same externals: ${x(cs.a.initMs.median / cs.cSameExternals.initMs.median)}.`);
    L.push('');
  }

  // 4. producer
  if (r.producer) {
    L.push('## 4. Producer');
    L.push('');
    L.push(`${String(m.settings.producerTasks)} tasks of 1 KiB per round, ${String(m.settings.producerRounds)} interleaved rounds.`);
    L.push('');
    L.push('| producer | tasks/s median (min–max) | SQS requests / 1,000 tasks | billed / 1,000 | failed |');
    L.push('|---|---|---|---|---|');
    for (const p of r.producer) L.push(`| ${p.label} | ${sp(p.tasksPerSecond)} | ${n1(p.sqsRequestsPer1000)} | ${n1(p.sqsBilledPer1000)} | ${p.failed} |`);
    L.push('');
  }

  // 5. growth
  L.push('## 5. Growth');
  L.push('');
  if (r.growth && r.growth.length) {
    L.push('Cost and end-to-end rate of the section-1 workload mix at each size (rate = tasks / time until the last non-poison task succeeded, so retry delays are included).');
    L.push('');
    L.push('| tasks | pipeline | $/M | tasks/s | source |');
    L.push('|---|---|---|---|---|');
    for (const g of r.growth) L.push(`| ${n0(g.tasks)} | ${PIPELINES[g.id].short} | $${usd(g.usdPerMillion)} | ${g.source === 'measured' ? n0(g.tasksPerSecond) : 'not measured'} | ${g.source} |`);
    L.push('');
    L.push('100,000 tasks is extrapolated, not run: every counted quantity is per task (batches of 10, per-task writes), so cost per million is the 10,000-task figure; a 100k run per pipeline does not fit the 10-minute budget on 2 cores. Throughput at 100k was not measured.');
    L.push('');
  } else {
    L.push('Skipped in quick mode.');
    L.push('');
  }
  if (r.claimCheck) {
    const cc = r.claimCheck;
    L.push('### Claim-check curve');
    L.push('');
    L.push(`Cost per million tasks by payload size, this project's pipeline with idempotency off, forced inline vs forced through S3. Default threshold (DEFAULT_CLAIM_CHECK_THRESHOLD_BYTES): **${kib(cc.defaultThresholdBytes)}** — the largest inline message, so a claim check is used only when inline is impossible. S3 includes storage of each claim object for ${r.meta.claimLifetimeDays} days (idempotency off never deletes: duplicates are not detected). Smallest measured size where S3 is cheaper than inline (GB-s excluded): ${cc.breakEvenBytes === null ? '**none** — inline is cheaper at every size measured, which supports the default' : `**${kib(cc.breakEvenBytes)}**`}.`);
    L.push('');
    L.push('| payload | inline $/M (excl. GB-s) | S3 $/M (excl. GB-s) | inline SQS billed/task | S3 SQS billed/task | S3 requests/task | default choice |');
    L.push('|---|---|---|---|---|---|---|');
    const sizes = [...new Set(cc.points.map((p) => p.payloadBytes))];
    for (const size of sizes) {
      const i = cc.points.find((p) => p.payloadBytes === size && p.transport === 'inline');
      const s = cc.points.find((p) => p.payloadBytes === size && p.transport === 's3');
      const fmt = (p: CurvePoint | undefined) => (!p ? 'n/a' : p.error ? `fails: ${p.error.slice(0, 60)}` : `$${usd(p.usdPerMillion)} ($${usd(p.usdPerMillionExclCompute)})`);
      L.push(`| ${kib(size)} | ${fmt(i)} | ${fmt(s)} | ${i ? i.sqsBilledPerTask.toFixed(1) : ''} | ${s ? s.sqsBilledPerTask.toFixed(1) : ''} | ${s ? s.s3RequestsPerTask.toFixed(1) : ''} | ${size > cc.defaultThresholdBytes ? 'S3' : 'inline'} |`);
    }
    L.push('');
  }

  // 6. the package
  if (r.package) {
    const p = r.package;
    const mib = (kib: number) => (kib / 1024).toFixed(1);
    L.push('## 6. The package: CLI start-up, producer install');
    L.push('');
    L.push(`Measured ${p.measuredAt} (Node.js ${p.node}, load average ${p.loadAverage.map((v) => v.toFixed(1)).join(' / ')}, commit ${p.gitCommit}; \`npm run bench -- --only package\` refreshes this section alone).`);
    L.push('');
    L.push('| measure | median | min–max | runs |');
    L.push('|---|---|---|---|');
    L.push(`| \`taskq --help\`, compiled CLI (\`node dist/bin/taskq.js\`), ms | ${n0(p.cliHelpMs.median)} | ${n0(p.cliHelpMs.min)}–${n0(p.cliHelpMs.max)} | ${p.cliHelpMs.n} |`);
    L.push(`| \`node -e 0\` (the floor of any Node.js CLI), ms | ${n0(p.nodeBaselineMs.median)} | ${n0(p.nodeBaselineMs.min)}–${n0(p.nodeBaselineMs.max)} | ${p.nodeBaselineMs.n} |`);
    L.push(`| \`tsx bin/taskq.ts --help\` (from source, as before 0.2.0), ms | ${n0(p.tsxHelpMs.median)} | ${n0(p.tsxHelpMs.min)}–${n0(p.tsxHelpMs.max)} | ${p.tsxHelpMs.n} |`);
    L.push('');
    const absent = Object.entries(p.producerInstall.absent);
    L.push(
      `A producer-only service (examples/producer-service) that installs the packed tarball (${kib(p.tarballBytes)}) gets **${mib(p.producerInstall.nodeModulesKiB)} MiB** of node_modules (\`du -sk\`) in ${p.producerInstall.packages} packages, ` +
        `of which ${mib(p.producerInstall.cliOnlyKiB)} MiB are the libraries only the \`taskq\` CLI loads (CloudFormation and CloudWatch clients, commander, chalk, cli-progress). ` +
        `${absent.every(([, gone]) => gone) ? 'Not installed' : 'Installed although they must not be'}: ${absent.filter(([, gone]) => gone === absent.every(([, g]) => g)).map(([name]) => name).join(', ')}.`,
    );
    L.push('');
  }

  // 7. lanes
  if (r.lanes) {
    const l = r.lanes;
    const s = l.settings;
    const ms = (v: number) => (Number.isFinite(v) ? v.toFixed(0) : 'n/a');
    L.push('## 7. Lanes: a critical lane under a flooded bulk lane');
    L.push('');
    L.push(
      `Measured ${l.measuredAt} (load average ${l.loadAverage.map((v) => v.toFixed(1)).join(' / ')}, commit ${l.gitCommit}; \`npm run bench -- --only lanes\` refreshes this section alone). ` +
        `${s.criticalTasks} critical tasks sent one every ${s.criticalIntervalMs} ms; latency = send → handler done. Flood: ${s.bulkTasks} bulk tasks of ${s.bulkHandlerMs} ms each, enqueued first. ` +
        `Lanes: critical lane with ${s.criticalConcurrency} pollers (its reserved capacity), bulk lane capped at ${s.bulkConcurrency} (maxConcurrency). Shared: one queue, ${s.criticalConcurrency + s.bulkConcurrency} pollers.`,
    );
    L.push('');
    L.push('| critical lane | p50 ms | p99 ms | max ms | done | bulk done meanwhile | p99 / idle p99 |');
    L.push('|---|---|---|---|---|---|---|');
    L.push(`| idle | ${ms(l.idle.p50Ms)} | ${ms(l.idle.p99Ms)} | ${ms(l.idle.maxMs)} | ${l.idle.completed}/${l.idle.tasks} | — | 1.00× |`);
    L.push(`| lanes, bulk flooded | ${ms(l.lanesFlooded.p50Ms)} | ${ms(l.lanesFlooded.p99Ms)} | ${ms(l.lanesFlooded.maxMs)} | ${l.lanesFlooded.completed}/${l.lanesFlooded.tasks} | ${l.lanesFlooded.bulkDoneDuringRun} | **${l.lanesRatio.toFixed(2)}×** |`);
    L.push(`| one shared queue, bulk flooded | ${ms(l.sharedFlooded.p50Ms)} | ${ms(l.sharedFlooded.p99Ms)} | ${ms(l.sharedFlooded.maxMs)} | ${l.sharedFlooded.completed}/${l.sharedFlooded.tasks} | ${l.sharedFlooded.bulkDoneDuringRun} | **${l.sharedRatio.toFixed(2)}×** |`);
    L.push('');
    if (l.routing) {
      const g = l.routing;
      const ms1 = (v: number) => v.toFixed(1);
      L.push(`Routing owned by the stack (\`routing: true\`), on the emulators: ${g.sends} sends each way, interleaved; the table read alone ${g.tableReads} times (a new reader each: nothing cached).`);
      L.push('');
      L.push('| producer | p50 ms | p99 ms |');
      L.push('|---|---|---|');
      L.push(`| send, no routing | ${ms1(g.withoutMs.p50Ms)} | ${ms1(g.withoutMs.p99Ms)} |`);
      L.push(`| send, routing table cached | ${ms1(g.cachedMs.p50Ms)} | ${ms1(g.cachedMs.p99Ms)} |`);
      L.push(`| routing table read (GetItem, once per TTL) | ${ms1(g.tableReadMs.p50Ms)} | ${ms1(g.tableReadMs.p99Ms)} |`);
      L.push('');
    }
  }

  L.push('## Price table');
  L.push('');
  L.push(`${r.prices.region}, list prices as of ${r.prices.asOf}; sources: ${r.prices.sources.join('; ')}.`);
  L.push('');
  L.push('| item | USD |');
  L.push('|---|---|');
  for (const [k, v] of Object.entries(r.prices.usd)) L.push(`| ${k} | ${v} |`);
  L.push('');
  L.push('## Reproduce');
  L.push('');
  L.push('```sh');
  L.push('npm ci');
  L.push('npm run bench            # full: writes bench/RESULTS.md and bench/results.json');
  L.push('npm run bench -- --quick # small sizes, for correctness (test/bench/bench-quick.test.ts runs it)');
  L.push('```');
  L.push('');
  return L.join('\n');
}

export function summarizeThroughput(rounds: ThroughputRound[]): Record<string, Record<string, Spread>> {
  const out: Record<string, Record<string, Spread>> = {};
  const keys = ['tasksPerSecond', 'processCpuPerTaskMicros', 'handlerCpuPerTaskMicros', 'handlerWallPerBatchMs', 'latencyP50Ms', 'latencyP99Ms'] as const;
  for (const id of [...new Set(rounds.map((r) => r.id))]) {
    const mine = rounds.filter((r) => r.id === id);
    out[id] = Object.fromEntries(keys.map((k) => [k, spread(mine.map((r) => r[k]))]));
  }
  return out;
}
