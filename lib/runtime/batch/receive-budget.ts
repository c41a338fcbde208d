/**
 * Two bounds on how often a task comes back.
 *
 * The receive budget: every return to the queue (a retry, and re-delays that use no attempt)
 * uses one of the receives the queue's redrive policy allows (maxReceiveCount), and SQS moves a
 * message past it to the DLQ without a reason. When maxReceiveCount is known and a record
 * about to go back is on its last receive, a standard queue's record is re-sent as a fresh copy
 * (receive count 0, delay ≤ 900 s; finish-queue.ts) and acknowledged; a FIFO queue's record (no
 * per-message delay, and a copy would go to the back of its group) and a retry of idempotency
 * 'off' (whose only attempt counter is the receive count) are dead-lettered here instead.
 *
 * The bound on returns without an attempt: fresh copies reset the receive count, so a task
 * that can never run (a table or claim object that keeps refusing, an outcome that cannot be
 * written) would cycle for ever. The copies carry the receives of the earlier ones
 * (COPY_ATTRIBUTES.priorReceives); a task received maxAttempts + maxNoAttemptReturns times in
 * all is dead-lettered with the reason of what kept it from running. Records never started
 * (the invocation's deadline, an earlier failure in their FIFO group) are never dead-lettered
 * for it: that is no fault of theirs.
 */
import { truncateErrorText } from '../../protocol/attributes.ts';
import type { DeadLetterReason } from '../../protocol/errors.ts';
import type { Invocation } from './invocation.ts';
import { FAILURE_KINDS, totalReceives, type RedelayCause, type Work } from './work.ts';

/** The dead-letter reason of a task whose returns without an attempt had this cause. */
export const NO_ATTEMPT_REASONS: Record<RedelayCause, DeadLetterReason | undefined> = {
  table: 'table-unavailable',
  'no-table': 'table-unavailable',
  claim: 'claim-unavailable',
  outcome: 'outcome-unrecorded',
  lease: 'redeliveries-exhausted',
  'batch-duplicate': 'redeliveries-exhausted',
  // Waiting for its notBefore is no fault: bounded by the due time itself.
  'not-due': undefined,
  // Flow control holds a task back on purpose (docs/FLOW-CONTROL.md): its returns count toward the
  // bound (receives across copies), but the limiter alone never dead-letters a task.
  'rate-limit': undefined,
  concurrency: undefined,
};

/** True when this record would go back to the queue and SQS's redrive policy would move it on its next receive. */
export function onLastReceive(inv: Invocation, w: Work): boolean {
  const max = inv.cfg.maxReceiveCount;
  return max !== undefined && w.receiveCount >= max && w.outcome !== undefined && FAILURE_KINDS.has(w.outcome.kind);
}

/**
 * A record on its last receive that cannot be re-sent as a fresh copy — on a FIFO queue, or
 * a retry of idempotency 'off' — is dead-lettered here, with a reason, instead of being moved
 * by the redrive policy without one; a record never started is not (it goes back, and the
 * redrive policy stays the safety net). Returns true when the outcome became a dead letter.
 */
export function spendLastReceive(inv: Invocation, w: Work): boolean {
  if (!onLastReceive(inv, w)) return false;
  const o = w.outcome!;
  if (o.kind === 'notStarted') return false;
  if (!inv.fifo && !(w.mode === 'off' && o.kind === 'retry')) return false; // re-sent in finishQueue()
  const budget = `receive budget exhausted (ApproximateReceiveCount ${w.receiveCount} of the redrive policy's maxReceiveCount ${inv.cfg.maxReceiveCount})`;
  if (o.kind === 'retry') {
    w.outcome = { kind: 'deadLetter', reason: 'attempts-exhausted', error: truncateErrorText(`${budget} after attempt ${w.attempts} of ${w.maxAttempts}: ${o.error}`) };
  } else if (o.kind === 'redelay') {
    w.outcome = { kind: 'deadLetter', reason: NO_ATTEMPT_REASONS[o.cause] ?? 'redeliveries-exhausted', error: truncateErrorText(`${budget} while re-delayed: ${o.why}`) };
  } else return false;
  return true;
}

/** A return without an attempt that reaches the bound becomes a dead letter. Returns true when it did. */
export function spendNoAttemptBound(inv: Invocation, w: Work): boolean {
  const o = w.outcome;
  if (o?.kind !== 'redelay') return false;
  const reason = NO_ATTEMPT_REASONS[o.cause];
  const limit = w.maxAttempts + inv.cfg.maxNoAttemptReturns;
  if (reason === undefined || totalReceives(w) < limit) return false;
  w.outcome = {
    kind: 'deadLetter',
    reason,
    error: truncateErrorText(`received ${totalReceives(w)} times without completing (bound maxAttempts + maxNoAttemptReturns = ${limit}); last: ${o.why}`),
  };
  return true;
}
