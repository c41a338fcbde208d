/**
 * Phase 3: the idempotency check. Lease mode — one BatchExecuteStatement of PartiQL INSERTs
 * for first deliveries (one consistent BatchGetItem for those whose INSERT found an item), one
 * conditional UpdateItem for the others; record mode — one consistent BatchGetItem.
 * Idempotency 'off' counts attempts by the receive count.
 */
import { backoffSeconds } from '../backoff.ts';
import { isRedrive } from '../message.ts';
import { numberOf, stringOf, type AcquireRequest, type Item } from '../task-store.ts';
import type { Invocation } from './invocation.ts';
import { answeredByRecord, exhausted, keyConflict, tableUnavailable } from './outcomes.ts';
import { pool, type Work } from './work.ts';

export async function acquire(inv: Invocation): Promise<void> {
  const leaseWorks: Work[] = [];
  const recordWorks: Work[] = [];
  for (const w of inv.works) {
    if (w.outcome || !w.def) continue;
    if (w.mode === 'off') {
      w.attempts = w.receiveCount;
      if (w.attempts > w.maxAttempts) exhausted(w);
    } else if (!inv.deps.store) {
      w.outcome = { kind: 'redelay', seconds: inv.visibility(backoffSeconds(w.receiveCount, inv.cfg.backoff, inv.deps.random)), why: 'no task table is configured (TASKQ_TABLE_NAME)' };
    } else if (w.mode === 'record') recordWorks.push(w);
    else leaseWorks.push(w);
  }
  await Promise.all([acquireLeases(inv, leaseWorks), readRecords(inv, recordWorks)]);
}

/**
 * First deliveries whose INSERT found an item: mostly producer re-sends of a finished task.
 * One consistent BatchGetItem (1 read unit each) tells duplicates, leftovers, conflicts and
 * live leases apart, where a second conditional write would cost a write unit (5× the
 * price) each; only the rest take the acquire path, whose condition still decides.
 */
async function settleExisting(inv: Invocation, existing: Work[], single: Work[], now: number): Promise<void> {
  if (existing.length === 0) return;
  let items: Map<string, Item>;
  try {
    items = await inv.deps.store!.getMany(existing.map((w) => w.key!));
  } catch {
    single.push(...existing);
    return;
  }
  for (const w of existing) {
    const item = items.get(w.key!);
    // Not a redrive (those skip the INSERT): a DEAD_LETTERED record makes this a leftover copy.
    if (answeredByRecord(w, item)) continue;
    const lease = numberOf(item, 'leaseUntil');
    if (lease !== undefined && lease >= now) {
      w.outcome = { kind: 'redelay', seconds: inv.visibility((lease - now) / 1000 + 1), why: 'another copy holds the lease' };
    } else single.push(w);
  }
}

async function acquireLeases(inv: Invocation, works: Work[]): Promise<void> {
  if (works.length === 0) return;
  const store = inv.deps.store!;
  const now = inv.deps.clock.now();
  // The lease covers the whole invocation: completions are written at its end, in one batch.
  const leaseUntil = now + Math.min(inv.context.getRemainingTimeInMillis(), inv.cfg.visibilityTimeoutSeconds * 1000) + inv.cfg.leaseMarginMs;
  const nowIso = new Date(now).toISOString();
  const expiresAt = Math.floor(now / 1000) + inv.ttl;
  const request = (w: Work): AcquireRequest => ({
    key: w.key!,
    taskId: w.envelope!.id,
    type: w.envelope!.type,
    createdAt: w.envelope!.createdAt,
    leaseUntil,
    nowMs: now,
    nowIso,
    expiresAt,
    redrive: isRedrive(w.record),
  });
  // A redrive may find its record DEAD_LETTERED: the single-item path resets it.
  const fresh = works.filter((w) => w.receiveCount === 1 && !isRedrive(w.record));
  const single = works.filter((w) => !(w.receiveCount === 1 && !isRedrive(w.record)));
  const inserted = await store.insertMany(fresh.map(request));
  const existing: Work[] = [];
  fresh.forEach((w, i) => {
    const r = inserted[i]!;
    if (r === 'acquired') {
      w.attempts = 1;
      w.lease = { leaseUntil, previous: undefined };
    } else if (r === 'exists') existing.push(w);
    else tableUnavailable(inv, w, r.error);
  });
  await settleExisting(inv, existing, single, now);
  await pool(single, inv.cfg.concurrency, async (w) => {
    const r = await store.acquire(request(w));
    switch (r.kind) {
      case 'acquired':
        w.attempts = r.attempts;
        w.lease = { leaseUntil, previous: r.previous };
        if (r.previousLeaseExpired) {
          inv.log.warn('previous run of this task lost its lease (crash or timeout): counted as a failed attempt', inv.fields(w));
        }
        if (w.attempts > w.maxAttempts) exhausted(w);
        return;
      case 'succeeded':
        w.outcome = { kind: 'duplicate', of: 'SUCCEEDED' };
        return;
      case 'deadLettered':
        w.outcome = { kind: 'duplicate', of: 'DEAD_LETTERED' };
        return;
      case 'leased':
        w.outcome = { kind: 'redelay', seconds: inv.visibility((r.leaseUntil - inv.deps.clock.now()) / 1000 + 1), why: 'another copy holds the lease' };
        return;
      case 'conflict':
        keyConflict(w, r.existingType);
        return;
      default:
        tableUnavailable(inv, w, r.error);
    }
  });
}

async function readRecords(inv: Invocation, works: Work[]): Promise<void> {
  if (works.length === 0) return;
  let items: Map<string, Item>;
  try {
    items = await inv.deps.store!.getMany(works.map((w) => w.key!));
  } catch (error) {
    for (const w of works) tableUnavailable(inv, w, error);
    return;
  }
  for (const w of works) {
    const item = items.get(w.key!);
    if (answeredByRecord(w, item)) continue;
    // A redrive of a dead-lettered task starts with fresh attempts.
    w.attempts = stringOf(item, 'status') === 'DEAD_LETTERED' ? 1 : (numberOf(item, 'attempts') ?? 0) + 1;
    if (w.attempts > w.maxAttempts) exhausted(w);
  }
}
