/**
 * `taskq send <type> <json|@file>`: enqueues one task with the producer SDK (TaskProducer),
 * so the CLI sends exactly what an application would: envelope v1, taskType attribute,
 * claim check above the threshold, FIFO group and deduplication.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { TaskProducer, type SendResult } from '../client/index.ts';
import { OpsError } from './errors.ts';
import { fromProducerError } from './producer-errors.ts';

export interface SendInput {
  readonly sqs: SQSClient;
  /** Needed only when bucketName is set (claim checks). */
  readonly s3?: () => Promise<S3Client>;
  readonly queueUrl: string;
  readonly bucketName?: string;
  readonly claimPrefix?: string;
  readonly type: string;
  readonly payload: unknown;
  /** Seconds before the task becomes visible (beyond 900 s the envelope carries notBefore). */
  readonly delaySeconds?: number;
  readonly idempotencyKey?: string;
  /** FIFO message group. */
  readonly group?: string;
}

export type SendTaskResult = SendResult & { readonly queueUrl: string };

export async function sendTask(input: SendInput): Promise<SendTaskResult> {
  if (input.delaySeconds !== undefined && (!Number.isFinite(input.delaySeconds) || input.delaySeconds < 0)) {
    throw new OpsError('USAGE', `--delay must be a number of seconds ≥ 0, got ${input.delaySeconds}`);
  }
  let producer: TaskProducer;
  try {
    producer = new TaskProducer({
      queueUrl: input.queueUrl,
      sqs: input.sqs,
      ...(input.bucketName ? { bucketName: input.bucketName, s3: input.s3 ? await input.s3() : undefined } : {}),
      ...(input.bucketName && input.claimPrefix !== undefined ? { claimPrefix: input.claimPrefix } : {}),
    });
  } catch (error) {
    throw fromProducerError(error);
  }
  try {
    const result = await producer.send(input.type, input.payload, {
      ...(input.idempotencyKey !== undefined ? { idempotencyKey: input.idempotencyKey } : {}),
      ...(input.delaySeconds !== undefined && input.delaySeconds > 0 ? { delayMs: Math.round(input.delaySeconds * 1000) } : {}),
      ...(input.group !== undefined ? { messageGroupId: input.group } : {}),
    });
    return { ...result, queueUrl: input.queueUrl };
  } catch (error) {
    throw fromProducerError(error, { resource: `queue ${input.queueUrl}` });
  } finally {
    producer.destroy();
  }
}
