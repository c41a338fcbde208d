/**
 * Phase 5a: the task records. One BatchWriteItem for every completion of the batch (SUCCEEDED,
 * RETRYING, DEAD_LETTERED, released leases); conditional single writes where the lease ran out
 * (an overrun) and for record mode's failures; then the claim objects of the SUCCEEDED tasks
 * whose completion write was acknowledged are deleted (one S3 DeleteObjects).
 *
 * Why an unconditional batch Put is safe for the lease holder: the lease is taken for the rest
 * of the invocation (+ leaseMarginMs), and every other writer's acquire is conditional on "no
 * live lease", so while it is live the holder is the only writer — except a producer's
 * cancel, which may mark the task CANCELLED at any time. So only SUCCEEDED (the run finished:
 * it may replace a cancel that came too late) goes into the batch; a lease holder's RETRYING,
 * DEAD_LETTERED and releases are conditional single writes that leave a CANCELLED record alone
 * (failures are the rare path: the same write units, one request each).
 */
import { MAX_RESULT_BYTES } from '../../protocol/task-record.ts';
import { deleteClaims } from '../claim-check.ts';
import { N, S, type Item } from '../task-store.ts';
import type { Invocation } from './invocation.ts';
import { report } from './report.ts';
import { resultJson } from './store-results.ts';
import { errorText, type Outcome, type Work } from './work.ts';

/**
 * Writes the records; returns the SUCCEEDED works whose claim object may now be deleted. A
 * final outcome (SUCCEEDED, DEAD_LETTERED) the table refused is kept on its work
 * (`unrecorded`): finish-queue.ts sends it on in an outcome copy before the message is
 * acknowledged. A refused RETRYING or release write only loses status detail: the message goes
 * back anyway, and the record's expired lease counts the attempt as it ran.
 */
export async function finishTable(inv: Invocation): Promise<Work[]> {
  const now = inv.deps.clock.now();
  const nowIso = new Date(now).toISOString();
  const expiresAt = Math.floor(now / 1000) + inv.ttl;
  const batch: { w: Work; key: string; put?: Item }[] = [];
  const careful: { w: Work; item: Item }[] = [];
  /** `record` mode's RETRYING / DEAD_LETTERED writes: conditional, one call each (the rare path). */
  const unlessSucceeded: { w: Work; item: Item }[] = [];
  const claimsAcked: Work[] = [];
  /** Lease releases of items this invocation's acquire created: conditional deletes. */
  const releases: Work[] = [];
  const marks: Item[] = [];
  const safeUntil = now + 1000;

  for (const w of inv.works) {
    const o = w.outcome;
    if (!o) continue;
    report(inv, w, o);
    if (!w.envelope || !w.key || w.mode === 'off' || o.kind === 'recorded') continue;
    if (o.kind === 'cancelled') {
      // The record says CANCELLED already (the producer wrote it); the run verified its claim object.
      if (deletableClaim(inv, w)) claimsAcked.push(w);
      continue;
    }
    if (!w.def) {
      if (o.kind === 'deadLetter' && !w.dlqFailed && inv.deps.store) marks.push(recordItem(inv, w, 'DEAD_LETTERED', nowIso, expiresAt, o));
      continue;
    }
    if (w.mode === 'lease' && !w.lease) continue;
    if (w.mode === 'record' && w.attempts === 0) continue;
    let write: { key: string; put?: Item } | undefined;
    if (o.kind === 'succeeded') write = { key: w.key, put: recordItem(inv, w, 'SUCCEEDED', nowIso, expiresAt, o) };
    else if (o.kind === 'retry') write = { key: w.key, put: recordItem(inv, w, 'RETRYING', nowIso, expiresAt, o, now + o.seconds * 1000) };
    else if (o.kind === 'deadLetter' && !w.dlqFailed) write = { key: w.key, put: recordItem(inv, w, 'DEAD_LETTERED', nowIso, expiresAt, o) };
    else if (o.kind === 'deadLetter' && w.ran) write = { key: w.key, put: recordItem(inv, w, 'RETRYING', nowIso, expiresAt, { kind: 'retry', seconds: 0, error: o.error }) };
    else if (w.lease) write = { key: w.key, ...(w.lease.previous ? { put: w.lease.previous } : {}) }; // release: as before the acquire
    if (!write) continue;
    if (w.mode === 'record' && o.kind !== 'succeeded') {
      if (write.put) unlessSucceeded.push({ w, item: write.put });
      continue;
    }
    if (w.lease && (w.lease.leaseUntil < safeUntil || write.put?.status?.S !== 'SUCCEEDED')) {
      // The lease ran out (an overrun, or clocks apart: another copy may hold the task now), or a
      // write that must not replace a cancel.
      if (write.put) careful.push({ w, item: write.put });
      else releases.push(w);
    } else {
      batch.push({ w, ...write });
    }
  }

  const store = inv.deps.store;
  const tableWrites: Promise<void>[] = [];
  if (store && batch.length > 0) {
    tableWrites.push(
      store.writeMany(batch, () => inv.context.getRemainingTimeInMillis() > 500).then((failed) => {
        for (const { w, put } of batch) {
          if (failed.has(w.key!)) refused(inv, w, put, 'task record write failed after retries');
          else if (deletableClaim(inv, w)) claimsAcked.push(w);
        }
      }),
    );
  }
  for (const { w, item } of careful) {
    tableWrites.push(
      store!.putIfStillMine(item, inv.owner).then(
        (r) => {
          if (r === 'lost') inv.log.warn('the record changed under the lease (the task was cancelled, or another copy took it over after the lease ran out); completion not recorded', { ...inv.fields(w), status: item.status?.S });
          else if (deletableClaim(inv, w)) claimsAcked.push(w);
        },
        (error) => refused(inv, w, item, 'task record write failed', error),
      ),
    );
  }
  for (const w of releases) {
    tableWrites.push(
      store!.deleteIfStillMine(w.key!, inv.owner).then(
        (r) => {
          if (r === 'lost') inv.log.info('lease not released: the task was cancelled or taken over meanwhile', inv.fields(w));
        },
        (error) => refused(inv, w, undefined, 'lease release failed', error),
      ),
    );
  }
  for (const { w, item } of unlessSucceeded) {
    tableWrites.push(
      store!.putUnlessSucceeded(item).then(
        (r) => {
          if (r === 'succeeded') inv.log.info('a concurrent copy already succeeded, or the task was cancelled; failure not recorded over it', inv.fields(w));
        },
        (error) => refused(inv, w, item, 'task record write failed', error),
      ),
    );
  }
  for (const item of marks) {
    tableWrites.push(store!.markDeadLettered(item, now).then(() => undefined, (error) => inv.log.warn('could not record DEAD_LETTERED', { error: errorText(error) })));
  }
  await Promise.all(tableWrites);
  return claimsAcked;
}

