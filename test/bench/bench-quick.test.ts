/**
 * Runs `npm run bench -- --quick` (into a temporary directory) and checks the report is
 * right — counts consistent, every pipeline processed every task it could send, poison
 * isolated, ratios computed from the runs — not how fast anything was.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Results } from '../../bench/lib/report.ts';

const run = promisify(execFile);
let dir: string;
let results: Results;
let markdown: string;
let stdout: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'bench-quick-'));
  const out = await run(process.execPath, ['node_modules/tsx/dist/cli.mjs', 'bench/run.ts', '--quick', '--out', dir], {
    cwd: join(import.meta.dirname, '../..'),
    env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    maxBuffer: 16 * 1024 * 1024,
    timeout: 280_000,
  });
  stdout = out.stdout;
  results = JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')) as Results;
  markdown = readFileSync(join(dir, 'RESULTS.md'), 'utf8');
}, 300_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
const close = (a: number, b: number) => expect(Math.abs(a - b)).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(a), Math.abs(b)));

describe('npm run bench -- --quick', () => {
  it('runs all five cost pipelines on the same workload', () => {
    expect(results.meta.mode).toBe('quick');
    expect(results.cost.runs.map((r) => r.id).sort()).toEqual(['a-lease', 'a-off', 'a-record', 'b-naive', 'c-powertools']);
    for (const r of results.cost.runs) {
      expect(r.tasks).toBe(results.workload.tasks);
      expect(r.messages).toBe(results.workload.messagesSent);
    }
  });

  it('every pipeline processed every task it could send, and drained its queue', () => {
    for (const r of results.cost.runs) {
      expect(r.checks.completed, r.id).toBe(true);
      expect(r.checks.missing, r.id).toBe(0);
      expect(r.checks.sourceQueueEmpty, r.id).toBe(true);
      // poison ends in the DLQ (a duplicate copy of a poison task may land there too)
      expect(r.checks.deadLettered, r.id).toBeGreaterThanOrEqual(r.checks.poisonTasks);
    }
    const large = results.workload.large;
    for (const r of results.cost.runs) {
      // only the claim check can carry a payload above 1 MiB
      expect(r.checks.unsendable, r.id).toBe(r.id.startsWith('a-') ? 0 : large);
    }
  });

  it('idempotent pipelines have no duplicate effects; their task tables agree', () => {
    for (const id of ['a-lease', 'c-powertools']) {
      expect(results.cost.runs.find((r) => r.id === id)!.checks.duplicateEffects, id).toBe(0);
    }
    // 'record' promises less (docs/CONSUMER.md): a copy arriving after the success is skipped, but two
    // copies running at the same moment may both run — so only a task the producer sent twice may
    // show a second effect, and never more of them than the workload sent twice.
    const record = results.cost.runs.find((r) => r.id === 'a-record')!.checks;
    expect(record.duplicateEffectsOfSingleSends, 'a-record').toBe(0);
    expect(record.duplicateEffects, 'a-record').toBeLessThanOrEqual(results.workload.duplicates);
    const poison = results.workload.poison;
    for (const id of ['a-lease', 'a-record']) {
      const statuses = results.cost.runs.find((r) => r.id === id)!.checks.tableStatuses!;
      expect(statuses.SUCCEEDED, id).toBe(results.workload.tasks - poison);
      expect(statuses.DEAD_LETTERED ?? 0, id).toBe(poison);
    }
  });

  it('counts are consistent: per-operation requests add up, costs add up, per million is scaled right', () => {
    for (const r of results.cost.runs) {
      const ops = Object.entries(r.ops);
      const q = r.quantities;
      const of = (service: string) => ops.filter(([k]) => k.startsWith(`${service}:`)).map(([, s]) => s);
      expect(q.sqsHttpRequests, r.id).toBe(sum(of('sqs').map((s) => s.requests)));
      expect(q.dynamoRequests, r.id).toBe(sum(of('dynamodb').map((s) => s.requests)));
      close(q.dynamoWru, sum(of('dynamodb').map((s) => s.wru)));
      // billed SQS units: at least one per non-empty request
      expect(q.sqsBilledRequests, r.id).toBeGreaterThanOrEqual(q.sqsHttpRequests - q.sqsEmptyReceives);
      expect(q.lambdaInvocations, r.id).toBe(r.lambda.invocations);
      expect(r.lambda.billedMs, r.id).toBeGreaterThanOrEqual(r.lambda.invocations);
      const c = r.cost;
      close(c.total, c.sqs + c.lambdaRequests + c.lambdaCompute + c.dynamoWrite + c.dynamoRead + c.s3Put + c.s3Get + c.s3Storage);
      close(r.costPerMillion.total, (c.total / r.tasks) * 1e6);
      expect(c.total, r.id).toBeGreaterThan(0);
    }
    const byId = Object.fromEntries(results.cost.runs.map((r) => [r.id, r]));
    // (b) sends, receives and deletes one message per request; the batched pipelines do not.
    expect(byId['b-naive']!.ops['sqs:SendMessage']!.requests).toBe(results.workload.messagesSent);
    expect(byId['b-naive']!.ops['sqs:SendMessageBatch']).toBeUndefined();
    expect(byId['a-lease']!.ops['sqs:SendMessageBatch']!.requests).toBeLessThan(results.workload.messagesSent);
    expect(byId['a-off']!.quantities.dynamoRequests).toBe(0);
    expect(byId['a-lease']!.quantities.s3Put).toBeGreaterThanOrEqual(results.workload.large);
    expect(Object.keys(results.cost.unattributed)).toEqual([]);
  });

  it('ratios are computed from this run and every target is evaluated', () => {
    const byId = Object.fromEntries(results.cost.runs.map((r) => [r.id, r]));
    close(results.ratios['cost_a-lease_vs_c']!, byId['a-lease']!.costPerMillion.total / byId['c-powertools']!.costPerMillion.total);
    close(results.ratios['sqs_a-lease_vs_b']!, byId['a-lease']!.quantities.sqsBilledRequests / byId['b-naive']!.quantities.sqsBilledRequests);
    const s = results.throughput!.summary;
    close(results.ratios.throughput_a_vs_c!, s['a-lease']!.tasksPerSecond!.median / s['c-powertools']!.tasksPerSecond!.median);
    close(results.ratios.init_a_vs_c!, results.coldStart!.a.initMs.median / results.coldStart!.c.initMs.median);
    expect(results.targets).toHaveLength(10);
    for (const t of results.targets) {
      expect(t.measured, t.name).not.toBeNull();
      expect(t.met, t.name).toBe(t.direction === '≤' ? t.measured! <= t.limit : t.measured! >= t.limit);
    }
    for (const f of Object.values(results.cost.floors)) expect(f.usdPerMillionExclCompute).toBeGreaterThan(0);
    expect(results.cost.floors.lease.dynamoWru).toBeGreaterThan(results.cost.floors.record.dynamoWru);
    expect(results.cost.floors.off.dynamoWru).toBe(0);
  });

  it('measures throughput, cold start, producers and the claim-check curve', () => {
    const rounds = results.throughput!.rounds;
    expect(new Set(rounds.map((r) => r.id))).toEqual(new Set(['a-lease', 'c-powertools']));
    for (const r of rounds) {
      expect(r.tasksPerSecond).toBeGreaterThan(0);
      expect(r.handlerCpuPerTaskMicros).toBeGreaterThan(0);
      expect(r.latencyTasks).toBe(Number(results.meta.settings.paceTasksPerSecond) * Number(results.meta.settings.paceSeconds));
      expect(r.latencyP99Ms).toBeGreaterThanOrEqual(r.latencyP50Ms);
    }
    expect(results.coldStart!.a.bytes).toBeGreaterThan(0);
    expect(results.coldStart!.a.samples.length).toBe(results.coldStart!.c.samples.length);
    const producers = Object.fromEntries(results.producer!.map((p) => [p.id, p]));
    expect(producers['sendMessage-each']!.sqsRequestsPer1000).toBe(1000);
    expect(producers['taskq-sendBatch']!.sqsRequestsPer1000).toBe(100);
    expect(producers['sqs-producer']!.sqsRequestsPer1000).toBe(100);
    for (const p of results.producer!) expect(p.failed).toBe(0);
    const points = results.claimCheck!.points;
    expect(points.length).toBeGreaterThanOrEqual(4);
    for (const p of points) {
      expect(p.sent, `${p.payloadBytes} ${p.transport}`).toBe(p.tasks);
      if (p.transport === 'inline') expect(p.s3RequestsPerTask).toBe(0);
      else expect(p.s3RequestsPerTask).toBeGreaterThanOrEqual(2);
    }
  });

  it('writes the report with the summary table it prints', () => {
    for (const heading of ['## Summary', '## Targets', '## 1. Cost per million tasks', '### The floor', '## 2. Throughput', '## 3. Cold start', '## 4. Producer', '## 5. Growth', '### Claim-check curve', '## Price table']) {
      expect(markdown).toContain(heading);
    }
    const table = stdout.trim().split('\n').filter((l) => l.startsWith('|'));
    expect(table.length).toBeGreaterThanOrEqual(8);
    for (const line of table) expect(markdown).toContain(line);
  });
  it('section 7 (lanes): every critical task completed in each scenario, ratios are the p99s divided, and the table shows them', () => {
    const l = results.lanes!;
    expect(l).toBeDefined();
    for (const run of [l.idle, l.lanesFlooded, l.sharedFlooded]) expect(run.completed).toBe(l.settings.criticalTasks);
    close(l.lanesRatio, l.lanesFlooded.p99Ms / l.idle.p99Ms);
    close(l.sharedRatio, l.sharedFlooded.p99Ms / l.idle.p99Ms);
    expect(markdown).toContain('## 7. Lanes: a critical lane under a flooded bulk lane');
    expect(markdown).toContain(`**${l.lanesRatio.toFixed(2)}×**`);
  });
});
