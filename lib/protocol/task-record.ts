/**
 * The task table's item: one per idempotency key, holding idempotency state and the status
 * producers poll. Written by the consumer runtime, read by the producer's status lookup and
 * the CLI. Attribute names are the item's field names; keep items under 1 KB.
 * DynamoDB types: strings S, numbers N, `result` a JSON string (S).
 *
 *   (PENDING) → IN_PROGRESS(lease) → SUCCEEDED
 *                  │ retryable error → RETRYING(attempts, nextAttemptAt, lastError) → IN_PROGRESS …
 *                  └ permanent error or attempts exhausted → DEAD_LETTERED(deadLetterReason)
 *   (no record) / IN_PROGRESS / RETRYING ── producer.cancel() ──▶ CANCELLED(cancelledAt)
 *
 * PENDING is never written: a task with no item has been accepted but not started yet
 * (or its id is unknown, or its record expired).
 */
import type { DeadLetterReason } from './errors.ts';

export type TaskStatus = 'PENDING' | 'IN_PROGRESS' | 'RETRYING' | 'SUCCEEDED' | 'DEAD_LETTERED' | 'CANCELLED';

/** The states a task never leaves (a redrive aside, which may run a DEAD_LETTERED task again). */
export const FINAL_STATUSES: readonly TaskStatus[] = ['SUCCEEDED', 'DEAD_LETTERED', 'CANCELLED'];

export interface TaskRecord {
  /** The idempotency key (partition key `pk`). */
  readonly pk: string;
  readonly taskId: string;
  readonly type: string;
  readonly status: Exclude<TaskStatus, 'PENDING'>;
  /** Handler executions started (a lease found expired counts as a failed one). */
  readonly attempts: number;
  /** Epoch ms until which the current holder owns the task (lease mode). */
  readonly leaseUntil?: number;
  /** ISO-8601: when the producer accepted the task. */
  readonly createdAt: string;
  /** ISO-8601: last write. */
  readonly updatedAt: string;
  /** ISO-8601: when a retry is due (RETRYING). */
  readonly nextAttemptAt?: string;
  readonly lastError?: string;
  /** A small JSON result returned by the handler (≤ MAX_RESULT_BYTES), for status polling. */
  readonly result?: unknown;
  /** True (BOOL) when the handler returned a result larger than MAX_RESULT_BYTES, which was not stored. */
  readonly resultTruncated?: boolean;
  readonly deadLetterReason?: DeadLetterReason;
  /** ISO-8601: when a producer cancelled the task (CANCELLED; the record may have no type then). */
  readonly cancelledAt?: string;
  /** Epoch seconds: DynamoDB TTL. */
  readonly expiresAt: number;
}

/**
 * The TTL a producer's cancel gives a record it creates (a task not started yet): as the
 * consumer's default, longer than queue retention plus the DLQ window (14 + 14 days), so
 * every later copy and redrive still finds the cancel.
 */
export const CANCELLED_RECORD_TTL_SECONDS = 30 * 24 * 3600;

/** A handler's result larger than this is not stored (status shows resultTruncated). */
export const MAX_RESULT_BYTES = 400;

/** What the producer's getTaskStatus and the CLI's `status` return. */
export interface TaskStatusView {
  readonly taskId: string;
  readonly idempotencyKey: string;
  readonly status: TaskStatus;
  readonly type?: string;
  readonly attempts: number;
  readonly createdAt?: string;
  readonly updatedAt?: string;
  readonly nextAttemptAt?: string;
  readonly lastError?: string;
  readonly result?: unknown;
  /** The handler's result was larger than MAX_RESULT_BYTES and was not stored. */
  readonly resultTruncated?: boolean;
  readonly deadLetterReason?: DeadLetterReason;
  /** ISO-8601: when the task was cancelled (CANCELLED). */
  readonly cancelledAt?: string;
}
