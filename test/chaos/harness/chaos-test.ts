/**
 * The chaos test itself, shared by the standard variant (chaos.test.ts) and the FIFO variant
 * (chaos-fifo.test.ts), which run as two files so that they run side by side.
 */
import { describe, expect, it } from 'vitest';
import { emulatorEndpoints } from '../../support/aws.ts';
import { runChaos } from './chaos-run.ts';
import { DEFAULT_RATES, FAULT_KINDS, WRITE_TARGETS } from './fault-plan.ts';
import { checkFanOut, fanOutSummary, targetId, FAN_TARGETS } from './fan-out.ts';
import { checkInvariants, summaryLine } from './invariants.ts';

export const TASKS = Number(process.env.TASKQ_CHAOS_TASKS ?? 300);
// fauxqs hands out one message per group per receive: a FIFO run's throughput is bounded by its groups, so it is shorter.
export const FIFO_TASKS = Number(process.env.TASKQ_CHAOS_FIFO_TASKS ?? Math.min(600, Math.max(100, Math.round(TASKS / 3))));
const SEED = Number(process.env.TASKQ_CHAOS_SEED ?? 20261128);
const FULL = TASKS >= 2000;
/** Tight enough to refuse tasks during the burst, loose enough not to stretch the run much (it has a time budget). */
const FLOW_CONTROL = { rateLimit: { perSecond: 40, burst: 10 } } as const;
/** Debounced keys sent beside the burst (three versions each; the last must run, once). */
const DEBOUNCE_KEYS = 20;
/** Events published with fan-out beside the standard variant's tasks (TASKQ_CHAOS_FANOUT_EVENTS=0: none, and no lanes). */
export const FANOUT_EVENTS = Number(process.env.TASKQ_CHAOS_FANOUT_EVENTS ?? (FULL ? 300 : 30));

