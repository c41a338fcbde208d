/**
 * Fan-out in the chaos suite: events published with TaskProducer.publish to two target
 * types, each in a lane of its own (its own queue, DLQ, event source and consumer), under
 * the harness's faults — the wire faults of the consumer's clients, crashes, hangs and
 * in-flight re-deliveries of the lanes' invocations, and events published again (the same
 * eventId) in the burst and later.
 *
 * One target (`FAILING_TARGET`) fails for some events: a few times then succeeds (flaky), or
 * always with a PermanentError; the other target never fails by plan. The promise checked
 * (checkFanOut, a pure function so a test can feed it doctored observations): every target of
 * every event runs its effect exactly once (or, planned permanent, never and is dead-lettered
 * with its reason), and no target's handler runs again without a cause of its own — one
 * failing target never re-runs another.
 *
 * The handlers identify an effect by the payload's event index and their own type, never by
 * the idempotency key, so a key that forgot its target shows as a target that never ran.
 */
import type { Duration } from 'aws-cdk-lib';
import type { TaskProducer } from '../../../lib/client/index.ts';
import { PermanentError } from '../../../lib/protocol/errors.ts';
import type { TaskContext, TaskDefinition } from '../../../lib/runtime/index.ts';
import type { EffectsLedger } from './ledger.ts';
import { rng } from './prng.ts';

/** The event and its targets, each in its own lane (the construct's `fanOut` and `lanes`). */
export const FAN_EVENT = 'chaos_order';
export const FAN_TARGETS = ['chaos_receipt', 'chaos_ledger'] as const;
export type FanTarget = (typeof FAN_TARGETS)[number];
/** The target that fails for some events. */
export const FAILING_TARGET: FanTarget = 'chaos_ledger';
export const FAN_LANES: Record<FanTarget, string> = { chaos_receipt: 'receipts', chaos_ledger: 'ledger' };

/**
 * The TaskQueue props of the fan-out: a lane per target, with small batches so that the lanes'
 * few messages make enough invocations for their crashes and hangs.
 */
export function fanOutQueueProps(): { lanes: Record<string, { types: string[]; batchSize: number; maxBatchingWindow?: Duration }>; fanOut: Record<string, string[]> } {
  return {
    lanes: Object.fromEntries(FAN_TARGETS.map((t) => [FAN_LANES[t], { types: [t], batchSize: 3 }])),
    fanOut: { [FAN_EVENT]: [...FAN_TARGETS] },
  };
}

export interface FanEventPlan {
  readonly index: number;
  readonly eventId: string;
  /** What the failing target does for this event. */
  readonly failing: 'healthy' | 'flaky' | 'permanent';
  /** Failures of a flaky target before it succeeds. */
  readonly failures: number;
  /** Published again right behind the burst / later, with the same eventId. */
  readonly burstDuplicate: boolean;
  readonly lateDuplicate: boolean;
}

export function planEvents(seed: number, n: number): FanEventPlan[] {
  return Array.from({ length: n }, (_, index) => {
    const r = rng(seed, `event:${index}`);
    // Every run has each kind: one event in five is flaky, one in seven permanent, the first of each forced.
    const failing = index % 5 === 1 ? 'flaky' : index % 7 === 3 ? 'permanent' : 'healthy';
    return {
      index,
      eventId: `ev-${index}`,
      failing,
      failures: failing === 'flaky' ? r.int(1, 2) : 0,
      burstDuplicate: r.chance(0.3),
      lateDuplicate: r.chance(0.3),
    };
  });
}

/** One target of one event, as a number (the ledger's key). */
export function targetId(event: number, target: FanTarget): number {
  return event * FAN_TARGETS.length + FAN_TARGETS.indexOf(target);
}

/** The target id a table key or message body names (`"idempotencyKey":"ev-3:chaos_ledger"`), else -1. */
export function targetIdOfKey(key: string | undefined): number {
  const match = /^ev-(\d+):(\w+)$/.exec(key ?? '');
  if (!match || !(FAN_TARGETS as readonly string[]).includes(match[2]!)) return -1;
  return targetId(Number(match[1]), match[2] as FanTarget);
}

export function targetIdOfBody(body: string | undefined): number {
  return targetIdOfKey(/"idempotencyKey":"(ev-[^"]+)"/.exec(body ?? '')?.[1]);
}

