/**
 * Phase 2: records settled before any table call — a task of another lane (forwarded to its
 * lane's queue), an unknown type (dead-lettered), a task
 * not due yet (notBefore: re-delayed, or re-sent as a fresh copy), a second record of the
 * same task in this batch (re-delayed until the first has finished).
 */
import { forwardTarget } from '../lane-routing.ts';
import type { Invocation } from './invocation.ts';

export function route(inv: Invocation): void {
  const now = inv.deps.clock.now();
  const seen = new Set<string>();
  for (const w of inv.works) {
    if (w.outcome || !w.envelope) continue;
    // An outcome copy records what a run decided: its type's handler and due time no longer matter.
    if (w.pending) continue;
    const forward = forwardTarget(inv.cfg.lanes, w.envelope.type);
    if (forward) {
      // Not run here, no attempt counted: the lane that owns the type runs it (after its notBefore, if any).
      const due = w.envelope.notBefore !== undefined ? Date.parse(w.envelope.notBefore) : now;
      w.outcome = { kind: 'resend', seconds: Math.max(0, (due - now) / 1000), to: forward };
      continue;
    }
    if (!w.def) {
      w.outcome = { kind: 'deadLetter', reason: 'unknown-type', error: `no handler is registered for task type ${JSON.stringify(w.envelope.type)}` };
      continue;
    }
    if (w.envelope.notBefore !== undefined) {
      const due = Date.parse(w.envelope.notBefore);
      if (due > now) {
        const seconds = (due - now) / 1000;
        // Each visibility hop is a receive, and the redrive policy moves a message whose receive count passes
        // maxReceiveCount: hop by visibility (≤ 12 h) while the count is low, else re-send a fresh copy (count 0).
        w.outcome =
          inv.fifo || w.receiveCount < inv.cfg.redelayReceiveBudget
            ? { kind: 'redelay', seconds: inv.visibility(seconds), why: 'not due yet (notBefore)', cause: 'not-due' }
            : { kind: 'resend', seconds };
        continue;
      }
    }
    if (w.mode !== 'off') {
      if (seen.has(w.key!)) {
        // Another record of this batch carries the same task: let it finish first.
        w.outcome = {
          kind: 'redelay',
          seconds: inv.visibility((inv.context.getRemainingTimeInMillis() + inv.cfg.leaseMarginMs) / 1000),
          why: 'duplicate in the same batch',
          cause: 'batch-duplicate',
        };
        continue;
      }
      seen.add(w.key!);
    }
  }
}
