/**
 * Cancellation of running tasks, cooperatively: while handlers run, the invocation re-reads
 * their records every `cancelCheckIntervalMs` (one consistent BatchGetItem for all the tasks
 * running at that moment, 1 read unit per task per check) and aborts the `ctx.signal` of each
 * task a producer marked CANCELLED; `ctx.checkCancelled()` reads one record at the handler's
 * request. A handler that ignores the signal runs to its end (docs/GUARANTEES.md).
 */
import { TaskCancelledError } from '../../protocol/errors.ts';
import { stringOf, type TaskStore } from '../task-store.ts';
import type { RuntimeLogger } from '../telemetry.ts';
import { errorText } from './work.ts';

interface Watched {
  readonly taskId: string;
  readonly controller: AbortController;
  readonly onCancel: () => void;
}

export class CancelWatch {
  private readonly watched = new Map<string, Watched>();
  private timer: NodeJS.Timeout | undefined;
  private checking = false;

  constructor(
    private readonly store: TaskStore,
    private readonly intervalMs: number,
    private readonly log: RuntimeLogger,
  ) {}

  /** Watches a running task's record until the returned function is called. */
  watch(key: string, taskId: string, controller: AbortController, onCancel: () => void): () => void {
    this.watched.set(key, { taskId, controller, onCancel });
    if (this.timer === undefined && this.intervalMs > 0) {
      this.timer = setInterval(() => void this.checkAll(), this.intervalMs);
    }
    return () => {
      this.watched.delete(key);
      if (this.watched.size === 0 && this.timer !== undefined) {
        clearInterval(this.timer);
        this.timer = undefined;
      }
    };
  }

  /** Reads one task's record now: true (and its signal aborted) when it was cancelled. */
  async checkOne(key: string): Promise<boolean> {
    const items = await this.store.getMany([key]);
    const cancelled = stringOf(items.get(key), 'status') === 'CANCELLED';
    if (cancelled) this.cancel(key);
    return cancelled;
  }

  private async checkAll(): Promise<void> {
    if (this.checking || this.watched.size === 0) return;
    this.checking = true;
    try {
      const items = await this.store.getMany([...this.watched.keys()]);
      for (const [key, item] of items) if (stringOf(item, 'status') === 'CANCELLED') this.cancel(key);
    } catch (error) {
      // A missed check only delays the abort to the next one.
      this.log.warn('cancellation check failed; trying again at the next interval', { error: errorText(error) });
    } finally {
      this.checking = false;
    }
  }

  private cancel(key: string): void {
    const w = this.watched.get(key);
    if (!w || w.controller.signal.aborted) return;
    w.onCancel();
    w.controller.abort(new TaskCancelledError(w.taskId));
  }
}
