/** Each record's outcome as one log line (ids, type, attempt, reason — never the payload) and its metrics. */
import { UNKNOWN_TASK_TYPE } from '../telemetry.ts';
import type { Invocation } from './invocation.ts';
import type { Outcome, Work } from './work.ts';

export function report(inv: Invocation, w: Work, o: Outcome): void {
  const type = w.def ? w.envelope!.type : UNKNOWN_TASK_TYPE;
  const m = inv.metrics.of(type);
  // A fair-queue tenant: the message group of a standard queue's message (FIFO groups are no tenants).
  const tenant = inv.cfg.metricsTenantDimension && !inv.fifo && w.def ? w.record.attributes?.MessageGroupId : undefined;
  const t = tenant ? inv.metrics.ofTenant(type, tenant) : undefined;
  const log = inv.log;
  if (w.ran && w.durationMs !== undefined) m.handlerDuration.push(Math.round(w.durationMs * 1000) / 1000);
  const age = unfinishedAge(inv, w, o);
  if (age !== undefined) m.unfinishedTaskAge.push(age);
  switch (o.kind) {
    case 'succeeded': {
      m.processed++;
      if (t) t.processed++;
      const created = Date.parse(w.envelope!.createdAt);
      if (!Number.isNaN(created)) {
        m.endToEndLatency.push(Math.max(0, inv.deps.clock.now() - created));
        t?.endToEndLatency.push(Math.max(0, inv.deps.clock.now() - created));
      }
      log.info('task succeeded', { ...inv.fields(w), durationMs: w.durationMs });
      return;
    }
    case 'duplicate':
      if (o.of === 'CANCELLED') {
        log.info('copy of a cancelled task acknowledged without running', inv.fields(w));
        return;
      }
      m.duplicatesSkipped++;
      log.info(
        o.of === 'SUCCEEDED' ? 'duplicate skipped: task already succeeded' : 'leftover copy skipped: task already dead-lettered (only a redrive runs it again)',
        inv.fields(w),
      );
      return;
    case 'cancelled':
      log.info('task cancelled while running: its handler stopped', { ...inv.fields(w), durationMs: w.durationMs, error: o.error });
      return;
    case 'retry':
      m.failed++;
      if (t) t.failed++;
      m.retried++;
      log.warn('task failed; retry scheduled', { ...inv.fields(w), error: o.error, retryInSeconds: o.seconds });
      return;
    case 'deadLetter':
      if (w.ran) {
        m.failed++;
        if (t) t.failed++;
      }
      if (w.dlqFailed) return;
      m.deadLettered++;
      log.error('task dead-lettered', { ...inv.fields(w), reason: o.reason, attempts: inv.executions(w), error: o.reason === 'malformed-json' ? undefined : o.error });
      return;
    case 'redelay':
      log.info('task re-delayed without counting an attempt', { ...inv.fields(w), why: o.why, delaySeconds: o.seconds, receives: w.priorReceives + w.receiveCount, ...(w.resent ? { resentAsCopy: true } : {}) });
      return;
    case 'resend':
      if (o.to) log.info('task of another lane: forwarded to its lane', { ...inv.fields(w), lane: o.to.lane, delaySeconds: Math.min(900, Math.ceil(o.seconds)) });
      else log.info('task not due yet: re-sent with a delay', { ...inv.fields(w), delaySeconds: Math.min(900, Math.ceil(o.seconds)) });
      return;
    case 'notStarted':
      if (o.blockedBy !== undefined) log.info('not started: an earlier record of its FIFO message group goes back first', { ...inv.fields(w), blockedBy: o.blockedBy });
      else log.warn('task not started before the invocation deadline; returned without counting an attempt', inv.fields(w));
      return;
    case 'superseded':
      log.info('debounced task superseded by a later send of its key: acknowledged without running', { ...inv.fields(w), latestVersion: o.by });
      return;
    case 'recorded':
      log.info(o.superseded ? 'outcome copy acknowledged: another run had taken the task over' : 'outcome copy recorded', { ...inv.fields(w), status: o.status });
      return;
  }
}

/**
 * Seconds since the task was created (or became due) when it goes back to the queue
 * unfinished: a retry, a return without an attempt (not the wait for its notBefore), a record
 * not started. Undefined otherwise. Measured from the envelope, not the SQS copy, so a task
 * the consumer keeps re-sending as fresh copies still grows old.
 */
function unfinishedAge(inv: Invocation, w: Work, o: Outcome): number | undefined {
  if (!w.envelope) return undefined;
  if (!(o.kind === 'retry' || o.kind === 'notStarted' || (o.kind === 'redelay' && o.cause !== 'not-due'))) return undefined;
  const created = Date.parse(w.envelope.createdAt);
  const due = w.envelope.notBefore !== undefined ? Date.parse(w.envelope.notBefore) : Number.NaN;
  const since = Math.max(Number.isNaN(created) ? -Infinity : created, Number.isNaN(due) ? -Infinity : due);
  return Number.isFinite(since) ? Math.max(0, Math.round((inv.deps.clock.now() - since) / 1000)) : undefined;
}
