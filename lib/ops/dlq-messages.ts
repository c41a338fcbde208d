/**
 * Receiving from the DLQ and handing messages back: the building blocks of peek and
 * redrive. Messages are received with a short hold (visibility timeout) and released
 * (visibility 0) as soon as the command is done with them, so a crash of the CLI hides a
 * message for at most the hold, never for the queue's default visibility timeout.
 */
import {
  ChangeMessageVisibilityBatchCommand,
  ReceiveMessageCommand,
  type Message,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { SQS_BATCH_MAX_ENTRIES } from '../protocol/limits.ts';
import { toOpsError } from './errors.ts';
import { DEFAULT_AWS_TIMEOUTS } from '../protocol/aws-timeouts.ts';

/** Seconds a received DLQ message stays hidden while the CLI works on it. */
export const DEFAULT_HOLD_SECONDS = 30;

export async function receiveDeadLetters(
  sqs: SQSClient,
  queueUrl: string,
  options: { max: number; holdSeconds: number; waitSeconds: number },
): Promise<Message[]> {
  try {
    const result = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: Math.max(1, Math.min(SQS_BATCH_MAX_ENTRIES, options.max)),
        VisibilityTimeout: options.holdSeconds,
        WaitTimeSeconds: options.waitSeconds,
        MessageAttributeNames: ['All'],
        MessageSystemAttributeNames: ['All'],
      }),
      // A long poll may stay silent for its whole wait: the call's bound is the wait plus the usual one.
      { requestTimeout: options.waitSeconds * 1000 + DEFAULT_AWS_TIMEOUTS.requestMs },
    );
    return result.Messages ?? [];
  } catch (error) {
    throw toOpsError(error, { resource: `queue ${queueUrl}` });
  }
}

/**
 * Makes messages visible again at once (ChangeMessageVisibility 0). Returns the message
 * ids that could not be released (they come back by themselves after the hold).
 */
export async function releaseMessages(sqs: SQSClient, queueUrl: string, messages: readonly Message[]): Promise<string[]> {
  const failed: string[] = [];
  for (let i = 0; i < messages.length; i += SQS_BATCH_MAX_ENTRIES) {
    const chunk = messages.slice(i, i + SQS_BATCH_MAX_ENTRIES);
    try {
      const result = await sqs.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: queueUrl,
          Entries: chunk.map((m, n) => ({ Id: String(n), ReceiptHandle: m.ReceiptHandle!, VisibilityTimeout: 0 })),
        }),
      );
      for (const f of result.Failed ?? []) failed.push(chunk[Number(f.Id)]?.MessageId ?? f.Id ?? '?');
    } catch {
      failed.push(...chunk.map((m) => m.MessageId ?? '?'));
    }
  }
  return failed;
}
