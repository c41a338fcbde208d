/**
 * `npm run bench` — benchmarks and the cost model (issue 5), on the local emulators.
 * Writes bench/RESULTS.md and bench/results.json (with --out DIR: there instead).
 *
 *   npm run bench                    full run (< 10 minutes on 2 cores)
 *   npm run bench -- --quick         small sizes, for correctness (well under a minute); no section 6
 *   npm run bench -- --only package  section 6 alone, merged into the existing results
 *
 * Sections: 1 cost per million tasks (five pipelines, one seeded workload), 2 throughput /
 * latency / CPU, 3 cold start, 4 producer, 5 growth and the claim-check curve, 6 the package
 * (CLI start-up, a producer's installed size).
 */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

import { execSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { DEFAULT_CLAIM_CHECK_THRESHOLD_BYTES } from '../lib/protocol/limits.ts';
import { runClaimCheckCurve } from './lib/claimcheck.ts';
import { runColdStart } from './lib/coldstart.ts';
import { floorOf, runCost, type CostRun, type CostSettings } from './lib/cost.ts';
import { makeClients, startEmulatorHost } from './lib/env.ts';
import { installGlobalMeter, unattributed } from './lib/meter.ts';
import type { PipelineId } from './lib/pipelines.ts';
import { runPackageBench } from './lib/package-bench.ts';
import { runProducers } from './lib/producer-bench.ts';
import { computeRatios, computeTargets, renderMarkdown, summarizeThroughput, summaryTable, type GrowthRow, type Results } from './lib/report.ts';
import { runThroughput } from './lib/throughput.ts';
import { runLanesBench, type LanesSettings } from './lib/lanes-bench.ts';
import { makeWorkload, summarizeWorkload } from './lib/workload.ts';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const only = args.includes('--only') ? args[args.indexOf('--only') + 1] : undefined;
const outIndex = args.indexOf('--out');
const outDir = outIndex >= 0 ? args[outIndex + 1]! : fileURLToPath(new URL('./', import.meta.url));
const log = (line: string) => process.stderr.write(line + '\n');

const SEED = 20261128;
const KiB = 1024;

/**
 * From the TaskQueue construct's defaults (lib/infra/props.ts): Lambda memory, and the claim
 * objects' lifetime (source retention + DLQ retention + margin). 256 MB / 19 days if unreadable.
 */
async function infraDefaults(): Promise<{ memoryMb: number; claimLifetimeDays: number; source: string }> {
  try {
    const { TASK_QUEUE_DEFAULTS: d } = await import('../lib/infra/props.ts');
    const days = d.retentionPeriod.toDays() + d.deadLetterRetentionPeriod.toDays() + d.retentionMargin.toDays();
    return { memoryMb: d.memorySize, claimLifetimeDays: days, source: 'lib/infra TASK_QUEUE_DEFAULTS' };
  } catch {
    return { memoryMb: 256, claimLifetimeDays: 19, source: 'fallback (lib/infra not importable)' };
  }
}

const P = quick
  ? {
      costTasks: 200,
      costParallel: true,
      growthTasks: [] as number[],
      concurrency: 4,
      visibilityTimeoutSeconds: 3,
      timeoutSeconds: 30,
      throughput: { rounds: 1, drainTasks: 60, paceTasksPerSecond: 50, paceSeconds: 1, cpuTasks: 20 },
      coldStartProcesses: 4,
      producerTasks: 200,
      producerRounds: 1,
      curveSizes: [1 * KiB, 300 * KiB],
      curveTasks: 3,
    }
  : {
      costTasks: 10_000,
      costParallel: false,
      growthTasks: [1_000],
      concurrency: 4,
      visibilityTimeoutSeconds: 10,
      timeoutSeconds: 30,
      throughput: { rounds: 3, drainTasks: 600, paceTasksPerSecond: 50, paceSeconds: 4, cpuTasks: 200 },
      coldStartProcesses: 16,
      producerTasks: 2_000,
      producerRounds: 3,
      curveSizes: [1, 64, 256, 448, 512, 768, 1000].map((k) => k * KiB),
      curveTasks: 10,
    };

/** Section 7: the critical lane's latency under a flooded bulk lane (lanes-bench.ts). */
const LANES: LanesSettings = quick
  ? { bulkTasks: 300, bulkHandlerMs: 50, criticalTasks: 30, criticalIntervalMs: 30, criticalConcurrency: 2, bulkConcurrency: 2, routingSends: 50 }
  : { bulkTasks: 5_000, bulkHandlerMs: 200, criticalTasks: 100, criticalIntervalMs: 50, criticalConcurrency: 2, bulkConcurrency: 2, routingSends: 300 };

async function lanesSection(e: Awaited<ReturnType<typeof startEmulatorHost>>, admin: ReturnType<typeof makeClients>): Promise<NonNullable<Results['lanes']>> {
  const loadAverage = loadavg();
  const result = await runLanesBench(e, admin, LANES, log);
  return { ...result, measuredAt: new Date().toISOString(), loadAverage, gitCommit: gitCommit() };
}

/** `--only lanes`: section 7 measured again, the rest of the last results kept as they are. */
async function onlyLanes(): Promise<void> {
  const previous = JSON.parse(readFileSync(`${outDir}/results.json`, 'utf8')) as Results;
  const e = await startEmulatorHost();
  const admin = makeClients(e, undefined);
  try {
    const results: Results = { ...previous, lanes: await lanesSection(e, admin) };
    writeFileSync(`${outDir}/results.json`, JSON.stringify(results, null, 2) + '\n');
    writeFileSync(`${outDir}/RESULTS.md`, renderMarkdown(results));
    log(`bench: section 7 written to ${outDir}RESULTS.md`);
  } finally {
    admin.destroy();
    await e.stop();
  }
}

const COST_ORDER: PipelineId[] = ['a-lease', 'c-powertools', 'a-record', 'b-naive', 'a-off'];
const PACKAGE_SETTINGS = { cliRuns: 20, tsxRuns: 5 };

async function packageSection(): Promise<NonNullable<Results['package']>> {
  log('6. the package: CLI start-up, producer install');
  const loadAverage = loadavg();
  const result = await runPackageBench(PACKAGE_SETTINGS, log);
  return { ...result, measuredAt: new Date().toISOString(), node: process.versions.node, loadAverage, gitCommit: gitCommit() };
}

/** `--only package`: section 6 measured again, the rest of the last results kept as they are. */
async function onlyPackage(): Promise<void> {
  const previous = JSON.parse(readFileSync(`${outDir}/results.json`, 'utf8')) as Results;
  const results: Results = { ...previous, package: await packageSection() };
  writeFileSync(`${outDir}/results.json`, JSON.stringify(results, null, 2) + '\n');
  writeFileSync(`${outDir}/RESULTS.md`, renderMarkdown(results));
  log(`bench: section 6 written to ${outDir}RESULTS.md`);
}

async function main(): Promise<void> {
  const startedAt = new Date();
  const t0 = performance.now();
  const loadStart = loadavg();
  installGlobalMeter();
  log(`bench: ${quick ? 'quick' : 'full'} mode — starting emulators`);
  const [e, infra] = await Promise.all([startEmulatorHost(), infraDefaults()]);
  const { memoryMb, claimLifetimeDays } = infra;
  const admin = makeClients(e, undefined);
  try {
    // A large payload: above the claim-check threshold (which is the inline limit), so it
    // cannot be sent by the pipelines without a claim check — they count it as unsendable.
    const largeBytes = DEFAULT_CLAIM_CHECK_THRESHOLD_BYTES + 512 * KiB;
    const workload = makeWorkload(P.costTasks, SEED, largeBytes);
    const costSettings: CostSettings = {
      concurrency: P.concurrency,
      memoryMb,
      claimLifetimeDays,
      timeoutSeconds: P.timeoutSeconds,
      visibilityTimeoutSeconds: P.visibilityTimeoutSeconds,
      maxReceiveCount: 5,
      waitTimeSeconds: 1,
      deadlineMs: quick ? 120_000 : 240_000,
    };

    log(`1. cost: ${P.costTasks} tasks through ${COST_ORDER.length} pipelines${P.costParallel ? ' (in parallel: quick mode)' : ''}`);
    const runOne = async (id: PipelineId, w = workload, prefix = 'cost'): Promise<CostRun> => {
      const t = performance.now();
      const run = await runCost(id, w, e, admin, costSettings, prefix);
      log(`  ${id}: $${run.costPerMillion.total.toFixed(3)}/M, ${run.checks.missing} missing, ${run.checks.duplicateEffects} duplicate effects, ${((performance.now() - t) / 1000).toFixed(1)} s`);
      return run;
    };
    const runs: CostRun[] = [];
    if (P.costParallel) runs.push(...(await Promise.all(COST_ORDER.map((id) => runOne(id)))));
    else for (const id of COST_ORDER) runs.push(await runOne(id));

    log('2. throughput: (a) lease vs (c), no-op handler');
    const tpSettings = { ...P.throughput, concurrency: P.concurrency, memoryMb, timeoutSeconds: P.timeoutSeconds, visibilityTimeoutSeconds: P.visibilityTimeoutSeconds };
    const tpRounds = await runThroughput(['a-lease', 'c-powertools'], e, admin, tpSettings, log);

    log(`3. cold start: ${P.coldStartProcesses} processes per bundle`);
    const cold = await runColdStart(P.coldStartProcesses);
    log(`  init (a) ${cold.a.initMs.median.toFixed(1)} ms, (c) ${cold.c.initMs.median.toFixed(1)} ms; bundles ${cold.a.bytes} / ${cold.c.bytes} bytes`);

    log('4. producer');
    const producers = await runProducers(P.producerTasks, P.producerRounds, e, admin, log);

    const growth: GrowthRow[] = [];
    if (P.growthTasks.length) {
      log(`5. growth: ${P.growthTasks.join(', ')} tasks`);
      const rate = (run: CostRun) => (run.tasks / run.allSucceededMs) * 1000;
      for (const size of P.growthTasks) {
        const w = makeWorkload(size, SEED, largeBytes);
        for (const id of COST_ORDER) {
          const run = await runOne(id, w, 'growth');
          growth.push({ tasks: size, id, usdPerMillion: run.costPerMillion.total, tasksPerSecond: rate(run), source: 'measured' });
        }
      }
      for (const run of runs) growth.push({ tasks: run.tasks, id: run.id, usdPerMillion: run.costPerMillion.total, tasksPerSecond: rate(run), source: 'measured' });
      for (const run of runs) growth.push({ tasks: 100_000, id: run.id, usdPerMillion: run.costPerMillion.total, tasksPerSecond: NaN, source: 'extrapolated' });
    }
    log('5b. claim-check curve');
    const points = await runClaimCheckCurve(P.curveSizes, P.curveTasks, e, admin, memoryMb, claimLifetimeDays, log);
    let breakEven: number | null = null;
    for (const size of P.curveSizes) {
      const i = points.find((p) => p.payloadBytes === size && p.transport === 'inline');
      const s = points.find((p) => p.payloadBytes === size && p.transport === 's3');
      if (i && s && !i.error && !s.error && s.usdPerMillionExclCompute <= i.usdPerMillionExclCompute) {
        breakEven = size;
        break;
      }
    }

    const pkg = quick ? undefined : await packageSection();
    const lanes = await lanesSection(e, admin);

    const partial: Omit<Results, 'ratios' | 'targets'> = {
      meta: {
        mode: quick ? 'quick' : 'full',
        startedAt: startedAt.toISOString(),
        durationMs: 0,
        node: process.versions.node,
        cpus: cpus().length,
        loadAverageStart: loadStart,
        loadAverageEnd: loadavg(),
        dynamoEngine: e.dynamoEngine,
        gitCommit: gitCommit(),
        memoryMb,
        claimLifetimeDays,
        infraDefaultsFrom: infra.source,
        settings: {
          costTasks: P.costTasks,
          concurrency: P.concurrency,
          visibilityTimeoutSeconds: P.visibilityTimeoutSeconds,
          functionTimeoutSeconds: P.timeoutSeconds,
          maxReceiveCount: costSettings.maxReceiveCount,
          throughputRounds: P.throughput.rounds,
          drainTasks: P.throughput.drainTasks,
          paceTasksPerSecond: P.throughput.paceTasksPerSecond,
          paceSeconds: P.throughput.paceSeconds,
          cpuTasks: P.throughput.cpuTasks,
          producerTasks: P.producerTasks,
          producerRounds: P.producerRounds,
          curveTasks: P.curveTasks,
          runtimeBackoff: { baseSeconds: 1, capSeconds: 8 },
        },
        notes: notes(quick, loadStart),
      },
      prices: (await import('./lib/pricing.ts')).PRICE_TABLE,
      workload: { ...summarizeWorkload(workload), seed: SEED, largeBytes },
      cost: {
        runs,
        floors: { lease: floorOf(workload, 'lease', claimLifetimeDays), record: floorOf(workload, 'record', claimLifetimeDays), off: floorOf(workload, 'off', claimLifetimeDays) },
        unattributed: unattributed.toJSON().ops,
      },
      throughput: { rounds: tpRounds, summary: summarizeThroughput(tpRounds) },
      coldStart: cold,
      producer: producers,
      growth,
      claimCheck: { points, defaultThresholdBytes: DEFAULT_CLAIM_CHECK_THRESHOLD_BYTES, breakEvenBytes: breakEven },
      ...(pkg ? { package: pkg } : {}),
      lanes,
    };
    partial.meta.durationMs = performance.now() - t0;
    const ratios = computeRatios(partial);
    const results: Results = { ...partial, ratios, targets: computeTargets(ratios) };
    mkdirSync(outDir, { recursive: true });
    writeFileSync(`${outDir}/results.json`, JSON.stringify(results, null, 2) + '\n');
    writeFileSync(`${outDir}/RESULTS.md`, renderMarkdown(results));
    process.stdout.write(summaryTable(results) + '\n');
    log(`bench: done in ${(results.meta.durationMs / 1000).toFixed(0)} s — ${outDir}RESULTS.md`);
  } finally {
    admin.destroy();
    await e.stop();
  }
}

function gitCommit(): string {
  try {
    const sha = execSync('git rev-parse --short HEAD', { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
    const dirty = execSync('git status --porcelain', { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim() ? ' (working tree not clean)' : '';
    return sha + dirty;
  } catch {
    return 'unknown';
  }
}

function notes(isQuick: boolean, load: number[]): string[] {
  const out: string[] = [];
  if (isQuick) out.push('Quick mode: small sizes, pipelines of section 1 run in parallel — for checking the harness, not for the numbers.');
  if ((load[0] ?? 0) > cpus().length) out.push(`The machine was busy when this run started (load average ${load[0]!.toFixed(1)} on ${cpus().length} CPUs): timings (throughput, latency, GB-s, init) are inflated and noisy; request counts and units are not affected.`);
  out.push('Emulator latency differs from AWS: DynamoDB Local and fauxqs answer in milliseconds to hundreds of milliseconds on a busy machine, where AWS answers in single-digit milliseconds, so the Lambda GB-s (handler wall time) of the pipelines that wait on many sequential calls is higher here than it would be on AWS.');
  return out;
}

if (only === 'package') await onlyPackage();
else if (only === 'lanes') await onlyLanes();
else if (only !== undefined) throw new Error(`--only ${only}: the sections that run alone are package and lanes`);
else await main();
