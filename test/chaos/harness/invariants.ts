/**
 * The end-of-run invariants, as a pure function over what was observed (so a test can feed
 * it doctored observations and see it fail):
 *
 * - lost: every accepted task is SUCCEEDED in the task table with exactly one accountable
 *   effect, or is on the DLQ with a reason attribute (and no accountable effect);
 * - doubleEffects: no task has more than one accountable effect — repeated effects excused
 *   because the run died before its completion reached the table, or classified into a window
 *   the README names (copyNotRecorded: completion refused and outcome copy not recorded before
 *   another copy took over; bothRefused: completion and outcome copy both refused), are reported apart
 *   (`excusedByWindow`), never hidden in this count;
 * - ackedUnrecorded: at quiescence (every message acknowledged, outcome copies processed) no
 *   task's record says IN_PROGRESS or RETRYING — unless its dead letter says the table itself
 *   refused (table-unavailable, outcome-unrecorded), or the invocation holding its last receive
 *   died (nothing acknowledged it: the redrive policy moved it; counted in statusMismatches), or
 *   it was dead-lettered because another copy kept holding its lease (the record is that copy's);
 * - unboundedCycles: no task was received more than maxAttempts + maxNoAttemptReturns times
 *   along one chain of copies (receives of dead invocations and never-started records exempt)
 *   without leaving the queue;
 * - reasonMismatches: every dead letter's reason is the one its injected cause calls for
 *   (poison → attempts-exhausted, PermanentError → permanent-error, table AccessDenied/KMS →
 *   table-unavailable, S3 AccessDenied/KMS → claim-unreadable); another task may end
 *   attempts-exhausted only when its failed runs and crashes used every attempt, or by a
 *   documented receive bound it really reached;
 * - overRuns: a task's handler runs at most maxAttempts times per life (the first, and one per
 *   redrive identity the operator sent back): a redrive is consumed once;
 * - fifoOrder (FIFO runs): within a message group, tasks that succeeded (not redriven) applied
 *   their effects in the group's SQS order;
 * - the DLQ alarm is ALARM exactly when the DLQ is not empty.
 *
 * Stray copies are counted, not failed: SQS may deliver a message twice and a delete with a
 * stale receipt handle may not delete, so a leftover copy of a finished task can reach the DLQ
 * through the redrive policy (without a reason) — noise for on-call, not a lost task, as long
 * as the task itself is SUCCEEDED or CANCELLED, or has its reasoned dead letter.
 */
import type { EffectsLedger } from './ledger.ts';
import { FAULT_KINDS, type FaultCounts, type TaskPlan } from './fault-plan.ts';

export interface Observed {
  /** Task indexes the producer got `accepted` for. */
  readonly accepted: readonly number[];
  /** Task index → status in the task table. */
  readonly table: ReadonlyMap<number, string>;
  /** Task index → reasons of its DLQ messages at the end ('' when a message has no reason attribute). */
  readonly dlq: ReadonlyMap<number, readonly string[]>;
  /** …and their last errors, in the same order. */
  readonly dlqLastErrors?: ReadonlyMap<number, readonly string[]>;
  readonly ledger: EffectsLedger;
  /** DLQ alarm checks: the alarm state next to the DLQ's visible count at the same moment. */
  readonly alarmChecks: readonly { readonly dlqVisible: number; readonly state: string }[];
  /** Each task's plan (the injected causes), by index. */
  readonly plans?: readonly TaskPlan[];
  readonly fifo?: boolean;
  readonly maxAttempts?: number;
  readonly maxReceiveCount?: number;
  /** maxAttempts + maxNoAttemptReturns. */
  readonly bound?: number;
  /** Task → what the operator redrove: the DLQ reasons and last errors then, and the redrive identities. */
  readonly redriven?: ReadonlyMap<number, { readonly reasons: readonly string[]; readonly lastErrors: readonly string[]; readonly identities: ReadonlySet<string> }>;
  /** Task → handler executions (crashed runs included), failed ones, invocations that died holding it. */
  readonly executions?: ReadonlyMap<number, number>;
  readonly failedExecutions?: ReadonlyMap<number, number>;
  readonly deaths?: ReadonlyMap<number, number>;
  /** Tasks a dead invocation held on their last receive (ApproximateReceiveCount ≥ maxReceiveCount). */
  readonly diedOnLastReceive?: ReadonlySet<number>;
  /** Task → the most receives along one chain of its copies. */
  readonly longestPath?: ReadonlyMap<number, number>;
  /** Tasks received past the bound along one chain of copies. */
  readonly unboundedCycles?: ReadonlySet<number>;
  /** FIFO: task → the SQS sequence number of its own message. */
  readonly sequence?: ReadonlyMap<number, string>;
  /** Tasks the producer cancelled (wasRunning: a run held the lease at that moment). */
  readonly cancelled?: ReadonlyMap<number, { readonly wasRunning: boolean }>;
  /** Cancelled tasks, not running when cancelled, whose handler started afterwards. */
  readonly ranAfterCancel?: ReadonlySet<number>;
}

