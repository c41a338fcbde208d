/**
 * The "outside world" of the benchmark's task handler: records every execution of every
 * task key, so a run can prove each pipeline processed every task, and count duplicate
 * effects (a key whose handler succeeded more than once).
 */
import type { Behaviour } from './workload.ts';

export class TaskFailure extends Error {}

export class Ledger {
  readonly executions = new Map<string, number>();
  readonly successes = new Map<string, number>();
  /** Epoch ms of each key's first successful execution. */
  readonly firstSuccessAt = new Map<string, number>();
  private readonly failedOnce = new Set<string>();

  /**
   * Runs the bench task for `key`: `fail-once` throws on the key's first execution, `poison`
   * always throws (`permanent` builds the error a pipeline uses for "never retry"); else succeeds.
   */
  run(key: string, behaviour: Behaviour, permanent: (message: string) => Error = (m) => new TaskFailure(m)): void {
    this.executions.set(key, (this.executions.get(key) ?? 0) + 1);
    if (behaviour === 'poison') throw permanent(`task ${key}: payload rejected (poison)`);
    if (behaviour === 'fail-once' && !this.failedOnce.has(key)) {
      this.failedOnce.add(key);
      throw new TaskFailure(`task ${key}: transient failure (first attempt)`);
    }
    this.successes.set(key, (this.successes.get(key) ?? 0) + 1);
    if (!this.firstSuccessAt.has(key)) this.firstSuccessAt.set(key, Date.now());
  }

  succeeded(key: string): boolean {
    return this.successes.has(key);
  }

  /** Keys whose handler succeeded more than once (a second effect). */
  duplicateEffects(): number {
    return this.duplicateEffectKeys().length;
  }

  duplicateEffectKeys(): string[] {
    return [...this.successes].filter(([, count]) => count > 1).map(([key]) => key);
  }

  totalExecutions(): number {
    let n = 0;
    for (const c of this.executions.values()) n += c;
    return n;
  }
}
