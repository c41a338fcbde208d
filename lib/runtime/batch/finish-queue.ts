/**
 * Phase 5b: the queue. Visibility changes for retries and re-delays (ChangeMessageVisibilityBatch,
 * 10 per call), fresh copies re-sent for tasks not due yet, for tasks a rate or concurrency
 * limit refused (SendMessageBatch; flow-refusal.ts), and for records on their last receive
 * (receive-budget.ts). A failed re-send falls back to a visibility change or leaves the record
 * to the redrive policy; nothing here fails a record that was settled.
 */
import type { Invocation } from './invocation.ts';
import { encodeOutcome } from './outcome-copy.ts';
import { onLastReceive } from './receive-budget.ts';
import { isFlowRefusal } from '../flow/flow-refusal.ts';
import { errorText, totalReceives, type Outcome, type Work } from './work.ts';

export async function finishQueue(inv: Invocation): Promise<void> {
  const visibility: { receiptHandle: string; seconds: number }[] = [];
  const resends: Work[] = [];
  /** Refused by a rate or concurrency limit: re-sent as fresh copies, so that refusals never use up receives. */
  const refusals: Work[] = [];
  /** Going back on their last receive: re-sent as fresh copies (standard queues; see spendLastReceive for the rest). */
  const lastReceives: Work[] = [];
  /** Finished, but the table refused the outcome: acknowledged only once an outcome copy carries it. */
  const outcomeCopies: Work[] = [];
  for (const w of inv.works) {
    const o = w.outcome;
    if (w.unrecorded) outcomeCopies.push(w);
    else if (o?.kind === 'resend') resends.push(w);
    else if (isFlowRefusal(inv, w)) refusals.push(w);
    // FIFO: a fresh copy would go to the back of its message group (spendLastReceive decides there).
    else if (onLastReceive(inv, w) && !inv.fifo) lastReceives.push(w);
    else if (o?.kind === 'retry' || o?.kind === 'redelay') visibility.push({ receiptHandle: w.record.receiptHandle, seconds: o.seconds });
  }
  if (!inv.queueUrl) {
    if (visibility.length + resends.length + refusals.length + lastReceives.length + outcomeCopies.length > 0) {
      inv.log.warn('no queue URL: visibility changes and re-sends skipped (messages return after the visibility timeout)');
    }
    for (const w of resends) w.outcome = { kind: 'redelay', seconds: 0, why: 'no queue URL', cause: 'not-due' };
    for (const w of outcomeCopies) w.copyFailed = true;
    return;
  }
  const queueUrl = inv.queueUrl;
  await Promise.all([
    resendRefusals(inv, queueUrl, refusals, visibility),
    ...resends.map(async (w) => {
      const o = w.outcome as Extract<Outcome, { kind: 'resend' }>;
      try {
        // Receives before it was due are no fault: the copy carries only what came before them.
        await inv.deps.sqs.resendCopy(o.to?.queueUrl ?? queueUrl, w.record, { delaySeconds: o.seconds, priorReceives: w.priorReceives, fifo: inv.fifo });
      } catch (error) {
        inv.log.warn(o.to ? `forwarding to lane ${o.to.lane} failed; re-delaying by visibility instead` : 'delayed re-send failed; re-delaying by visibility instead', { ...inv.fields(w), error: errorText(error) });
        w.outcome = { kind: 'redelay', seconds: inv.visibility(o.seconds), why: 're-send failed', cause: 'not-due' };
        visibility.push({ receiptHandle: w.record.receiptHandle, seconds: inv.visibility(o.seconds) });
      }
    }),
    ...lastReceives.map(async (w) => {
      const o = w.outcome as Extract<Outcome, { kind: 'retry' | 'redelay' | 'notStarted' }>;
      const seconds = o.kind === 'notStarted' ? 0 : o.seconds;
      const fields = { ...inv.fields(w), receiveCount: w.receiveCount, maxReceiveCount: inv.cfg.maxReceiveCount };
      try {
        await inv.deps.sqs.resendCopy(queueUrl, w.record, { delaySeconds: seconds, priorReceives: totalReceives(w), fifo: inv.fifo });
        w.resent = true;
        inv.log.info('last receive before the redrive policy would move it: re-sent as a fresh copy', { ...fields, delaySeconds: Math.min(900, Math.ceil(seconds)) });
      } catch (error) {
        // Reported as a failure: the redrive policy stays the safety net.
        inv.log.warn('re-send on the last receive failed; returned to the queue (the redrive policy may move it to the DLQ)', { ...fields, error: errorText(error) });
        if (o.kind !== 'notStarted') visibility.push({ receiptHandle: w.record.receiptHandle, seconds: o.seconds });
      }
    }),
    ...outcomeCopies.map(async (w) => {
      try {
        const outcome = encodeOutcome(w.unrecorded!, w.lease ? inv.owner : undefined);
        await inv.deps.sqs.resendCopy(queueUrl, w.record, { delaySeconds: 0, priorReceives: totalReceives(w), outcome, fifo: inv.fifo });
        inv.log.warn('outcome sent on in an outcome copy; the copy records it', { ...inv.fields(w), status: w.unrecorded!.status?.S });
      } catch (error) {
        // Neither the table nor the queue took the outcome: the message goes back (docs/GUARANTEES.md "Not promised").
        w.copyFailed = true;
        inv.log.error('outcome copy not sent; the message goes back to the queue', { ...inv.fields(w), error: errorText(error) });
      }
    }),
  ]);
  try {
    const failed = await inv.deps.sqs.changeVisibility(queueUrl, visibility);
    if (failed > 0) inv.log.warn('some visibility changes failed; those messages return after the queue visibility timeout', { failed });
  } catch (error) {
    inv.log.warn('visibility changes failed', { error: errorText(error) });
  }
}

/**
 * Tasks a limit refused go back as fresh copies — same body and attributes (task id,
 * idempotency key, attempts in the table), the receives before this one carried, delayed by the
 * limit's wait (at most 900 s; a longer wait is refused again) — and the record is
 * acknowledged: a refusal never brings a task nearer the redrive policy's maxReceiveCount.
 * A copy that could not be sent goes back by visibility instead.
 */
async function resendRefusals(inv: Invocation, queueUrl: string, refusals: readonly Work[], visibility: { receiptHandle: string; seconds: number }[]): Promise<void> {
  if (refusals.length === 0) return;
  const seconds = (w: Work) => (w.outcome as Extract<Outcome, { kind: 'redelay' }>).seconds;
  const failed = await inv.deps.sqs.resendCopies(
    queueUrl,
    // The refusal's own receive is not carried: the limiter alone never brings a task nearer the bound on returns without an attempt.
    refusals.map((w) => ({ record: w.record, copy: { delaySeconds: seconds(w), priorReceives: totalReceives(w) - 1, fifo: false } })),
  );
  for (const w of refusals) {
    if (failed.has(w.record)) visibility.push({ receiptHandle: w.record.receiptHandle, seconds: seconds(w) });
    else w.resent = true;
  }
  if (failed.size > 0) inv.log.warn('refused tasks not re-sent; re-delayed by visibility instead', { failed: failed.size });
}
