/**
 * The receive budget: every return to the queue (a retry, and re-delays that use no attempt)
 * uses one of the receives the queue's redrive policy allows (maxReceiveCount), and SQS moves a
 * message past it to the DLQ without a reason. When maxReceiveCount is known and a record
 * about to go back is on its last receive, a standard queue's record is re-sent as a fresh copy
 * (receive count 0, delay ≤ 900 s; finish-queue.ts) and acknowledged; a FIFO queue's record (no
 * per-message delay, and a copy would go to the back of its group) and a retry of idempotency
 * 'off' (whose only attempt counter is the receive count) are dead-lettered here with reason
 * attempts-exhausted.
 */
import { truncateErrorText } from '../../protocol/attributes.ts';
import type { Invocation } from './invocation.ts';
import { FAILURE_KINDS, type Work } from './work.ts';

/** True when this record would go back to the queue and SQS's redrive policy would move it on its next receive. */
export function onLastReceive(inv: Invocation, w: Work): boolean {
  const max = inv.cfg.maxReceiveCount;
  return max !== undefined && w.receiveCount >= max && w.outcome !== undefined && FAILURE_KINDS.has(w.outcome.kind);
}

/**
 * A record on its last receive that cannot be re-sent as a fresh copy — on a FIFO queue, or
 * a retry of idempotency 'off' — is dead-lettered here, with a reason, instead of being moved
 * by the redrive policy without one. Returns true when the outcome became a dead letter.
 */
export function spendLastReceive(inv: Invocation, w: Work): boolean {
  if (!onLastReceive(inv, w)) return false;
  const o = w.outcome!;
  if (!inv.fifo && !(w.mode === 'off' && o.kind === 'retry')) return false; // re-sent in finishQueue()
  const budget = `receive budget exhausted (ApproximateReceiveCount ${w.receiveCount} of the redrive policy's maxReceiveCount ${inv.cfg.maxReceiveCount})`;
  const detail =
    o.kind === 'retry' ? `after attempt ${w.attempts} of ${w.maxAttempts}: ${o.error}` : o.kind === 'redelay' ? `while re-delayed: ${o.why}` : 'while not started before the invocation deadline';
  w.outcome = { kind: 'deadLetter', reason: 'attempts-exhausted', error: truncateErrorText(`${budget} ${detail}`) };
  return true;
}
