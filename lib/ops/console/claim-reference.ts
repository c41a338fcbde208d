/**
 * Where a message's payload lives when it travelled by claim check, read from the message
 * alone (never from S3, never the payload): the envelope's payloadRef, or an SQS Extended
 * Client pointer with its size attribute.
 */
import type { Message } from '@aws-sdk/client-sqs';
import { EXTENDED_CLIENT_LEGACY_SIZE_ATTRIBUTE, EXTENDED_CLIENT_SIZE_ATTRIBUTE } from '../../protocol/extended-client.ts';

export interface ClaimReference {
  readonly bucket: string;
  readonly key: string;
  /** Bytes of the stored payload, when the message says. */
  readonly size: number | null;
}

export function claimReferenceOf(message: Pick<Message, 'Body' | 'MessageAttributes'>): ClaimReference | null {
  const body = message.Body;
  if (!body || !body.trimStart().startsWith('{') && !body.trimStart().startsWith('[')) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return null;
  }
  if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) {
    const ref = (parsed as { payloadRef?: { bucket?: unknown; key?: unknown; size?: unknown } }).payloadRef;
    if (ref && typeof ref.bucket === 'string' && typeof ref.key === 'string') {
      return { bucket: ref.bucket, key: ref.key, size: typeof ref.size === 'number' ? ref.size : null };
    }
    return null;
  }
  // Extended Client: ["<pointer class>", {"s3BucketName": …, "s3Key": …}]
  if (Array.isArray(parsed) && parsed.length === 2 && parsed[1] && typeof parsed[1] === 'object') {
    const pointer = parsed[1] as { s3BucketName?: unknown; s3Key?: unknown };
    if (typeof pointer.s3BucketName !== 'string' || typeof pointer.s3Key !== 'string') return null;
    const attributes = message.MessageAttributes ?? {};
    const sizeText = attributes[EXTENDED_CLIENT_SIZE_ATTRIBUTE]?.StringValue ?? attributes[EXTENDED_CLIENT_LEGACY_SIZE_ATTRIBUTE]?.StringValue;
    const size = sizeText !== undefined && Number.isFinite(Number(sizeText)) ? Number(sizeText) : null;
    return { bucket: pointer.s3BucketName, key: pointer.s3Key, size };
  }
  return null;
}
