/**
 * The chaos invariants must be able to fail: fed a doctored ledger or doctored system state,
 * the checker reports the lost task, the doubled effect, the reasonless dead letter and the
 * lying alarm — and passes an honest run.
 */
import { describe, expect, it } from 'vitest';
import { checkInvariants, summaryLine, type Observed } from './harness/invariants.ts';
import { EffectsLedger } from './harness/ledger.ts';
import { FAULT_KINDS, type FaultCounts } from './harness/fault-plan.ts';

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

  it('counts stray DLQ copies (a reasonless copy next to the reasoned one, a copy of a SUCCEEDED task) without failing', () => {
    const o = honest();
    o.dlq.set(4, ['attempts-exhausted', '']);
    o.dlq.set(0, ['']);
    const v = checkInvariants(o);
    expect(v.violations).toEqual([]);
    expect(v).toMatchObject({ succeeded: 4, deadLettered: 1, lost: 0, strayDlqCopies: 2, statusMismatches: 0 });
  });

  it('counts a dead-lettered task whose record says otherwise as a status mismatch', () => {
    const o = honest();
    o.table.set(4, 'RETRYING');
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

  it('prints one summary line with every fault kind', () => {
    const counts = Object.fromEntries(FAULT_KINDS.map((k, i) => [k, i])) as FaultCounts;
    const line = summaryLine(checkInvariants(honest()), counts, 7);
    expect(line).toBe(
      'chaos: tasks=5 faults{exception=0,timeout=1,functionTimeout=2,crash=3,duplicate=4,redelivery=5,dynamoThrottle=6,s3Error=7,burst=8} succeeded=4 deadLettered=1 lost=0 doubleEffects=0 strayDlqCopies=0 statusMismatches=0 seed=7',
    );
    expect(line).not.toContain('\n');
  });
});
