/**
 * One record's state as it moves through an invocation's phases, and the outcomes a record
 * can end with. The phases (parse → route → acquire → run → finish) each fill in part of it.
 */
import type { SQSRecord } from 'aws-lambda';
import type { DeadLetterReason } from '../../protocol/errors.ts';
import type { TaskEnvelope } from '../../protocol/envelope.ts';
import { TaskQueueError } from '../../protocol/errors.ts';
import { truncateErrorText } from '../../protocol/attributes.ts';
import type { IdempotencyMode, TaskDefinition } from '../config.ts';
import type { Item } from '../task-store.ts';
import type { HeldSlot } from '../flow/gate.ts';
import type { ResultRef } from '../../protocol/task-record.ts';

export type Outcome =
  | { readonly kind: 'succeeded'; readonly result: unknown }
  /** The task already finished (a copy of a SUCCEEDED or CANCELLED task, or a leftover copy of a DEAD_LETTERED one): acknowledged. */
  | { readonly kind: 'duplicate'; readonly of: 'SUCCEEDED' | 'DEAD_LETTERED' | 'CANCELLED' }
  /** Cancelled while its handler ran, which then stopped (threw): acknowledged; the record already says CANCELLED. */
  | { readonly kind: 'cancelled'; readonly error: string }
  /** Handler (or claim fetch) failed; an attempt was counted; comes back after `seconds`. */
  | { readonly kind: 'retry'; readonly seconds: number; readonly error: string }
  | { readonly kind: 'deadLetter'; readonly reason: DeadLetterReason; readonly error: string }
  /** Not run, no attempt counted; comes back after `seconds`. */
  | { readonly kind: 'redelay'; readonly seconds: number; readonly why: string; readonly cause: RedelayCause }
  /**
   * Not due yet; a fresh copy is re-sent with a delay and this one acknowledged. With `to`: the
   * task belongs to another lane and the copy goes to that lane's queue (lane-routing.ts).
   */
  | { readonly kind: 'resend'; readonly seconds: number; readonly to?: { readonly lane: string; readonly queueUrl: string } }
  /**
   * Not started: the invocation's deadline came first, or (FIFO) an earlier record of its
   * message group failed in this batch. No attempt counted; never dead-lettered for it.
   */
  | { readonly kind: 'notStarted'; readonly blockedBy?: string }
  /** A debounced send a later send of its key replaced (flow/debounce.ts): acknowledged, never run. */
  | { readonly kind: 'superseded'; readonly by: number }
  /** An outcome copy: the outcome it carries was written (or another run had taken over): acknowledged. */
  | { readonly kind: 'recorded'; readonly status: string; readonly superseded: boolean };

/**
 * Why a record went back without an attempt. Returns without an attempt are bounded
 * (maxNoAttemptReturns); the record that reaches the bound is dead-lettered with the reason
 * of its cause (NO_ATTEMPT_REASONS).
 */
export type RedelayCause = 'table' | 'claim' | 'lease' | 'batch-duplicate' | 'not-due' | 'outcome' | 'no-table' | 'rate-limit' | 'concurrency';

export type DeadLetterOutcome = Extract<Outcome, { kind: 'deadLetter' }>;

export interface Work {
  readonly record: SQSRecord;
  readonly receiveCount: number;
  envelope?: TaskEnvelope;
  key?: string;
  def?: TaskDefinition;
  mode?: IdempotencyMode;
  maxAttempts: number;
  /** This run's attempt number (lease/record: from the table; off: the receive count). */
  attempts: number;
  /** Lease mode: the lease this invocation holds. */
  lease?: { readonly leaseUntil: number; readonly previous: Item | undefined };
  /** The concurrency slot its handler holds (flow/gate.ts), until released. */
  slot?: HeldSlot;
  /** The handler ran (an attempt was used). */
  ran: boolean;
  durationMs?: number;
  outcome?: Outcome;
  dlqFailed?: boolean;
  /** Went through settle() (the receive budget was checked there). */
  settled?: boolean;
  /** On its last receive: re-sent as a fresh copy and acknowledged instead of going back. */
  resent?: boolean;
  /** Receives of the task's earlier copies (COPY_ATTRIBUTES.priorReceives). */
  readonly priorReceives: number;
  /** The redrive the task record has consumed, kept in every record written for it. */
  redriveId?: string;
  /** This record's dead-lettering id (DEAD_LETTER_ATTRIBUTES.deadLetterId), once sent to the DLQ. */
  deadLetterId?: string;
  /** An outcome copy's outcome, to write instead of running (COPY_ATTRIBUTES.outcome). */
  pending?: PendingOutcome;
  /** Its final outcome (SUCCEEDED, DEAD_LETTERED) could not be written: it travels in an outcome copy. */
  unrecorded?: Item;
  /** …and that copy could not be sent either: the record goes back to the queue. */
  copyFailed?: boolean;
  /** A group member whose count (or its group's callback) failed: its message goes back to try again (finish-groups.ts). */
  groupPending?: boolean;
  /** The JSON of a SUCCEEDED result (store-results.ts). */
  resultJson?: string;
  /** Where a result too large for the record was stored in S3. */
  resultRef?: ResultRef;
  /** The task was found CANCELLED while its handler ran (ctx.signal aborted). */
  cancelSeen?: boolean;
}

/** What an outcome copy carries: the record to write, and the lease owner it was written under. */
export interface PendingOutcome {
  readonly item: Item;
  /** Lease mode: written only while the record still has this owner. Absent: record mode. */
  readonly owner?: string;
}

/** Outcomes that send the record back to the queue (reported in batchItemFailures). */
export const FAILURE_KINDS = new Set<Outcome['kind']>(['retry', 'redelay', 'notStarted']);

export function isFailure(w: Work): boolean {
  if (w.resent) return false;
  if (w.copyFailed || w.groupPending) return true;
  return w.outcome !== undefined && (FAILURE_KINDS.has(w.outcome.kind) || (w.outcome.kind === 'deadLetter' && w.dlqFailed === true));
}

/** The receives of this task so far, across its copies (this one included). */
export function totalReceives(w: Work): number {
  return w.priorReceives + w.receiveCount;
}

export function errorText(error: unknown): string {
  if (error instanceof TaskQueueError) return truncateErrorText(error.message);
  if (error instanceof Error) return truncateErrorText(error.name && error.name !== 'Error' ? `${error.name}: ${error.message}` : error.message);
  return truncateErrorText(String(error));
}

/** Runs `fn` over items with at most `limit` at a time. */
export async function pool<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await fn(items[next++]!);
  });
  await Promise.all(workers);
}
