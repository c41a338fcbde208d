/**
 * Which records a rate or concurrency limit sent back, and go back as fresh copies rather
 * than by a visibility change (batch/finish-queue.ts). A visibility change keeps the message,
 * and each return is a receive: a task held back long enough, or one whose refusal falls in
 * an invocation that then dies, would reach the redrive policy's maxReceiveCount and be moved
 * to the DLQ without a reason. A fresh copy starts at receive count 0.
 *
 * Not on FIFO queues (a copy would go to the back of its message group and a refusal holds
 * the group back on purpose: receive-budget.ts handles its last receive), and not for
 * idempotency 'off', whose attempt count is the receive count and would restart with a copy.
 */
import type { Invocation } from '../batch/invocation.ts';
import type { Work } from '../batch/work.ts';

export function isFlowRefusal(inv: Invocation, w: Work): boolean {
  const o = w.outcome;
  return !inv.fifo && w.mode !== 'off' && o?.kind === 'redelay' && (o.cause === 'rate-limit' || o.cause === 'concurrency');
}
