/**
 * Results too large for the task record (MAX_RESULT_BYTES) go to S3 before the completion
 * write: one PutObject each, `results/<taskId>.json` in the claim-check bucket (a re-run of
 * the same task overwrites its own object), and the record keeps a reference (resultRef). A
 * result above MAX_STORED_RESULT_BYTES, a missing bucket or a failed upload leaves the record
 * with resultTruncated; the task still SUCCEEDED (its effect happened). Results are never logged.
 */
import { DEFAULTS } from '../../protocol/resources.ts';
import { MAX_RESULT_BYTES, MAX_STORED_RESULT_BYTES } from '../../protocol/task-record.ts';
import type { Invocation } from './invocation.ts';
import { errorText, pool, type Work } from './work.ts';

/** The JSON of a SUCCEEDED work's result, when it has one (computed once). */
export function resultJson(w: Work): string | undefined {
  if (w.outcome?.kind !== 'succeeded' || w.outcome.result === undefined) return undefined;
  return (w.resultJson ??= JSON.stringify(w.outcome.result));
}

export async function storeLargeResults(inv: Invocation): Promise<void> {
  const bucket = inv.claimPolicy.bucketName;
  const large = inv.works.filter((w) => {
    if (w.mode === 'off' || !w.envelope || !w.ran) return false;
    const json = resultJson(w);
    return json !== undefined && Buffer.byteLength(json) > MAX_RESULT_BYTES;
  });
  if (large.length === 0 || !bucket) return;
  await pool(large, inv.cfg.concurrency, async (w) => {
    const body = w.resultJson!;
    const size = Buffer.byteLength(body);
    if (size > MAX_STORED_RESULT_BYTES) return;
    const key = `${DEFAULTS.resultPrefix}${w.envelope!.id}.json`;
    try {
      const { client, sdk } = await inv.deps.clients.s3();
      await client.send(new sdk.PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: 'application/json' }));
      w.resultRef = { bucket, key, size };
    } catch (error) {
      inv.log.warn('result not stored in S3; the record says resultTruncated', { ...inv.fields(w), bytes: size, error: errorText(error) });
    }
  });
}
