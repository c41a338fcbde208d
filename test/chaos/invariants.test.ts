/**
 * The chaos invariants must be able to fail: fed a doctored ledger or doctored system state,
 * the checker reports the lost task, the doubled effect, the reasonless dead letter and the
 * lying alarm — and passes an honest run.
 */
import { describe, expect, it } from 'vitest';
import { checkInvariants, summaryLine, type Observed } from './harness/invariants.ts';
import { EffectsLedger } from './harness/ledger.ts';
import { FAULT_KINDS, planTasks, type FaultCounts, type TaskPlan } from './harness/fault-plan.ts';

/** Tasks 0–3 succeed with one effect each; task 4 is dead-lettered with a reason. */
function honest(): { accepted: number[]; table: Map<number, string>; dlq: Map<number, string[]>; ledger: EffectsLedger; alarmChecks: Observed['alarmChecks'] } {
  const ledger = new EffectsLedger();
  for (const task of [0, 1, 2, 3]) ledger.apply(task);
  return {
    accepted: [0, 1, 2, 3, 4],
    table: new Map([
      [0, 'SUCCEEDED'],
      [1, 'SUCCEEDED'],
      [2, 'SUCCEEDED'],
      [3, 'SUCCEEDED'],
      [4, 'DEAD_LETTERED'],
    ]),
    dlq: new Map([[4, ['attempts-exhausted']]]),
    ledger,
    alarmChecks: [
      { dlqVisible: 0, state: 'OK' },
      { dlqVisible: 1, state: 'ALARM' },
    ],
  };
}