/** What the run observed of the fan-out. */
export interface FanOutObserved {
  readonly plans: readonly FanEventPlan[];
  /** Events whose first publish was accepted for every target. */
  readonly published: readonly number[];
  /** Effects by target id, with the at-least-once excusals of the main ledger (a run died after its effect, unrecorded). */
  readonly ledger: EffectsLedger;
  /** Target id → handler executions, failed ones, invocations that died holding it. */
  readonly executions: ReadonlyMap<number, number>;
  readonly failedExecutions: ReadonlyMap<number, number>;
  readonly deaths: ReadonlyMap<number, number>;
  /** Target id → its record's status in the task table. */
  readonly table: ReadonlyMap<number, string>;
  /** Target id → the reasons of its messages on its lane's DLQ ('' for a message without one). */
  readonly dlq: ReadonlyMap<number, readonly string[]>;
}

export interface FanOutVerdict {
  readonly events: number;
  readonly targets: number;
  readonly succeeded: number;
  /** Planned permanent failures, dead-lettered as permanent-error with no effect. */
  readonly deadLettered: number;
  /** Targets the platform dead-lettered for the infrastructure's faults (a documented bound reached), no effect applied. */
  readonly infraDeadLettered: number;
  /** Targets whose effect was applied more than once (beyond the excused at-least-once windows). */
  readonly doubleRuns: number;
  /** Targets that never ran (nor were dead-lettered with a reason). */
  readonly lost: number;
  /** Handler runs of a target beyond its first that nothing of its own explains (its own failures, deaths, excused windows). */
  readonly unexplainedReruns: number;
  readonly violations: readonly string[];
  /** The infrastructure dead letters, one line each (what, reasons, failures and deaths): printed, not failed. */
  readonly infraDeadLetters: readonly string[];
}

/** Reasons of the documented bounds an infrastructure fault can reach (lib/runtime's no-attempt bound, its attempts). */
const INFRA_REASONS = new Set(['table-unavailable', 'claim-unavailable', 'outcome-unrecorded', 'redeliveries-exhausted', 'attempts-exhausted']);

export function checkFanOut(o: FanOutObserved): FanOutVerdict {
  const violations: string[] = [];
  let succeeded = 0;
  let deadLettered = 0;
  let infraDeadLettered = 0;
  let doubleRuns = 0;
  let lost = 0;
  let unexplainedReruns = 0;
  const infraDeadLetters: string[] = [];
  for (const event of o.published) {
    const plan = o.plans[event]!;
    for (const target of FAN_TARGETS) {
      const id = targetId(event, target);
      const what = `event ${plan.eventId} → ${target}`;
      const effects = o.ledger.accountable(id);
      const status = o.table.get(id);
      const reasons = (o.dlq.get(id) ?? []).filter((r) => r !== '');
      const failed = o.failedExecutions.get(id) ?? 0;
      const deaths = o.deaths.get(id) ?? 0;
      const permanent = target === FAILING_TARGET && plan.failing === 'permanent';
      if (effects > 1) {
        doubleRuns++;
        violations.push(`${what}: effect applied ${effects} times (raw ${o.ledger.applied.get(id) ?? 0})`);
      }
      if (permanent && reasons.includes('permanent-error') && effects === 0) deadLettered++;
      else if (!permanent && status === 'SUCCEEDED' && effects === 1) succeeded++;
      else if (effects === 0 && reasons.length > 0 && reasons.every((r) => INFRA_REASONS.has(r)) && (failed + deaths > 0 || reasons.some((r) => r !== 'attempts-exhausted'))) {
        infraDeadLettered++;
        infraDeadLetters.push(`${what}: dead-lettered [${reasons.join(',')}] after ${failed} failed run(s) and ${deaths} death(s)`);
      }
      else if (effects <= 1) {
        lost++;
        violations.push(`${what}: ${permanent ? 'planned to fail permanently' : 'planned to succeed'}, yet its record says ${status ?? 'nothing'}, effects ${effects}, DLQ reasons [${reasons.join(',')}]`);
      }
      // Runs beyond the first: each needs a cause of the target's own (a failed run, a death, an excused repeat).
      const runs = o.executions.get(id) ?? 0;
      const excusedRepeats = (o.ledger.applied.get(id) ?? 0) - effects;
      const unexplained = runs - 1 - failed - deaths - excusedRepeats;
      if (unexplained > 0) {
        unexplainedReruns++;
        const sibling = FAN_TARGETS.find((t) => t !== target)!;
        const siblingFailed = o.failedExecutions.get(targetId(event, sibling)) ?? 0;
        violations.push(`${what}: its handler ran ${runs} times with ${failed} failure(s), ${deaths} death(s), ${excusedRepeats} excused repeat(s) of its own (its sibling ${sibling} failed ${siblingFailed} time(s))`);
      }
    }
  }
  return { events: o.published.length, targets: o.published.length * FAN_TARGETS.length, succeeded, deadLettered, infraDeadLettered, doubleRuns, lost, unexplainedReruns, violations, infraDeadLetters };
}

