/**
 * The effects ledger: the chaos task's downstream, counting every time a handler applied
 * its effect.
 *
 * What "exactly-once effect under the idempotency contract" means in lease mode: the
 * platform runs a task's handler again only when no earlier run is known to have finished —
 * never for a duplicate of a SUCCEEDED task, never while another copy holds the lease. It
 * cannot know about a run that applied its effect and then died before its SUCCEEDED
 * completion reached the table (a crash, or the function timing out). That window is the
 * handler's side of the contract: its effect must be idempotent downstream (keyed by
 * ctx.idempotencyKey). So the ledger records, per task:
 *
 * - `applied`: effects applied, raw — what a downstream WITHOUT idempotency would see;
 * - `excused`: applied effects whose run then died with its completion not in the table
 *   (the schedule killed the invocation; fault-middleware.ts observed which completions
 *   DynamoDB acknowledged, so a run whose completion did land is never excused).
 *
 * `applied − excused` is the number of effects the platform is answerable for: exactly 1 for
 * a SUCCEEDED task, 0 for a dead-lettered one. Anything above is a double effect the
 * contract does not allow; an idempotent downstream (the `distinct` view) sees exactly one.
 */
/** The README's windows ("Not promised": one effect when both stores refuse) a repeated effect may fall in. */
export type Window = 'copyNotRecorded' | 'bothRefused';

export class EffectsLedger {
  readonly applied = new Map<number, number>();
  readonly excused = new Map<number, number>();
  /**
   * Repeated effects inside a window the README's "Not promised" names, by window:
   * copyNotRecorded — the table refused the run's completion and its outcome copy was not
   * recorded before another copy took the task over after lease + grace; bothRefused — the
   * table refused the completion and SQS the outcome copy, so the message went back and ran again. Reported apart, never counted as double effects.
   */
  readonly byWindow: Record<Window, Map<number, number>> = { copyNotRecorded: new Map(), bothRefused: new Map() };
  /** When each task's effect was first applied (FIFO order). */
  readonly firstAppliedAt = new Map<number, number>();

  apply(task: number, at = Date.now()): void {
    this.applied.set(task, (this.applied.get(task) ?? 0) + 1);
    if (!this.firstAppliedAt.has(task)) this.firstAppliedAt.set(task, at);
  }

  excuse(task: number): void {
    this.excused.set(task, (this.excused.get(task) ?? 0) + 1);
  }

  excuseByWindow(task: number, window: Window): void {
    const map = this.byWindow[window];
    map.set(task, (map.get(task) ?? 0) + 1);
  }

  /** Effects the platform is answerable for. */
  accountable(task: number): number {
    return (this.applied.get(task) ?? 0) - (this.excused.get(task) ?? 0) - (this.byWindow.copyNotRecorded.get(task) ?? 0) - (this.byWindow.bothRefused.get(task) ?? 0);
  }

  windowTotal(window: Window): number {
    let sum = 0;
    for (const v of this.byWindow[window].values()) sum += v;
    return sum;
  }

  /** What an idempotent downstream holds: 1 when the task's effect happened at all. */
  distinct(task: number): number {
    return (this.applied.get(task) ?? 0) > 0 ? 1 : 0;
  }

  get totalApplied(): number {
    let sum = 0;
    for (const v of this.applied.values()) sum += v;
    return sum;
  }

  get totalExcused(): number {
    let sum = 0;
    for (const v of this.excused.values()) sum += v;
    return sum;
  }
}
