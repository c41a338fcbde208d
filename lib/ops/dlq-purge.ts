/**
 * `taskq dlq purge --yes`: deletes every message in the DLQ (PurgeQueue). Irreversible;
 * refused without `yes`. SQS allows one purge per queue every 60 seconds, and messages
 * sent during the purge's first 60 seconds may be deleted too.
 */
import { PurgeQueueCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { OpsError, toOpsError } from './errors.ts';
import { queueCounts } from './stats.ts';

export interface PurgeInput {
  readonly sqs: SQSClient;
  readonly deadLetterQueueUrl: string;
  readonly yes: boolean;
}

export interface PurgeResult {
  readonly queueUrl: string;
  readonly purged: true;
  /** Approximate messages in the DLQ just before the purge (visible + in flight + delayed). */
  readonly approximateMessagesBefore: number;
}

export const PURGE_REFUSAL =
  'refusing to purge the DLQ without --yes: a purge deletes every dead-lettered message for good. Look first with `taskq dlq peek`, or move them back with `taskq dlq redrive`.';

export async function purgeDeadLetters(input: PurgeInput): Promise<PurgeResult> {
  if (!input.yes) throw new OpsError('REFUSED', PURGE_REFUSAL);
  const before = await queueCounts(input.sqs, input.deadLetterQueueUrl);
  try {
    await input.sqs.send(new PurgeQueueCommand({ QueueUrl: input.deadLetterQueueUrl }));
  } catch (error) {
    throw toOpsError(error, { resource: `queue ${input.deadLetterQueueUrl}` });
  }
  return { queueUrl: input.deadLetterQueueUrl, purged: true, approximateMessagesBefore: before.visible + before.inFlight + before.delayed };
}