export interface Verdict {
  readonly tasks: number;
  readonly succeeded: number;
  readonly deadLettered: number;
  /** Tasks that ended CANCELLED. */
  readonly cancelled: number;
  readonly lost: number;
  readonly doubleEffects: number;
  /** Repeated effects inside a documented window, by window (not double effects). */
  readonly excusedByWindow: { readonly copyNotRecorded: number; readonly bothRefused: number };
  readonly ackedUnrecorded: number;
  readonly unboundedCycles: number;
  readonly reasonMismatches: number;
  readonly overRuns: number;
  readonly fifoOrder: number;
  /**
   * Tasks on the DLQ only without a reason because the invocation holding their last receive died (crash or
   * function timeout): the redrive policy moved them, the documented safety net for crashes the runtime never
   * sees (docs/ARCHITECTURE.md). Not lost — on the DLQ, redrivable — and counted apart, not failed.
   */
  readonly movedAfterDeath: number;
  /** DLQ messages beyond the one that explains a task: copies of SUCCEEDED tasks, reasonless copies of dead-lettered ones. */
  readonly strayDlqCopies: number;
  /** Dead-lettered tasks whose table record does not say DEAD_LETTERED (what `taskq status` would show wrongly). */
  readonly statusMismatches: number;
  /** Every broken promise, one line each (empty when the run is good). */
  readonly violations: readonly string[];
}

/** Dead-letter reasons that say the table itself refused: the record could not say DEAD_LETTERED. */
const TABLE_REFUSED = new Set(['table-unavailable', 'outcome-unrecorded']);
/** Reasons of the bound on returns without an attempt. */
const NO_ATTEMPT = new Set(['table-unavailable', 'claim-unavailable', 'outcome-unrecorded', 'redeliveries-exhausted']);

/** Whether a dead letter's reason is the one the task's injected causes (and what happened to it) call for. */
function reasonMatches(o: Observed, task: number, reason: string, lastError: string, plan: TaskPlan | undefined): boolean {
  if (!plan || reason === '') return true; // reasonless copies are judged as stray or lost elsewhere
  const maxAttempts = o.maxAttempts ?? Number.POSITIVE_INFINITY;
  const failed = (o.failedExecutions?.get(task) ?? 0) + (o.deaths?.get(task) ?? 0);
  const path = o.longestPath?.get(task) ?? 0;
  // A task with injected transient faults (failed runs, S3 errors on its payload fetch — an attempt too —, crashes and
  // timeouts that counted the attempt of a run that never finished) may use up its attempts.
  const transient = failed + plan.s3Failures + plan.failures + plan.timeouts;
  if (reason === 'attempts-exhausted' && (plan.kind === 'poison' || failed >= maxAttempts || transient > 0)) return true;
  if (reason === 'permanent-error' && plan.kind === 'permanent') return true;
  if (reason === 'table-unavailable' && plan.tableDenied) return true;
  if (reason === 'claim-unreadable' && plan.s3Denied) return true;
  // The documented bounds, really reached: returns without an attempt, or (FIFO) the receive budget.
  if (NO_ATTEMPT.has(reason) && o.bound !== undefined && path >= o.bound) return true;
  if (o.fifo && /receive budget exhausted/.test(lastError) && o.maxReceiveCount !== undefined && path >= o.maxReceiveCount) return true;
  return false;
}

