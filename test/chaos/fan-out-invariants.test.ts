/**
 * The fan-out invariant must be able to fail: fed doctored observations, checkFanOut reports a
 * target run twice, a target that never ran, a planned permanent failure that applied its
 * effect or lost its reason, and a target re-run for nothing of its own (its sibling failed) —
 * and passes an honest run, in which the failing target's retries and an infrastructure
 * dead letter are explained.
 */
import { describe, expect, it } from 'vitest';
import { checkFanOut, FAILING_TARGET, planEvents, targetId, targetIdOfBody, targetIdOfKey, type FanOutObserved } from './harness/fan-out.ts';
import { EffectsLedger } from './harness/ledger.ts';

const plans = planEvents(7, 8);
const flaky = plans.find((p) => p.failing === 'flaky')!;
const permanent = plans.find((p) => p.failing === 'permanent')!;

/** Every target of every event ran once, the flaky one after its failures; the permanent one dead-lettered. */
function honest(): FanOutObserved & { ledger: EffectsLedger; executions: Map<number, number>; failedExecutions: Map<number, number>; deaths: Map<number, number>; table: Map<number, string>; dlq: Map<number, string[]> } {
  const ledger = new EffectsLedger();
  const executions = new Map<number, number>();
  const failedExecutions = new Map<number, number>();
  const table = new Map<number, string>();
  const dlq = new Map<number, string[]>();
  for (const p of plans) {
    for (const target of ['chaos_receipt', 'chaos_ledger'] as const) {
      const id = targetId(p.index, target);
      const failing = target === FAILING_TARGET ? p.failing : 'healthy';
      if (failing === 'permanent') {
        executions.set(id, 1);
        failedExecutions.set(id, 1);
        table.set(id, 'DEAD_LETTERED');
        dlq.set(id, ['permanent-error']);
        continue;
      }
      const failures = failing === 'flaky' ? p.failures : 0;
      executions.set(id, failures + 1);
      if (failures > 0) failedExecutions.set(id, failures);
      ledger.apply(id);
      table.set(id, 'SUCCEEDED');
    }
  }
  return { plans, published: plans.map((p) => p.index), ledger, executions, failedExecutions, deaths: new Map(), table, dlq };
}

describe('fan-out invariant checker', () => {
  it('plans flaky and permanent failures of one target, and reads target ids back from keys and bodies', () => {
    expect(flaky.failures).toBeGreaterThan(0);
    expect(permanent).toBeDefined();
    expect(targetIdOfKey(`${flaky.eventId}:${FAILING_TARGET}`)).toBe(targetId(flaky.index, FAILING_TARGET));
    expect(targetIdOfBody(`{"v":1,"idempotencyKey":"ev-3:chaos_receipt"}`)).toBe(targetId(3, 'chaos_receipt'));
    // A key without its target names no target.
    expect(targetIdOfKey('ev-3')).toBe(-1);
  });

  it('passes an honest run, and a target dead-lettered by an infrastructure bound with no effect', () => {
    const o = honest();
    expect(checkFanOut(o)).toMatchObject({ violations: [], targets: 16, succeeded: 15, deadLettered: 1, lost: 0, doubleRuns: 0, unexplainedReruns: 0 });
    const id = targetId(0, 'chaos_receipt');
    o.ledger.applied.delete(id);
    o.table.set(id, 'DEAD_LETTERED');
    o.dlq.set(id, ['table-unavailable']);
    expect(checkFanOut(o)).toMatchObject({ violations: [], infraDeadLettered: 1 });
  });

  it('fails when a target runs its effect twice, unless a run died after it unrecorded (excused)', () => {
    const o = honest();
    const id = targetId(flaky.index, 'chaos_receipt');
    o.ledger.apply(id);
    o.executions.set(id, 2);
    o.deaths.set(id, 1);
    expect(checkFanOut(o).doubleRuns).toBe(1);
    o.ledger.excuse(id);
    expect(checkFanOut(o).violations).toEqual([]);
  });

  it('fails when a target never ran (a key shared by the targets: the second finds the first SUCCEEDED)', () => {
    const o = honest();
    const id = targetId(2, FAILING_TARGET);
    o.ledger.applied.delete(id);
    o.table.delete(id);
    o.executions.delete(id);
    const v = checkFanOut(o);
    expect(v.lost).toBe(1);
    expect(v.violations[0]).toMatch(/ev-2 → chaos_ledger: planned to succeed, yet its record says nothing/);
  });

  it('fails when a permanently failing target applied its effect or was dead-lettered without its reason', () => {
    const o = honest();
    const id = targetId(permanent.index, FAILING_TARGET);
    o.dlq.set(id, ['']);
    expect(checkFanOut(o).lost).toBe(1);
    o.dlq.set(id, ['permanent-error']);
    o.ledger.apply(id);
    expect(checkFanOut(o).violations).toHaveLength(1);
  });

  it('fails when a failing target re-runs its sibling (a run beyond the first with no failure, death or excused repeat of its own)', () => {
    const o = honest();
    const sibling = targetId(flaky.index, 'chaos_receipt');
    o.executions.set(sibling, 1 + flaky.failures);
    const v = checkFanOut(o);
    expect(v.unexplainedReruns).toBe(1);
    expect(v.violations[0]).toMatch(new RegExp(`${flaky.eventId} → chaos_receipt: its handler ran ${1 + flaky.failures} times .*its sibling chaos_ledger failed ${flaky.failures}`));
  });
});
