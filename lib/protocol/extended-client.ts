/**
 * The AWS SQS Extended Client Library's pointer format, read (and optionally written) so
 * Java and Python producers or consumers using the official library interoperate.
 *
 * Body: `["software.amazon.payloadoffloading.PayloadS3Pointer",{"s3BucketName":"…","s3Key":"…"}]`
 * (the legacy Java class `com.amazon.sqs.javamessaging.MessageS3Pointer` also occurs; Python
 * writes the same JSON with spaces after separators). A Number message attribute
 * `ExtendedPayloadSize` (legacy `SQSLargePayloadSize`) holds the payload's byte length.
 * The S3 object holds the real message body.
 */
import { PoisonMessageError } from './errors.ts';

export const EXTENDED_CLIENT_POINTER_CLASS = 'software.amazon.payloadoffloading.PayloadS3Pointer';
export const EXTENDED_CLIENT_LEGACY_POINTER_CLASS = 'com.amazon.sqs.javamessaging.MessageS3Pointer';
export const EXTENDED_CLIENT_SIZE_ATTRIBUTE = 'ExtendedPayloadSize';
export const EXTENDED_CLIENT_LEGACY_SIZE_ATTRIBUTE = 'SQSLargePayloadSize';

export interface ExtendedClientPointer {
  readonly bucket: string;
  readonly key: string;
  /** From the size attribute, when present. */
  readonly size?: number;
}

/** A cheap test before parsing: pointer bodies are JSON arrays, envelopes are objects. */
export function looksLikeExtendedClientPointer(body: string): boolean {
  return body.trimStart().startsWith('[');
}

/**
 * Parses an Extended Client pointer body. `sizeAttribute` is the string value of either
 * size attribute, if the message had one. Throws PoisonMessageError for a malformed pointer.
 */
export function decodeExtendedClientPointer(body: string, sizeAttribute?: string): ExtendedClientPointer {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    // Not the parser's message: it quotes the body, and this text reaches logs and DLQ attributes.
    throw new PoisonMessageError('malformed-json', `message body is not JSON (${body.length} characters)`);
  }
  if (
    !Array.isArray(parsed) ||
    parsed.length !== 2 ||
    (parsed[0] !== EXTENDED_CLIENT_POINTER_CLASS && parsed[0] !== EXTENDED_CLIENT_LEGACY_POINTER_CLASS)
  ) {
    throw new PoisonMessageError('invalid-envelope', 'message body is a JSON array but not an SQS Extended Client pointer');
  }
  const target = parsed[1] as Record<string, unknown> | null;
  if (typeof target !== 'object' || target === null || typeof target.s3BucketName !== 'string' || typeof target.s3Key !== 'string' || !target.s3BucketName || !target.s3Key) {
    throw new PoisonMessageError('invalid-envelope', 'SQS Extended Client pointer lacks s3BucketName or s3Key');
  }
  let size: number | undefined;
  if (sizeAttribute !== undefined) {
    size = Number(sizeAttribute);
    if (!Number.isSafeInteger(size) || size < 0) {
      throw new PoisonMessageError('invalid-envelope', `SQS Extended Client size attribute is not a byte count: ${sizeAttribute}`);
    }
  }
  return size === undefined ? { bucket: target.s3BucketName, key: target.s3Key } : { bucket: target.s3BucketName, key: target.s3Key, size };
}

/** The pointer body the official library writes (Java form, no spaces). */
export function encodeExtendedClientPointer(bucket: string, key: string): string {
  return JSON.stringify([EXTENDED_CLIENT_POINTER_CLASS, { s3BucketName: bucket, s3Key: key }]);
}
