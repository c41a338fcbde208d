/**
 * Phase 3: the idempotency check. Lease mode — one BatchExecuteStatement of PartiQL INSERTs
 * for first deliveries (one consistent BatchGetItem for those whose INSERT found an item), one
 * conditional UpdateItem for the others (redrives: acquireRedrive); record mode — one
 * consistent BatchGetItem. Idempotency 'off' counts attempts by the receive count. Outcome
 * copies write the outcome they carry instead (outcome-copy.ts).
 *
 * Every lease carries this invocation's owner token, so that a lease-taking write whose
 * response was lost, and which the SDK retried, is recognised as ours.
 */
import { redriveIdOf } from '../message.ts';
import { numberOf, stringOf, type AcquireRequest, type AcquireResult, type Item } from '../task-store.ts';
import type { Invocation } from './invocation.ts';
import { answeredByRecord, exhausted, keyConflict, tableUnavailable, unconsumedRedrive } from './outcomes.ts';
import { errorText, pool, type Work } from './work.ts';

export async function acquire(inv: Invocation): Promise<void> {
  const leaseWorks: Work[] = [];
  const recordWorks: Work[] = [];
  const outcomeCopies: Work[] = [];
  for (const w of inv.works) {
    if (w.outcome || !w.envelope) continue;
    if (w.pending) {
      if (inv.deps.store) outcomeCopies.push(w);
      else w.outcome = { kind: 'recorded', status: stringOf(w.pending.item, 'status') ?? '?', superseded: true };
      continue;
    }
    if (!w.def) continue;
    if (w.mode === 'off') {
      w.attempts = w.receiveCount;
      if (w.attempts > w.maxAttempts) exhausted(w);
    } else if (!inv.deps.store) {
      w.outcome = { kind: 'redelay', seconds: inv.noAttemptDelay(w), why: 'no task table is configured (TASKQ_TABLE_NAME)', cause: 'no-table' };
    } else if (w.mode === 'record') recordWorks.push(w);
    else leaseWorks.push(w);
  }
  // Outcome copies first: a copy of the same task in this batch must find the outcome they record, not race
  // it with a lease-taking write that would take the finished run's task over (and run it again).
  await applyOutcomeCopies(inv, outcomeCopies);
  await Promise.all([acquireLeases(inv, leaseWorks), readRecords(inv, recordWorks)]);
}

/**
 * First deliveries whose INSERT found an item: mostly producer re-sends of a finished task —
 * or our own INSERT, applied before its response was lost. One consistent BatchGetItem (1 read
 * unit each) tells them apart, where a second conditional write would cost a write unit (5×
 * the price) each; only the rest take the acquire path, whose condition still decides.
 */
async function settleExisting(inv: Invocation, existing: Work[], single: Work[], now: number, leaseUntil: number): Promise<void> {
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
    if (stringOf(item, 'owner') === inv.owner && numberOf(item, 'leaseUntil') === leaseUntil) {
      // Our own INSERT: it created the item, so a release deletes it.
      w.attempts = numberOf(item, 'attempts') ?? 1;
      w.lease = { leaseUntil, previous: undefined };
      continue;
    }
    // Not a redrive (those skip the INSERT): a DEAD_LETTERED record makes this a leftover copy.
    if (answeredByRecord(w, item)) continue;
    const lease = numberOf(item, 'leaseUntil');
    if (lease !== undefined && lease >= now - inv.cfg.takeoverGraceMs) {
      w.outcome = { kind: 'redelay', seconds: inv.visibility((lease + inv.cfg.takeoverGraceMs - now) / 1000 + 1), why: 'another copy holds the lease', cause: 'lease' };
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
    takeoverBeforeMs: now - inv.cfg.takeoverGraceMs,
    nowIso,
    expiresAt,
    owner: inv.owner,
  });
  // A redrive takes the single-item path: it may reset a record that exists.
  const firstDelivery = (w: Work) => w.receiveCount === 1 && redriveIdOf(w.record) === undefined;
  const fresh = works.filter(firstDelivery);
  const single = works.filter((w) => !firstDelivery(w));
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
  await settleExisting(inv, existing, single, now, leaseUntil);
  await pool(single, inv.cfg.concurrency, async (w) => {
    const redriveId = redriveIdOf(w.record);
    const r: AcquireResult = redriveId !== undefined ? await store.acquireRedrive({ ...request(w), redriveId }) : await store.acquire(request(w));
    switch (r.kind) {
      case 'acquired':
        w.attempts = r.attempts;
        w.lease = { leaseUntil, previous: r.previous };
        if (r.redriveId !== undefined) w.redriveId = r.redriveId;
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
      case 'cancelled':
        w.outcome = { kind: 'duplicate', of: 'CANCELLED' };
        return;
      case 'leased':
        w.outcome = {
          kind: 'redelay',
          seconds: inv.visibility((r.leaseUntil + inv.cfg.takeoverGraceMs - inv.deps.clock.now()) / 1000 + 1),
          why: 'another copy holds the lease',
          cause: 'lease',
        };
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
    if (unconsumedRedrive(w, item)) {
      // A redrive starts with fresh attempts, and its records remember it (consumed once).
      w.attempts = 1;
      w.redriveId = redriveIdOf(w.record);
    } else {
      w.attempts = (numberOf(item, 'attempts') ?? 0) + 1;
      const kept = stringOf(item, 'redriveId');
      if (kept !== undefined) w.redriveId = kept;
    }
    if (w.attempts > w.maxAttempts) exhausted(w);
  }
}

/** Writes what outcome copies carry; a copy whose run's lease was taken over is acknowledged as superseded. */
async function applyOutcomeCopies(inv: Invocation, works: Work[]): Promise<void> {
  await pool(works, inv.cfg.concurrency, async (w) => {
    const { item, owner } = w.pending!;
    const status = stringOf(item, 'status')!;
    try {
      const store = inv.deps.store!;
      const result =
        owner !== undefined ? await store.putIfStillMine(item, owner) : status === 'SUCCEEDED' ? (await store.writeOne(item), 'written' as const) : await store.putUnlessSucceeded(item);
      w.outcome = { kind: 'recorded', status, superseded: result !== 'written' };
    } catch (error) {
      inv.log.warn('outcome copy not written; re-delayed without counting an attempt', { ...inv.fields(w), status, error: errorText(error) });
      w.outcome = { kind: 'redelay', seconds: inv.noAttemptDelay(w), why: `${status} not recorded: ${errorText(error)}`, cause: 'outcome' };
    }
  });
}