describe('chaos invariant checker', () => {
  it('passes an honest run', () => {
    const v = checkInvariants(honest());
    expect(v.violations).toEqual([]);
    expect(v).toMatchObject({ tasks: 5, succeeded: 4, deadLettered: 1, lost: 0, doubleEffects: 0 });
  });

  it('judges cancelled tasks: CANCELLED without an effect passes; a run after the cancel, an effect, or a SUCCEEDED record of a task cancelled before it ran fail', () => {
    const base = honest();
    base.ledger.applied.delete(3);
    base.table.set(3, 'CANCELLED');
    const cancelled = new Map([[3, { wasRunning: false }]]);
    const good = checkInvariants({ ...base, cancelled });
    expect(good.violations).toEqual([]);
    expect(good).toMatchObject({ succeeded: 3, cancelled: 1, deadLettered: 1, lost: 0 });

    expect(checkInvariants({ ...base, cancelled, ranAfterCancel: new Set([3]) }).violations).toEqual(['task 3: its handler started after it was cancelled']);
    const withEffect = honest();
    withEffect.table.set(3, 'CANCELLED');
    expect(checkInvariants({ ...withEffect, cancelled }).violations).toEqual(['task 3: cancelled before it ran, yet its effect was applied']);
    // SUCCEEDED is only the window of a task cancelled while running.
    expect(checkInvariants({ ...honest(), cancelled }).violations).toEqual(['task 3: cancelled (not running) but its record says SUCCEEDED']);
    expect(checkInvariants({ ...honest(), cancelled: new Map([[3, { wasRunning: true }]]) }).violations).toEqual([]);
    // A leftover copy the redrive policy moved (no reason) is a stray; a dead letter of a cancelled task is wrong.
    base.dlq.set(3, ['']);
    expect(checkInvariants({ ...base, cancelled })).toMatchObject({ violations: [], strayDlqCopies: 1 });
    base.dlq.set(3, ['attempts-exhausted']);
    expect(checkInvariants({ ...base, cancelled }).violations).toEqual(['task 3: cancelled, yet dead-lettered (attempts-exhausted)']);
  });

  it('fails when a task is lost (neither SUCCEEDED nor on the DLQ)', () => {
    const o = honest();
    o.table.set(2, 'IN_PROGRESS');
    const v = checkInvariants(o);
    expect(v.lost).toBe(1);
    expect(v.violations.join('\n')).toMatch(/task 2: lost/);
  });

  it('fails when a task has no record at all and is not on the DLQ', () => {
    const o = honest();
    o.table.delete(4);
    o.dlq.delete(4);
    expect(checkInvariants(o).lost).toBe(1);
  });

  it('fails when an effect is doubled', () => {
    const o = honest();
    o.ledger.apply(1);
    const v = checkInvariants(o);
    expect(v.doubleEffects).toBe(1);
    expect(v.violations.join('\n')).toMatch(/task 1: effect applied 2 times/);
  });

  it('excuses a repeated effect only where a run died after its effect, and no further', () => {
    const o = honest();
    o.ledger.apply(1); // the re-run after a crash that destroyed the first run's completion
    o.ledger.excuse(1);
    expect(checkInvariants(o).violations).toEqual([]);
    o.ledger.apply(1); // a third application: not covered
    expect(checkInvariants(o).doubleEffects).toBe(1);
  });

  it('fails when a SUCCEEDED task never applied its effect, or a dead-lettered one did', () => {
    const o = honest();
    o.ledger.applied.delete(3);
    o.ledger.apply(4);
    const text = checkInvariants(o).violations.join('\n');
    expect(text).toMatch(/task 3: SUCCEEDED but its effect was never applied/);
    expect(text).toMatch(/task 4: dead-lettered .* yet an effect was applied/);
  });

  it('fails when a dead-lettered task is on the DLQ only without a reason (moved by the redrive policy)', () => {
    const o = honest();
    o.dlq.set(4, ['']);
    const v = checkInvariants(o);
    expect(v.lost).toBe(1);
    expect(v.violations.join('\n')).toMatch(/only without a reason attribute/);
  });

  it('counts, without failing, a task the redrive policy moved because the invocation holding its last receive died — and only that', () => {
    const o = honest();
    o.dlq.set(4, ['']);
    const diedOnLastReceive = new Set([4]);
    const v = checkInvariants({ ...o, diedOnLastReceive });
    expect(v).toMatchObject({ lost: 0, movedAfterDeath: 1 });
    expect(v.violations).toEqual([]);
    // Its dead letter sent, the death cut off the record's write: IN_PROGRESS, yet nothing acknowledged it.
    o.dlq.set(4, ['attempts-exhausted', '']);
    o.table.set(4, 'IN_PROGRESS');
    expect(checkInvariants({ ...o, diedOnLastReceive }).violations).toEqual([]);
    expect(checkInvariants(o).violations.join('\n')).toMatch(/task 4: acknowledged while its record says IN_PROGRESS/);
    // Dead-lettered because another copy kept its lease: the record is that copy's.
    const leaseHeld = { ...o, dlq: new Map([[4, ['redeliveries-exhausted']]]), dlqLastErrors: new Map([[4, ['received 9 times without completing (bound 8); last: another copy holds the lease']]]) };
    expect(checkInvariants(leaseHeld)).toMatchObject({ violations: [], statusMismatches: 1 });
    expect(checkInvariants({ ...leaseHeld, dlqLastErrors: new Map([[4, ['received 9 times without completing (bound 8); last: task table unavailable']]]) }).violations.join('\n')).toMatch(/acknowledged while its record says IN_PROGRESS/);
    o.dlq.set(4, ['']);
    o.table.set(4, 'DEAD_LETTERED');
    // A death on the last receive of another task excuses nothing here.
    const other = checkInvariants({ ...o, diedOnLastReceive: new Set([2]) });
    expect(other).toMatchObject({ lost: 1, movedAfterDeath: 0 });
  });

  it('counts stray DLQ copies (a reasonless copy next to the reasoned one, a copy of a SUCCEEDED task) without failing', () => {
    const o = honest();
    o.dlq.set(4, ['attempts-exhausted', '']);
    o.dlq.set(0, ['']);
    const v = checkInvariants(o);
    expect(v.violations).toEqual([]);
    expect(v).toMatchObject({ succeeded: 4, deadLettered: 1, lost: 0, strayDlqCopies: 2, statusMismatches: 0 });
  });

  it('counts a dead-lettered task whose record says otherwise as a status mismatch (the table refused: no record)', () => {
    const o = honest();
    o.table.delete(4);
    o.dlq.set(4, ['table-unavailable']);
    const v = checkInvariants(o);
    expect(v.violations).toEqual([]);
    expect(v).toMatchObject({ deadLettered: 1, statusMismatches: 1 });
  });

  it('fails when the DLQ alarm disagrees with the DLQ, either way, or was never evaluated', () => {
    const silent = honest();
    const lying = { ...silent, alarmChecks: [{ dlqVisible: 3, state: 'OK' }, { dlqVisible: 0, state: 'ALARM' }] };
    expect(checkInvariants(lying).violations).toHaveLength(2);
    expect(checkInvariants({ ...silent, alarmChecks: [{ dlqVisible: 2, state: 'INSUFFICIENT_DATA' }] }).violations).toHaveLength(1);
    expect(checkInvariants({ ...silent, alarmChecks: [] }).violations).toEqual(['the DLQ alarm was never evaluated']);
  });

  it('fails when an acknowledged task is left IN_PROGRESS or RETRYING, unless its dead letter says the table refused', () => {
    const o = honest();
    o.table.set(4, 'RETRYING');
    o.dlq.set(4, ['permanent-error']);
    expect(checkInvariants(o).ackedUnrecorded).toBe(1);
    o.dlq.set(4, ['table-unavailable']);
    expect(checkInvariants(o).ackedUnrecorded).toBe(0);
  });

  it('fails when a dead letter’s reason is not its injected cause', () => {
    const plans = planTasks(1, 5).map((p) => ({ ...p, kind: 'clean' as TaskPlan['kind'], failures: 0, timeouts: 0, s3Failures: 0, tableDenied: false, s3Denied: false }));
    plans[4] = { ...plans[4]!, kind: 'poison' };
    const o = { ...honest(), plans, maxAttempts: 4, bound: 10, longestPath: new Map([[4, 4]]) };
    expect(checkInvariants(o).violations).toEqual([]);
    o.dlq.set(4, ['claim-unreadable']); // S3 denial was not injected on task 4
    expect(checkInvariants(o).reasonMismatches).toBe(1);
    plans[4] = { ...plans[4]!, kind: 'clean', tableDenied: true };
    o.dlq.set(4, ['table-unavailable']);
    expect(checkInvariants(o).reasonMismatches).toBe(0);
  });

  it('fails when a handler runs more often than its attempts allow in its lives, and counts cycles past the bound', () => {
    const o = { ...honest(), maxAttempts: 4, executions: new Map([[4, 5]]), unboundedCycles: new Set([2]), longestPath: new Map([[2, 30]]), bound: 10 };
    const v = checkInvariants(o);
    expect(v.overRuns).toBe(1);
    expect(v.unboundedCycles).toBe(1);
    const redriven = new Map([[4, { reasons: ['attempts-exhausted'], lastErrors: [''], identities: new Set(['dl-1']) }]]);
    expect(checkInvariants({ ...o, unboundedCycles: new Set<number>(), redriven }).violations).toEqual([]);
  });

  it('fails when a FIFO group applies its effects out of SQS order', () => {
    const plans = planTasks(1, 5).map((p) => ({ ...p, group: 0 }));
    const o = { ...honest(), fifo: true, plans, sequence: new Map([[0, '10'], [1, '20'], [2, '30']]) };
    o.ledger.firstAppliedAt.set(0, 100);
    o.ledger.firstAppliedAt.set(1, 200);
    o.ledger.firstAppliedAt.set(2, 300);
    expect(checkInvariants(o).fifoOrder).toBe(0);
    o.ledger.firstAppliedAt.set(2, 150);
    expect(checkInvariants(o).fifoOrder).toBe(1);
  });

  it('reports repeated effects inside a documented window apart, never as double effects', () => {
    const o = honest();
    o.ledger.apply(1);
    o.ledger.excuseByWindow(1, 'copyNotRecorded');
    const v = checkInvariants(o);
    expect(v).toMatchObject({ doubleEffects: 0, excusedByWindow: { copyNotRecorded: 1, bothRefused: 0 } });
    o.ledger.apply(1);
    expect(checkInvariants(o).doubleEffects).toBe(1);
  });

  it('prints one summary line with every fault kind', () => {
    const counts = Object.fromEntries(FAULT_KINDS.map((k, i) => [k, i])) as FaultCounts;
    const line = summaryLine(checkInvariants(honest()), counts, 7);
    expect(line).toBe(
      `chaos: tasks=5 faults{${FAULT_KINDS.map((k, i) => `${k}=${i}`).join(',')}} succeeded=4 deadLettered=1 cancelled=0 lost=0 movedAfterDeath=0 doubleEffects=0 excusedByWindow{copyNotRecorded=0,bothRefused=0} ackedUnrecorded=0 unboundedCycles=0 reasonMismatches=0 overRuns=0 fifoOrder=0 strayDlqCopies=0 statusMismatches=0 seed=7`,
    );
    expect(line).toContain('lostResponse=9');
    expect(line).not.toContain('\n');
  });
});
