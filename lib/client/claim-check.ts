/**
 * Claim check: a task whose message would be larger than the threshold has its payload
 * uploaded to S3 under the claim prefix, and travels as a small message pointing at it.
 *
 * - format 'envelope': the object is the payload's JSON; the envelope carries
 *   `payloadRef {bucket, key, size, sha256}` (the only place the producer hashes anything);
 * - format 'extended-client': the object is the whole envelope; the body is the AWS SQS
 *   Extended Client pointer and `ExtendedPayloadSize` holds the object's byte length.
 *
 * Keys are `${claimPrefix}YYYY-MM-DD/<random uuid>`: never derived from task ids or other
 * caller strings (no `..` or `/` surprises), and never reused, so re-sending a task id with a
 * different payload cannot overwrite the object an earlier message still points at.
 * An object whose message is then never sent is left to the bucket's lifecycle rule.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { S3Client } from '@aws-sdk/client-s3';
import { ENVELOPE_VERSION, encodeEnvelope, type TaskEnvelope } from '../protocol/envelope.ts';
import { EXTENDED_CLIENT_SIZE_ATTRIBUTE, encodeExtendedClientPointer } from '../protocol/extended-client.ts';
import type { ResolvedProducerConfig } from './config.ts';
import { toSendError } from './aws-errors.ts';
import { withRetry, type RetryPolicy } from './retry.ts';
import { attributesSize, type PreparedTask } from './task-message.ts';

export type ClaimCheckSettings = NonNullable<ResolvedProducerConfig['claimCheck']>;

/** A fresh claim key: prefix, the UTC day the task was created, a random UUID. */
export function newClaimKey(claimPrefix: string, createdAt: string): string {
  return `${claimPrefix}${createdAt.slice(0, 10)}/${randomUUID()}`;
}

export class ClaimCheck {
  constructor(
    private readonly settings: ClaimCheckSettings,
    private readonly s3: () => Promise<S3Client>,
    private readonly retry: RetryPolicy,
  ) {}

  /** Whether the task's inline message is above the threshold. */
  needs(task: PreparedTask): boolean {
    return task.size > this.settings.thresholdBytes;
  }

  /**
   * Uploads the task's payload and rewrites its message to point at it.
   * Throws SendError CLAIM_UPLOAD_FAILED (the message is then not sent).
   */
  async apply(task: PreparedTask): Promise<void> {
    const { bucketName, claimPrefix, format } = this.settings;
    const key = newClaimKey(claimPrefix, task.createdAt);
    const object = Buffer.from(format === 'envelope' ? task.payloadJson : task.body, 'utf8');
    const digest = format === 'envelope' ? createHash('sha256').update(object).digest() : undefined;
    const sha256Hex = digest?.toString('hex');
    const sha256Base64 = digest?.toString('base64');
    try {
      const [client, { PutObjectCommand }] = await Promise.all([this.s3(), import('@aws-sdk/client-s3')]);
      await withRetry(this.retry, () =>
        client.send(
          new PutObjectCommand({
            Bucket: bucketName,
            Key: key,
            Body: object,
            ContentLength: object.length,
            ContentType: 'application/json',
            // S3 verifies the upload against the digest the consumer will check.
            ...(sha256Base64 ? { ChecksumSHA256: sha256Base64 } : {}),
            Metadata: { 'taskq-task-id': task.taskId, 'taskq-format': format },
          }),
        ),
      );
    } catch (error) {
      throw toSendError(error, `claim-check upload of task ${task.taskId} to s3://${bucketName}/${key}`, {
        code: 'CLAIM_UPLOAD_FAILED',
        taskId: task.taskId,
      });
    }
    task.claimKey = key;
    if (format === 'envelope') {
      const envelope: TaskEnvelope = {
        v: ENVELOPE_VERSION,
        id: task.taskId,
        type: task.type,
        payloadRef: { bucket: bucketName, key, size: object.length, sha256: sha256Hex!, exclusive: true },
        ...(task.explicitKey !== undefined ? { idempotencyKey: task.explicitKey } : {}),
        createdAt: task.createdAt,
        ...(task.notBefore !== undefined ? { notBefore: task.notBefore } : {}),
        ...(task.group !== undefined ? { group: task.group } : {}),
      };
      task.body = encodeEnvelope(envelope);
    } else {
      task.body = encodeExtendedClientPointer(bucketName, key);
      task.attributes = {
        ...task.attributes,
        [EXTENDED_CLIENT_SIZE_ATTRIBUTE]: { DataType: 'Number', StringValue: String(object.length) },
      };
    }
    task.size = Buffer.byteLength(task.body) + attributesSize(task.attributes);
  }
}
