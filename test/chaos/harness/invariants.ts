/**
 * The end-of-run invariants, as a pure function over what was observed (so a test can feed
 * it a doctored ledger and see it fail):
 *
 * - every accepted task is SUCCEEDED in the task table with exactly one accountable effect,
 *   or is on the DLQ with a reason attribute (and no accountable effect);
 * - stray copies are counted, not failed: SQS may deliver a message twice and a delete with a
 *   stale receipt handle may not delete, so a leftover copy of a finished task can reach the DLQ
 *   through the redrive policy (without a reason) — noise for on-call, not a lost task, as long
 *   as the task itself is SUCCEEDED or has its reasoned dead letter; likewise a dead-lettered
 *   task whose record a later copy moved on (RETRYING…) is counted as a status mismatch;
 * - no task is in neither (lost); no task has more than one accountable effect;
 * - the DLQ alarm is ALARM exactly when the DLQ is not empty.
 */
import type { EffectsLedger } from './ledger.ts';
import { FAULT_KINDS, type FaultCounts } from './fault-plan.ts';

export interface Observed {
  /** Task indexes the producer got `accepted` for. */
  readonly accepted: readonly number[];
  /** Task index → status in the task table. */
  readonly table: ReadonlyMap<number, string>;
  /** Task index → reasons of its DLQ messages ('' when a message has no reason attribute). */
  readonly dlq: ReadonlyMap<number, readonly string[]>;
  readonly ledger: EffectsLedger;
  /** DLQ alarm checks: the alarm state next to the DLQ's visible count at the same moment. */
  readonly alarmChecks: readonly { readonly dlqVisible: number; readonly state: string }[];
}

export interface Verdict {
  readonly tasks: number;
  readonly succeeded: number;
  readonly deadLettered: number;
  readonly lost: number;
  readonly doubleEffects: number;
  /** DLQ messages beyond the one that explains a task: copies of SUCCEEDED tasks, reasonless copies of dead-lettered ones. */
  readonly strayDlqCopies: number;
  /** Dead-lettered tasks whose table record does not say DEAD_LETTERED (what `taskq status` would show wrongly). */
  readonly statusMismatches: number;
  /** Every broken promise, one line each (empty when the run is good). */
  readonly violations: readonly string[];
}

export function checkInvariants(o: Observed): Verdict {
  const violations: string[] = [];
  let succeeded = 0;
  let deadLettered = 0;
  let lost = 0;
  let doubleEffects = 0;
  let strayDlqCopies = 0;
  let statusMismatches = 0;
  for (const task of o.accepted) {
    const status = o.table.get(task);
    const reasons = o.dlq.get(task) ?? [];
    const effects = o.ledger.accountable(task);
    if (effects > 1) {
      doubleEffects++;
      violations.push(`task ${task}: effect applied ${effects} times (raw ${o.ledger.applied.get(task) ?? 0}, excused ${o.ledger.excused.get(task) ?? 0})`);
    }
    if (status === 'SUCCEEDED') {
      succeeded++;
      strayDlqCopies += reasons.length;
      if (effects < 1) violations.push(`task ${task}: SUCCEEDED but its effect was never applied`);
    } else if (reasons.length > 0) {
      const reasoned = reasons.filter((r) => r !== '');
      if (reasoned.length === 0) {
        lost++;
        violations.push(`task ${task}: on the DLQ only without a reason attribute (moved by the redrive policy), table status ${status ?? 'none'}`);
        continue;
      }
      deadLettered++;
      strayDlqCopies += reasons.length - reasoned.length;
      if (status !== 'DEAD_LETTERED') statusMismatches++;
      if (effects > 0) violations.push(`task ${task}: dead-lettered (${reasons.join(',')}) yet an effect was applied`);
    } else {
      lost++;
      violations.push(`task ${task}: lost — table status ${status ?? 'none'}, not on the DLQ`);
    }
  }
  const accepted = new Set(o.accepted);
  for (const task of o.ledger.applied.keys()) if (!accepted.has(task)) violations.push(`task ${task}: effect applied for a task never accepted`);
  for (const check of o.alarmChecks) {
    const expected = check.dlqVisible >= 1 ? 'ALARM' : 'OK';
    if (check.state !== expected) violations.push(`DLQ alarm ${check.state} while the DLQ held ${check.dlqVisible} message(s) (expected ${expected})`);
  }
  if (o.alarmChecks.length === 0) violations.push('the DLQ alarm was never evaluated');
  return { tasks: o.accepted.length, succeeded, deadLettered, lost, doubleEffects, strayDlqCopies, statusMismatches, violations };
}

/** The one summary line of a run. */
export function summaryLine(v: Verdict, faults: FaultCounts, seed: number): string {
  const f = FAULT_KINDS.map((k) => `${k}=${faults[k]}`).join(',');
  return `chaos: tasks=${v.tasks} faults{${f}} succeeded=${v.succeeded} deadLettered=${v.deadLettered} lost=${v.lost} doubleEffects=${v.doubleEffects} strayDlqCopies=${v.strayDlqCopies} statusMismatches=${v.statusMismatches} seed=${seed}`;
}
