/**
 * A task's timeline for the console's task page, from what the task table keeps: when it was
 * accepted, how many attempts started, the latest error (the table keeps no earlier ones, and
 * drops it when the task succeeds), the
 * next attempt when a retry is due, and how it ended (succeeded, dead-lettered or cancelled). Transitions the console itself saw
 * while the page was open (status/attempt changes between two reads) are merged in, marked
 * as observed, so a retry watched live shows each step with its time.
 */
import type { TaskStatusView } from '../../protocol/task-record.ts';

export type TimelineKind = 'accepted' | 'attempt-failed' | 'attempt-running' | 'retry-due' | 'succeeded' | 'dead-lettered' | 'cancelled' | 'observed';

export interface TimelineEvent {
  readonly kind: TimelineKind;
  /** 1-based attempt number, when the event belongs to one. */
  readonly attempt?: number;
  /** ISO-8601, when known. */
  readonly at?: string;
  readonly error?: string;
  readonly note?: string;
}

export interface ObservedTransition {
  readonly at: string;
  readonly status: string;
  readonly attempts: number;
  readonly lastError?: string;
  readonly nextAttemptAt?: string;
}

export function taskTimeline(view: TaskStatusView, observed: readonly ObservedTransition[] = []): TimelineEvent[] {
  const events: TimelineEvent[] = [];
  if (view.createdAt) events.push({ kind: 'accepted', at: view.createdAt });
  const attempts = view.attempts;
  // Attempts before the current one all ended without success: the current status says how
  // the last one is doing. Only the most recent error is stored.
  // A cancelled task's attempts all ended without success (a running one was aborted).
  const finishedFailed = view.status === 'RETRYING' || view.status === 'DEAD_LETTERED' || view.status === 'CANCELLED' ? attempts : Math.max(0, attempts - 1);
  for (let n = 1; n <= finishedFailed; n++) {
    const last = n === finishedFailed;
    events.push({
      kind: 'attempt-failed',
      attempt: n,
      ...(last && view.lastError ? { error: view.lastError } : {}),
      // updatedAt is when the last attempt failed, unless a later write (success, a new attempt, the cancel) moved it.
      ...(last && (view.status === 'RETRYING' || view.status === 'DEAD_LETTERED') && view.updatedAt ? { at: view.updatedAt } : {}),
      ...(!(last && view.lastError) ? { note: 'error not kept (the task table stores only the latest error, and none after a success)' } : {}),
    });
  }
  if (view.status === 'SUCCEEDED') events.push({ kind: 'succeeded', attempt: attempts, ...(view.updatedAt ? { at: view.updatedAt } : {}) });
  if (view.status === 'IN_PROGRESS') events.push({ kind: 'attempt-running', attempt: attempts, ...(view.updatedAt ? { at: view.updatedAt } : {}) });
  if (view.status === 'RETRYING') events.push({ kind: 'retry-due', attempt: attempts + 1, ...(view.nextAttemptAt ? { at: view.nextAttemptAt } : {}) });
  if (view.status === 'DEAD_LETTERED') {
    events.push({ kind: 'dead-lettered', ...(view.updatedAt ? { at: view.updatedAt } : {}), ...(view.deadLetterReason ? { note: view.deadLetterReason } : {}) });
  }
  if (view.status === 'CANCELLED') events.push({ kind: 'cancelled', ...(view.cancelledAt ? { at: view.cancelledAt } : {}) });
  for (const o of observed) {
    events.push({
      kind: 'observed',
      at: o.at,
      attempt: o.attempts,
      note: `seen ${o.status}${o.nextAttemptAt ? `, next attempt ${o.nextAttemptAt}` : ''}`,
      ...(o.lastError ? { error: o.lastError } : {}),
    });
  }
  return events;
}

/**
 * Remembers, per idempotency key, each distinct (status, attempts) the console read, so the
 * timeline can show transitions a single read cannot. Bounded: the oldest keys are dropped.
 */
export class TransitionLog {
  private readonly byKey = new Map<string, ObservedTransition[]>();
  constructor(private readonly maxKeys = 500, private readonly maxPerKey = 50) {}

  record(view: TaskStatusView, at: string): readonly ObservedTransition[] {
    const key = view.idempotencyKey;
    const list = this.byKey.get(key) ?? [];
    const last = list[list.length - 1];
    if (!last || last.status !== view.status || last.attempts !== view.attempts) {
      list.push({
        at,
        status: view.status,
        attempts: view.attempts,
        ...(view.lastError ? { lastError: view.lastError } : {}),
        // The record keeps nextAttemptAt after the retry; it means something only while RETRYING.
        ...(view.nextAttemptAt && view.status === 'RETRYING' ? { nextAttemptAt: view.nextAttemptAt } : {}),
      });
      if (list.length > this.maxPerKey) list.shift();
    }
    this.byKey.delete(key);
    this.byKey.set(key, list);
    if (this.byKey.size > this.maxKeys) this.byKey.delete(this.byKey.keys().next().value!);
    return list;
  }
}