/** A write the table refused: a final outcome goes on in an outcome copy; anything else is only logged. */
function refused(inv: Invocation, w: Work, item: Item | undefined, message: string, error?: unknown): void {
  const status = item?.status?.S;
  const final = status === 'SUCCEEDED' || status === 'DEAD_LETTERED';
  if (final) w.unrecorded = item;
  inv.log.error(message, {
    ...inv.fields(w),
    status: status ?? 'released',
    ...(error !== undefined ? { error: errorText(error) } : {}),
    then: final ? 'the outcome travels in an outcome copy of the message' : 'the message goes back; the record keeps the expired lease',
  });
}

/**
 * A SUCCEEDED task's claim object may go: lease mode (any later copy finds SUCCEEDED at the
 * acquire, before any fetch) and record mode (likewise at the read; a concurrent copy that
 * finds the object gone checks the record: run.ts claimGoneBecauseSucceeded). Never 'off'
 * (duplicates are not detected), never Extended Client pointers (their key is only in the
 * object, so a duplicate must fetch it first — run() only sees our payloadRef), and only a
 * pointer marked `exclusive` by its producer (docs/PROTOCOL.md: a producer may send one
 * object as several tasks), whose size and sha256 the fetch verified (a forged pointer cannot
 * name another task's object).
 */
function deletableClaim(inv: Invocation, w: Work): boolean {
  const ref = w.envelope?.payloadRef;
  return (
    inv.cfg.deleteClaimsAfterSuccess &&
    (w.outcome?.kind === 'succeeded' || w.outcome?.kind === 'cancelled') &&
    w.ran &&
    (w.mode === 'lease' || w.mode === 'record') &&
    ref !== undefined &&
    // The producer declared the object this task's alone (a shared object would vanish under the others).
    ref.exclusive === true
  );
}

/** One DeleteObjects for the batch; a failure is logged, never fails a record (the lifecycle rule is the fallback). */
export async function deleteClaimObjects(inv: Invocation, works: readonly Work[]): Promise<void> {
  const bucket = inv.claimPolicy.bucketName;
  if (works.length === 0 || !bucket) return;
  const failed = await deleteClaims(inv.deps.clients, bucket, works.map((w) => w.envelope!.payloadRef!.key));
  for (const f of failed) {
    inv.log.warn('claim-check object not deleted after success; the bucket lifecycle rule will expire it', { bucket, key: f.key, error: f.error });
  }
}

function recordItem(inv: Invocation, w: Work, status: 'SUCCEEDED' | 'RETRYING' | 'DEAD_LETTERED', nowIso: string, expiresAt: number, o: Outcome, nextAttemptAt?: number): Item {
  const e = w.envelope!;
  const item: Item = {
    pk: S(w.key!),
    taskId: S(e.id),
    type: S(e.type),
    status: S(status),
    attempts: N(inv.executions(w)),
    createdAt: S(e.createdAt),
    updatedAt: S(nowIso),
    expiresAt: N(expiresAt),
  };
  // The lease holder's token stays, so that a retry of this very write still finds it ours.
  if (w.lease) item.owner = S(inv.owner);
  if (w.redriveId !== undefined) item.redriveId = S(w.redriveId);
  if (status === 'DEAD_LETTERED' && w.deadLetterId !== undefined) item.deadLetterId = S(w.deadLetterId);
  if (o.kind === 'succeeded' && o.result !== undefined) {
    const json = resultJson(w);
    if (json !== undefined) {
      if (json.length * 3 <= MAX_RESULT_BYTES || Buffer.byteLength(json) <= MAX_RESULT_BYTES) item.result = S(json);
      else if (w.resultRef) item.resultRef = S(JSON.stringify(w.resultRef));
      else item.resultTruncated = { BOOL: true };
    }
  } else if (o.kind === 'retry') {
    item.lastError = S(o.error);
    if (nextAttemptAt !== undefined) item.nextAttemptAt = S(new Date(nextAttemptAt).toISOString());
  } else if (o.kind === 'deadLetter') {
    item.lastError = S(o.error);
    item.deadLetterReason = S(o.reason);
  }
  return item;
}
