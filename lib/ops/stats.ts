/**
 * `taskq stats`: the source queue's depth, in-flight and delayed counts and the age of its
 * oldest message, the DLQ's depth, and the alarm states.
 */
import { GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { toOpsError } from './errors.ts';
import type { AlarmsSource, AlarmsView } from './alarms.ts';
import type { OldestAge, OldestAgeSource } from './oldest-age.ts';

export interface QueueCounts {
  readonly url: string;
  /** ApproximateNumberOfMessages: waiting to be received. */
  readonly visible: number;
  /** ApproximateNumberOfMessagesNotVisible: received, not yet deleted. */
  readonly inFlight: number;
  /** ApproximateNumberOfMessagesDelayed. */
  readonly delayed: number;
}

export interface StatsResult {
  readonly queue: QueueCounts & { readonly oldestAge: OldestAge };
  readonly deadLetterQueue: QueueCounts;
  readonly alarms: AlarmsView;
}

export interface StatsInput {
  readonly sqs: SQSClient;
  readonly queueUrl: string;
  readonly deadLetterQueueUrl: string;
  readonly oldestAge: OldestAgeSource;
  readonly alarms: AlarmsSource;
}

export async function queueCounts(sqs: SQSClient, queueUrl: string): Promise<QueueCounts> {
  try {
    const result = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: queueUrl,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed'],
      }),
    );
    const a = result.Attributes ?? {};
    return {
      url: queueUrl,
      visible: Number(a.ApproximateNumberOfMessages ?? 0),
      inFlight: Number(a.ApproximateNumberOfMessagesNotVisible ?? 0),
      delayed: Number(a.ApproximateNumberOfMessagesDelayed ?? 0),
    };
  } catch (error) {
    throw toOpsError(error, { resource: `queue ${queueUrl}` });
  }
}

/** Failures of the optional parts (age, alarms) are reported in the result, not thrown. */
export async function queueStats(input: StatsInput): Promise<StatsResult> {
  const [queue, deadLetterQueue, oldestAge, alarms] = await Promise.all([
    queueCounts(input.sqs, input.queueUrl),
    queueCounts(input.sqs, input.deadLetterQueueUrl),
    input.oldestAge(input.queueUrl).catch((error: unknown): OldestAge => ({ seconds: null, source: 'unavailable', note: toOpsError(error).message })),
    input.alarms().catch((error: unknown): AlarmsView => ({ source: 'unavailable', alarms: null, note: toOpsError(error).message })),
  ]);
  return { queue: { ...queue, oldestAge }, deadLetterQueue, alarms };
}