export function checkInvariants(o: Observed): Verdict {
  const violations: string[] = [];
  let succeeded = 0;
  let deadLettered = 0;
  let cancelled = 0;
  let lost = 0;
  let doubleEffects = 0;
  let strayDlqCopies = 0;
  let statusMismatches = 0;
  let ackedUnrecorded = 0;
  let reasonMismatches = 0;
  let overRuns = 0;
  let movedAfterDeath = 0;
  for (const task of o.accepted) {
    const status = o.table.get(task);
    const reasons = o.dlq.get(task) ?? [];
    const effects = o.ledger.accountable(task);
    const plan = o.plans?.[task];
    if (effects > 1) {
      doubleEffects++;
      violations.push(`task ${task}: effect applied ${effects} times (raw ${o.ledger.applied.get(task) ?? 0}, excused ${o.ledger.excused.get(task) ?? 0})`);
    }
    const cancel = o.cancelled?.get(task);
    if (cancel) {
      // A cancelled task never runs again; only a run already going when it was cancelled may finish it.
      if (o.ranAfterCancel?.has(task)) violations.push(`task ${task}: its handler started after it was cancelled`);
      if (status === 'CANCELLED') {
        cancelled++;
        if (!cancel.wasRunning && effects > 0) violations.push(`task ${task}: cancelled before it ran, yet its effect was applied`);
      } else if (status === 'SUCCEEDED' && cancel.wasRunning) succeeded++;
      else violations.push(`task ${task}: cancelled (${cancel.wasRunning ? 'while running' : 'not running'}) but its record says ${status ?? 'nothing'}`);
      // A leftover copy moved by the redrive policy (no reason) is a stray, as for SUCCEEDED tasks; a dead letter is wrong.
      strayDlqCopies += reasons.filter((r) => r === '').length;
      if (reasons.some((r) => r !== '')) violations.push(`task ${task}: cancelled, yet dead-lettered (${reasons.join(',')})`);
      continue;
    }
    if (status === 'SUCCEEDED') {
      succeeded++;
      strayDlqCopies += reasons.length;
      if (effects < 1) violations.push(`task ${task}: SUCCEEDED but its effect was never applied`);
    } else if (reasons.length > 0) {
      const reasoned = reasons.filter((r) => r !== '');
      if (reasoned.length === 0 && o.diedOnLastReceive?.has(task)) {
        movedAfterDeath++;
        strayDlqCopies += reasons.length - 1;
      } else if (reasoned.length === 0) {
        lost++;
        violations.push(`task ${task}: on the DLQ only without a reason attribute (moved by the redrive policy), table status ${status ?? 'none'}`);
        continue;
      } else {
        deadLettered++;
        strayDlqCopies += reasons.length - reasoned.length;
        if (status !== 'DEAD_LETTERED') statusMismatches++;
        if (effects > 0) violations.push(`task ${task}: dead-lettered (${reasons.join(',')}) yet an effect was applied`);
      }
    } else {
      lost++;
      violations.push(`task ${task}: lost — table status ${status ?? 'none'}, not on the DLQ`);
    }
    // A task whose last receive died was never acknowledged — the redrive policy moved its message — and the death
    // may have cut off its record's write, after a dead letter was sent or before: its record may say IN_PROGRESS.
    const moved = o.diedOnLastReceive?.has(task) === true && reasons.length > 0;
    // Dead-lettered because another copy kept holding the lease: the record is that copy's, not this one's to write
    // (docs/GUARANTEES.md "Not promised"); counted in statusMismatches.
    const leaseHeld = reasons.some((r, i) => r === 'redeliveries-exhausted' && /another copy holds the lease/.test(o.dlqLastErrors?.get(task)?.[i] ?? ''));
    if ((status === 'IN_PROGRESS' || status === 'RETRYING') && !moved && !leaseHeld && !reasons.some((r) => TABLE_REFUSED.has(r))) {
      ackedUnrecorded++;
      violations.push(`task ${task}: acknowledged while its record says ${status}${reasons.length ? ` (dead-lettered: ${reasons.join(',')})` : ''}`);
    }
    const judged = [
      ...reasons.map((r, i) => ({ reason: r, lastError: o.dlqLastErrors?.get(task)?.[i] ?? '' })),
      ...(o.redriven?.get(task)?.reasons ?? []).map((r, i) => ({ reason: r, lastError: o.redriven!.get(task)!.lastErrors[i] ?? '' })),
    ];
    const wrong = judged.filter((d) => !reasonMatches(o, task, d.reason, d.lastError, plan));
    if (wrong.length > 0) {
      reasonMismatches++;
      const causes = plan ? [plan.kind, plan.tableDenied && 'tableDenied', plan.s3Denied && 's3Denied'].filter(Boolean).join('+') : '?';
      violations.push(`task ${task}: dead-lettered as ${wrong.map((d) => `${d.reason} (${d.lastError})`).join(', ')} but its injected cause is ${causes}`);
    }
    if (o.executions && o.maxAttempts !== undefined) {
      const lives = 1 + (o.redriven?.get(task)?.identities.size ?? 0);
      const runs = o.executions.get(task) ?? 0;
      if (runs > o.maxAttempts * lives) {
        overRuns++;
        violations.push(`task ${task}: its handler ran ${runs} times in ${lives} li${lives === 1 ? 'fe' : 'ves'} of at most ${o.maxAttempts} attempts`);
      }
    }
  }
  for (const task of o.unboundedCycles ?? []) {
    violations.push(`task ${task}: received ${o.longestPath?.get(task) ?? '?'} times along one chain of copies, past the bound ${o.bound}`);
  }
  let fifoOrder = 0;
  if (o.fifo && o.plans && o.sequence) {
    const groups = new Map<number, { task: number; seq: bigint; at: number }[]>();
    for (const task of o.accepted) {
      const seq = o.sequence.get(task);
      const at = o.ledger.firstAppliedAt.get(task);
      if (seq === undefined || at === undefined || o.table.get(task) !== 'SUCCEEDED' || o.redriven?.has(task)) continue;
      const g = o.plans[task]!.group;
      groups.set(g, [...(groups.get(g) ?? []), { task, seq: BigInt(seq), at }]);
    }
    for (const [g, list] of groups) {
      list.sort((x, y) => (x.seq < y.seq ? -1 : x.seq > y.seq ? 1 : 0));
      for (let i = 1; i < list.length; i++) {
        if (list[i]!.at < list[i - 1]!.at) {
          fifoOrder++;
          violations.push(`group ${g}: task ${list[i]!.task} applied its effect before task ${list[i - 1]!.task}, which SQS delivers first`);
        }
      }
    }
  }
  const accepted = new Set(o.accepted);
  for (const task of o.ledger.applied.keys()) if (!accepted.has(task)) violations.push(`task ${task}: effect applied for a task never accepted`);
  for (const check of o.alarmChecks) {
    const expected = check.dlqVisible >= 1 ? 'ALARM' : 'OK';
    if (check.state !== expected) violations.push(`DLQ alarm ${check.state} while the DLQ held ${check.dlqVisible} message(s) (expected ${expected})`);
  }
  if (o.alarmChecks.length === 0) violations.push('the DLQ alarm was never evaluated');
  return {
    tasks: o.accepted.length,
    succeeded,
    deadLettered,
    cancelled,
    lost,
    doubleEffects,
    excusedByWindow: { copyNotRecorded: o.ledger.windowTotal('copyNotRecorded'), bothRefused: o.ledger.windowTotal('bothRefused') },
    ackedUnrecorded,
    unboundedCycles: o.unboundedCycles?.size ?? 0,
    reasonMismatches,
    overRuns,
    fifoOrder,
    movedAfterDeath,
    strayDlqCopies,
    statusMismatches,
    violations,
  };
}

/** The one summary line of a run. */
export function summaryLine(v: Verdict, faults: FaultCounts, seed: number, label = 'chaos'): string {
  const f = FAULT_KINDS.map((k) => `${k}=${faults[k]}`).join(',');
  return (
    `${label}: tasks=${v.tasks} faults{${f}} succeeded=${v.succeeded} deadLettered=${v.deadLettered} cancelled=${v.cancelled} lost=${v.lost} movedAfterDeath=${v.movedAfterDeath} doubleEffects=${v.doubleEffects} ` +
    `excusedByWindow{copyNotRecorded=${v.excusedByWindow.copyNotRecorded},bothRefused=${v.excusedByWindow.bothRefused}} ackedUnrecorded=${v.ackedUnrecorded} unboundedCycles=${v.unboundedCycles} ` +
    `reasonMismatches=${v.reasonMismatches} overRuns=${v.overRuns} fifoOrder=${v.fifoOrder} strayDlqCopies=${v.strayDlqCopies} statusMismatches=${v.statusMismatches} seed=${seed}`
  );
}
