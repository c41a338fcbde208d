/**
 * The claim objects of cancelled tasks. A copy of a CANCELLED task is acknowledged without
 * running, so its payload is never fetched; its object is deleted with the batch's other
 * claim deletions once the copy proves the object is its own: the object is fetched and its
 * size and sha256 checked against the pointer (a forged pointer cannot name another task's
 * object). Same rules as after a success (finish-table.ts deletableClaim): only pointers
 * marked `exclusive`, only idempotency 'lease' and 'record', only with deleteClaimsAfterSuccess.
 * A fetch that fails leaves the object to the bucket's lifecycle rule.
 */
import { fetchClaim } from '../claim-check.ts';
import type { Invocation } from './invocation.ts';
import { errorText, pool, type Work } from './work.ts';

export async function verifiedCancelledClaims(inv: Invocation): Promise<Work[]> {
  if (!inv.cfg.deleteClaimsAfterSuccess || !inv.claimPolicy.bucketName) return [];
  const candidates = inv.works.filter(
    (w) =>
      w.outcome?.kind === 'duplicate' &&
      w.outcome.of === 'CANCELLED' &&
      (w.mode === 'lease' || w.mode === 'record') &&
      w.envelope?.payloadRef?.exclusive === true,
  );
  const verified: Work[] = [];
  await pool(candidates, inv.cfg.concurrency, async (w) => {
    try {
      await fetchClaim(inv.deps.clients, w.envelope!.payloadRef!, inv.claimPolicy);
      verified.push(w);
    } catch (error) {
      inv.log.info('claim object of a cancelled task not deleted (it could not be verified); the bucket lifecycle rule will expire it', {
        ...inv.fields(w),
        error: errorText(error),
      });
    }
  });
  return verified;
}
