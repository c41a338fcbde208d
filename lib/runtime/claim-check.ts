/**
 * Reading claim-checked payloads: only from the configured bucket and under the claim
 * prefix (anything else is `pointer-not-allowed` and is never fetched), verifying size and
 * SHA-256 when the pointer states them; and deleting, in one batched request, the objects of
 * tasks that have SUCCEEDED.
 */
import { createHash } from 'node:crypto';
import { PoisonMessageError, RetryableError } from '../protocol/errors.ts';
import { DEFAULT_MAX_PAYLOAD_BYTES } from '../protocol/limits.ts';
import type { S3Client } from '@aws-sdk/client-s3';
import type { AwsClients, S3Module } from './aws-clients.ts';

export interface ClaimLocation {
  readonly bucket: string;
  readonly key: string;
  /** Expected byte length, when the pointer states it. */
  readonly size?: number;
  /** Expected lower-case hex SHA-256, when the pointer states it. */
  readonly sha256?: string;
}

export interface ClaimPolicy {
  readonly bucketName: string | undefined;
  readonly claimPrefix: string;
}

// `..` as a path segment, raw or percent-encoded (once or twice), backslashes, and encoded slashes.
const TRAVERSAL = /(^|[/\\])\.\.([/\\]|$)|\\|%(25)?2e|%(25)?2f|%(25)?5c/i;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

/** Throws `pointer-not-allowed` unless the object is in the configured bucket, under the prefix, with no traversal. */
export function assertClaimAllowed(location: Pick<ClaimLocation, 'bucket' | 'key'>, policy: ClaimPolicy): void {
  const { bucket, key } = location;
  let problem: string | undefined;
  if (!policy.bucketName) problem = 'no claim-check bucket is configured';
  else if (bucket !== policy.bucketName) problem = `bucket ${JSON.stringify(bucket)} is not the claim-check bucket`;
  else if (!key.startsWith(policy.claimPrefix) || key.length === policy.claimPrefix.length) problem = 'key is not under the claim prefix';
  else if (key.startsWith('/') || TRAVERSAL.test(key) || CONTROL.test(key) || key.includes('//')) problem = 'key contains a path traversal';
  if (problem) throw new PoisonMessageError('pointer-not-allowed', `claim-check pointer refused: ${problem}`);
}

/**
 * Errors retrying cannot fix: access denied (the role or the bucket policy), the object's KMS
 * key disabled, missing or not usable by the consumer, an archived object. docs/PROTOCOL.md
 * names them `claim-unreadable`; an operator fixes the cause and redrives.
 */
function isUnreadable(error: unknown): boolean {
  const e = error as { name?: string; Code?: string; $metadata?: { httpStatusCode?: number } };
  const name = `${e?.name ?? ''} ${e?.Code ?? ''}`;
  return /AccessDenied|KMS|InvalidObjectState|AllAccessDisabled|InvalidAccessKeyId|SignatureDoesNotMatch/i.test(name) || e?.$metadata?.httpStatusCode === 403;
}

function isNotFound(error: unknown): boolean {
  const e = error as { name?: string; Code?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name === 'NoSuchKey' || e?.name === 'NotFound' || e?.Code === 'NoSuchKey' || e?.$metadata?.httpStatusCode === 404;
}

/** Fetches and verifies a claim-checked object; returns its text (UTF-8). */
export async function fetchClaim(clients: AwsClients, location: ClaimLocation, policy: ClaimPolicy): Promise<string> {
  assertClaimAllowed(location, policy);
  if (location.size !== undefined && location.size > DEFAULT_MAX_PAYLOAD_BYTES) {
    throw new PoisonMessageError('claim-size-mismatch', `claim-check pointer states ${location.size} bytes, above the ${DEFAULT_MAX_PAYLOAD_BYTES}-byte maximum`);
  }
  let bytes: Uint8Array;
  try {
    const { client, sdk } = await clients.s3();
    const response = await client.send(new sdk.GetObjectCommand({ Bucket: location.bucket, Key: location.key }));
    const length = response.ContentLength;
    if (length !== undefined && (length > DEFAULT_MAX_PAYLOAD_BYTES || (location.size !== undefined && length !== location.size))) {
      // Do not download what cannot be right: close the stream unread (an oversize object
      // must not run the consumer out of memory).
      (response.Body as { destroy?: () => void } | undefined)?.destroy?.();
      throw new PoisonMessageError('claim-size-mismatch', `claim-check object is ${length} bytes, expected ${location.size ?? `≤ ${DEFAULT_MAX_PAYLOAD_BYTES}`}`);
    }
    if (!response.Body) throw new RetryableError('claim-check object has no body');
    bytes = await response.Body.transformToByteArray();
  } catch (error) {
    if (error instanceof PoisonMessageError || error instanceof RetryableError) throw error;
    if (isNotFound(error)) throw new PoisonMessageError('claim-missing', 'claim-check object does not exist', { cause: error });
    const name = (error as Error)?.name ?? 'Error';
    if (isUnreadable(error)) throw new PoisonMessageError('claim-unreadable', `claim-check object cannot be read: ${name}: ${(error as Error)?.message ?? String(error)}`, { cause: error });
    throw new RetryableError(`claim-check fetch failed: ${name}: ${(error as Error)?.message ?? String(error)}`, undefined, { cause: error });
  }
  if (location.size !== undefined && bytes.byteLength !== location.size) {
    throw new PoisonMessageError('claim-size-mismatch', `claim-check object is ${bytes.byteLength} bytes, expected ${location.size}`);
  }
  if (location.sha256 !== undefined) {
    const digest = createHash('sha256').update(bytes).digest('hex');
    if (digest !== location.sha256) throw new PoisonMessageError('claim-digest-mismatch', 'claim-check object SHA-256 does not match the pointer');
  }
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
}

/** S3 DeleteObjects takes at most this many keys per request. */
export const DELETE_OBJECTS_MAX_KEYS = 1000;

/**
 * Deletes claim objects (all in `bucket`) with as few DeleteObjects requests as possible
 * (Quiet: only failures are listed). Never throws: returns the keys that could not be
 * deleted, with why — the bucket's lifecycle rule removes those later.
 */
export async function deleteClaims(clients: AwsClients, bucket: string, keys: readonly string[]): Promise<{ key: string; error: string }[]> {
  const unique = [...new Set(keys)];
  const failed: { key: string; error: string }[] = [];
  if (unique.length === 0) return failed;
  let client: S3Client;
  let sdk: S3Module;
  try {
    ({ client, sdk } = await clients.s3());
  } catch (error) {
    return unique.map((key) => ({ key, error: errorName(error) }));
  }
  const chunks: string[][] = [];
  for (let i = 0; i < unique.length; i += DELETE_OBJECTS_MAX_KEYS) chunks.push(unique.slice(i, i + DELETE_OBJECTS_MAX_KEYS));
  await Promise.all(
    chunks.map(async (chunk) => {
      try {
        const response = await client.send(
          new sdk.DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: chunk.map((Key) => ({ Key })), Quiet: true } }),
        );
        for (const e of response.Errors ?? []) failed.push({ key: e.Key ?? '?', error: `${e.Code ?? 'Error'}: ${e.Message ?? ''}`.trim() });
      } catch (error) {
        for (const key of chunk) failed.push({ key, error: errorName(error) });
      }
    }),
  );
  return failed;
}

function errorName(error: unknown): string {
  const e = error as Error | undefined;
  return `${e?.name ?? 'Error'}: ${e?.message ?? String(error)}`;
}
