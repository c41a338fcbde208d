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
  /** A larger result, stored in S3. */
  readonly resultRef?: ResultRef;
  /** True (BOOL) when the handler's result could be stored neither in the record nor in S3. */
  readonly resultTruncated?: boolean;
  readonly deadLetterReason?: DeadLetterReason;
  /** ISO-8601: when a producer cancelled the task (CANCELLED; the record may have no type then). */
  readonly cancelledAt?: string;
  /** Epoch seconds: DynamoDB TTL. */
  readonly expiresAt: number;
}

/**
 * The records' default TTL (the consumer's recordTtlSeconds default): longer than queue
 * retention plus the DLQ window (14 + 14 days), so every later copy and redrive still finds
 * a record. A producer's cancel gives a record it creates this TTL; stored results expire with it.
 */
export const DEFAULT_RECORD_TTL_SECONDS = 30 * 24 * 3600;

/**
 * A handler's result whose JSON is at most this many bytes is kept in the record (`result`);
 * a larger one is stored in S3 (`resultRef`, under DEFAULTS.resultPrefix of the claim-check
 * bucket), up to MAX_STORED_RESULT_BYTES. Beyond that, or without a bucket, it is not stored
 * (resultTruncated). Keeps the record under 1 KB: one write unit.
 */
export const MAX_RESULT_BYTES = 400;

/** The largest result stored in S3 (1 MiB); a larger one is not stored (resultTruncated). */
export const MAX_STORED_RESULT_BYTES = 1024 * 1024;

/** Where a result larger than MAX_RESULT_BYTES was stored (record attribute `resultRef`, a JSON string). */
export interface ResultRef {
  readonly bucket: string;
  readonly key: string;
  /** Bytes of the stored JSON. */
  readonly size: number;
}

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
  /** Where a result larger than MAX_RESULT_BYTES was stored (waitForResult reads it). */
  readonly resultRef?: ResultRef;
  /** The handler's result could not be stored (larger than MAX_STORED_RESULT_BYTES, or no bucket). */
  readonly resultTruncated?: boolean;
  readonly deadLetterReason?: DeadLetterReason;
  /** ISO-8601: when the task was cancelled (CANCELLED). */
  readonly cancelledAt?: string;
}