export function fanOutSummary(v: FanOutVerdict, counts: Readonly<Record<string, number>>): string {
  return (
    `fan-out: events=${v.events} targets=${v.targets} succeeded=${v.succeeded} deadLettered=${v.deadLettered} infraDeadLettered=${v.infraDeadLettered} ` +
    `doubleRuns=${v.doubleRuns} lost=${v.lost} unexplainedReruns=${v.unexplainedReruns} ${Object.entries(counts).map(([k, n]) => `${k}=${n}`).join(' ')}`
  );
}

/** The target handlers' view of the run: where they record what happened. */
export interface FanOutRecorder {
  readonly plans: readonly FanEventPlan[];
  readonly ledger: EffectsLedger;
  readonly executions: Map<number, number>;
  readonly failedExecutions: Map<number, number>;
  /** A run applied a target's effect under this idempotency key (the at-least-once excusals look its completion up by it). */
  applied(id: number, key: string): void;
  note(id: number, event: string): void;
}

/** What a lane invocation lets its handlers do: apply an effect (maybe crashing after it), re-deliver a record, learn it is dead. */
export interface FanOutInvocation {
  readonly dead: unknown;
  readonly requestId: string;
  effectApplied(task: number): void;
  /** Ends the visibility of the record of `messageId` if the schedule says so (an in-flight re-delivery). */
  maybeRedeliver(messageId: string): Promise<void>;
}

/** The two target types' definitions for one lane invocation. */
export function fanOutTasks(r: FanOutRecorder, inv: FanOutInvocation, maxAttempts: number, timeoutMs: number): Record<FanTarget, TaskDefinition<{ e: number }>> {
  const definition = (target: FanTarget): TaskDefinition<{ e: number }> => ({
    maxAttempts,
    timeoutMs,
    async handler(payload, ctx: TaskContext) {
      const id = targetId(payload.e, target);
      const plan = r.plans[payload.e]!;
      const n = (r.executions.get(id) ?? 0) + 1;
      r.executions.set(id, n);
      r.note(id, `${inv.requestId.slice(0, 8)} ${target} execution ${n} (table attempt ${ctx.attempt}, key ${ctx.idempotencyKey})`);
      await inv.maybeRedeliver(ctx.messageId);
      await new Promise((resolve) => setTimeout(resolve, 5));
      const fail = (error: Error): never => {
        r.failedExecutions.set(id, (r.failedExecutions.get(id) ?? 0) + 1);
        throw error;
      };
      if (target === FAILING_TARGET && plan.failing === 'permanent') fail(new PermanentError(`chaos: ${plan.eventId} can never reach the ledger`));
      if (target === FAILING_TARGET && n <= plan.failures) fail(new Error(`chaos: ${plan.eventId} ledger hiccup ${n}`));
      if (ctx.signal.aborted || inv.dead) fail(new Error('chaos: run abandoned before the effect'));
      r.ledger.apply(id);
      r.applied(id, ctx.idempotencyKey);
      inv.effectApplied(id);
      return { event: payload.e, target };
    },
  });
  return { chaos_receipt: definition('chaos_receipt'), chaos_ledger: definition('chaos_ledger') };
}

/** Publishes the events (or their duplicates: same eventId); returns the events accepted for every target. */
export async function publishEvents(producer: TaskProducer, plans: readonly FanEventPlan[]): Promise<{ accepted: number[]; refused: number }> {
  const accepted: number[] = [];
  let refused = 0;
  await Promise.all(
    plans.map(async (p) => {
      const result = await producer.publish(FAN_EVENT, { e: p.index }, { eventId: p.eventId });
      if (result.targets.every((t) => t.ok)) accepted.push(p.index);
      else refused++;
    }),
  );
  return { accepted, refused };
}