export function chaosTest(variant: { fifo: boolean; tasks: number }): void {
  const label = variant.fifo ? 'chaos-fifo' : 'chaos';
  // The standard variant runs under a rate limit unless TASKQ_CHAOS_FLOW=0 (docs/FLOW-CONTROL.md).
  const FLOW = !variant.fifo && process.env.TASKQ_CHAOS_FLOW !== '0';
  const FAN = variant.fifo ? 0 : FANOUT_EVENTS;
  describe(`${label}${FLOW ? ' with a rate limit' : ''}: ${variant.tasks} tasks${FAN > 0 ? ` and ${FAN} fanned-out events` : ''} under a seeded fault schedule (seed ${SEED})`, () => {
    it(
      'loses nothing, applies no effect twice, acknowledges nothing unrecorded, bounds every cycle, gives every dead letter its cause, keeps FIFO order, and the DLQ alarm tells the truth',
      async () => {
        const concurrency = FULL ? 8 : 5;
        const report = await runChaos({
          ...(variant.fifo ? { rates: { ...DEFAULT_RATES, groups: 16 } } : {}),
          endpoints: emulatorEndpoints(),
          tasks: variant.tasks,
          seed: SEED,
          fifo: variant.fifo,
          concurrency,
          functionTimeoutSeconds: 5,
          visibilityTimeoutSeconds: 15,
          handlerTimeoutMs: 400,
          maxAttempts: 4,
          takeoverGraceMs: 8000,
          maxNoAttemptReturns: 4,
          // The standard variant under a rate limit, with debounced sends beside the burst (docs/FLOW-CONTROL.md), its
          // refusals interleaved with every fault: refused tasks go back as fresh copies, and none may be moved by the
          // redrive policy without a reason.
          ...(FLOW ? { flowControl: FLOW_CONTROL, debounceKeys: DEBOUNCE_KEYS } : {}),
          // Fan-out to two lanes (harness/fan-out.ts): each target of each event runs once, whatever its sibling does.
          fanOutEvents: FAN,
          // The harness drains about 7 standard tasks a second on 2 cores under its fault rates and the rate limit's
          // refusals (a 3,000-task run: 1,760 effects in 266 s); the budget allows 150 ms a task.
          maxRunMs: 90_000 + variant.tasks * (variant.fifo ? 300 : 150),
          progress: FULL || process.env.TASKQ_CHAOS_VERBOSE ? (line) => console.log(`${label}: ${line}`) : undefined,
        });
        const verdict = checkInvariants(report);
        console.log(summaryLine(verdict, report.schedule.counts, SEED, label));
        console.log(`${label}: flowRefusals=${report.flowRefusals} debounce=${JSON.stringify(report.debounce)} lostResponses{${WRITE_TARGETS.map((t) => `${t}=${report.schedule.lostByTarget[t]}`).join(',')}} copyNotRecordedBy{refusedWrite=${report.copyNotRecordedBy.refusedWrite},queueDelay=${report.copyNotRecordedBy.queueDelay}} durationMs=${report.durationMs}`);
        const details = {
          converged: report.converged,
          durationMs: report.durationMs,
          invocations: report.invocations,
          maxInFlight: report.maxInFlight,
          effects: { applied: report.ledger.totalApplied, excused: report.ledger.totalExcused },
          logs: Object.fromEntries(report.logs),
          violations: verdict.violations.slice(0, 20),
        };
        if (verdict.violations.length > 0 || !report.converged || process.env.TASKQ_CHAOS_VERBOSE) {
          console.log(JSON.stringify(details, null, 2));
          for (const v of verdict.violations.slice(0, 5)) {
            const task = /^task (\d+)/.exec(v)?.[1];
            if (task !== undefined) console.log(`history of task ${task} (${JSON.stringify(report.plans![Number(task)])}):\n  ${report.history(Number(task)).join('\n  ')}`);
          }
        }

        expect(report.rejectedSends, 'the producer refused tasks').toBe(0);
        if (FLOW) {
          expect(report.flowRefusals, 'the limits never refused a task').toBeGreaterThan(0);
          expect(report.debounce, 'debounced keys: each ran its last payload, once').toEqual({ keys: DEBOUNCE_KEYS, ran: DEBOUNCE_KEYS, lost: 0, stale: 0, doubled: 0 });
        }
        expect(verdict.tasks).toBe(variant.tasks);
        expect(report.converged, 'the source queue never drained').toBe(true);
        expect(verdict.violations).toEqual([]);
        expect(verdict.lost).toBe(0);
        expect(verdict.doubleEffects).toBe(0);
        expect(verdict.ackedUnrecorded).toBe(0);
        expect(verdict.unboundedCycles).toBe(0);
        expect(verdict.reasonMismatches).toBe(0);
        expect(verdict.overRuns).toBe(0);
        expect(verdict.fifoOrder).toBe(0);
        // Every task ends somewhere: SUCCEEDED, dead-lettered with its reason, CANCELLED, or moved by the redrive policy
        // after its last receive died (movedAfterDeath: on the DLQ without a reason, docs/GUARANTEES.md).
        expect(verdict.succeeded + verdict.deadLettered + verdict.cancelled + verdict.movedAfterDeath).toBe(variant.tasks);
        expect(verdict.cancelled, 'no task ended CANCELLED').toBeGreaterThan(0);
        expect(report.maxInFlight, 'the burst never exceeds the consumer’s concurrency').toBeLessThanOrEqual(concurrency);
        // Most faulty tasks recover; the poison ones (and an unlucky few) are dead-lettered.
        expect(verdict.deadLettered).toBeGreaterThan(0);
        // A sanity bound, not a guarantee (reasonMismatches is: each dead letter has its injected cause). Long runs
        // dead-letter more: their backlog and throttling storms add receives, and each function timeout kills a
        // whole batch — four 3,000-task runs dead-lettered 6.3–9.7 %, every one with a matching cause.
        expect(verdict.deadLettered).toBeLessThan(Math.max(variant.tasks * (FULL ? 0.12 : 0.06), 15));
        for (const kind of FAULT_KINDS) expect(report.schedule.counts[kind], `fault ${kind} was never injected`).toBeGreaterThan(0);
        // A lost response on every kind of write the runtime makes (a redrive's reset needs a redrive on the
        // single-item path; every target is forced on its first occurrence).
        for (const target of WRITE_TARGETS) expect(report.schedule.lostByTarget[target], `no lost response on ${target}`).toBeGreaterThan(0);

        if (FAN > 0) {
          const fan = report.fanOut!;
          const fanVerdict = checkFanOut(fan);
          console.log(fanOutSummary(fanVerdict, fan.counts));
          for (const line of fanVerdict.infraDeadLetters) console.log(`fan-out: ${line}`);
          for (const v of fanVerdict.violations.slice(0, 5)) {
            const e = /^event ev-(\d+) → (\w+)/.exec(v);
            if (e) console.log(`${v}\nhistory:\n  ${fan.history(targetId(Number(e[1]), e[2] as (typeof FAN_TARGETS)[number])).join('\n  ')}`);
          }
          expect(fan.counts.refusedPublishes, 'the producer refused a publish').toBe(0);
          expect(fanVerdict.events).toBe(FAN);
          expect(fanVerdict.violations).toEqual([]);
          expect(fanVerdict.succeeded + fanVerdict.deadLettered + fanVerdict.infraDeadLettered).toBe(FAN * FAN_TARGETS.length);
          expect(fanVerdict.deadLettered, 'no target failed permanently').toBeGreaterThan(0);
          expect(fan.counts.duplicatePublishes, 'no event was published twice').toBeGreaterThan(0);
          for (const kind of ['crash', 'functionTimeout', 'redelivery'] as const) expect(fan.counts[kind], `no ${kind} in the lanes`).toBeGreaterThan(0);
        }
      },
      FULL ? 60 * 60_000 : 240_000,
    );
  });
}
