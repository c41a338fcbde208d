/**
 * Which DynamoDB Streams records of the task table are completions, and the event detail each
 * one becomes. Pure: the stream handler (./stream-handler.ts), the tests and the local system
 * share it.
 *
 * A record is a completion when its new image is a task record (it has a taskId) in a final
 * state that the old image was not in — or was in for another run (a redrive id changed). A
 * rewrite of the same final state (an outcome copy recording SUCCEEDED again), a lease, a
 * retry, a TTL deletion and the table's other items (routing, flow control) publish nothing.
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { taskStatusFromItem } from '../client/task-status.ts';
import { COMPLETION_EVENT_TYPES, type FinalTaskStatus, type TaskCompletionEventDetail } from '../protocol/completion-events.ts';
import { TABLE_SCHEMA } from '../protocol/resources.ts';

type Image = Record<string, AttributeValue>;

/** The parts of a stream record this reads: Lambda's event records and GetRecords' records both have them. */
export interface TaskStreamRecord {
  readonly eventName?: string;
  readonly dynamodb?: {
    readonly NewImage?: Record<string, unknown>;
    readonly OldImage?: Record<string, unknown>;
    readonly SequenceNumber?: string;
  };
}

function isFinal(status: string | undefined): status is FinalTaskStatus {
  return status !== undefined && Object.hasOwn(COMPLETION_EVENT_TYPES, status);
}

export function completionOf(record: TaskStreamRecord): TaskCompletionEventDetail | undefined {
  if (record.eventName === 'REMOVE') return undefined;
  const image = record.dynamodb?.NewImage as Image | undefined;
  const taskId = image?.taskId?.S;
  const status = image?.status?.S;
  if (!image || taskId === undefined || !isFinal(status)) return undefined;
  const old = record.dynamodb?.OldImage as Image | undefined;
  const redriveId = image.redriveId?.S;
  if (old?.status?.S === status && old.redriveId?.S === redriveId) return undefined;

  const view = taskStatusFromItem(taskId, image[TABLE_SCHEMA.partitionKey]?.S ?? taskId, image);
  const finishedAt = (status === 'CANCELLED' ? view.cancelledAt : undefined) ?? view.updatedAt;
  const started = view.createdAt === undefined ? Number.NaN : Date.parse(view.createdAt);
  const finished = finishedAt === undefined ? Number.NaN : Date.parse(finishedAt);
  return {
    eventId: `${taskId}:${status}${redriveId !== undefined ? `:${redriveId}` : ''}`,
    taskId,
    idempotencyKey: view.idempotencyKey,
    status,
    ...(view.type !== undefined ? { type: view.type } : {}),
    attempts: view.attempts,
    ...(view.createdAt !== undefined ? { createdAt: view.createdAt } : {}),
    ...(finishedAt !== undefined ? { finishedAt } : {}),
    ...(Number.isFinite(started) && Number.isFinite(finished) ? { durationMs: Math.max(0, finished - started) } : {}),
    ...(status === 'DEAD_LETTERED' && view.deadLetterReason !== undefined ? { deadLetterReason: view.deadLetterReason } : {}),
    ...(status === 'SUCCEEDED' && view.result !== undefined ? { result: view.result } : {}),
    ...(status === 'SUCCEEDED' && view.resultRef !== undefined ? { resultRef: view.resultRef } : {}),
    ...(status === 'SUCCEEDED' && view.resultTruncated ? { resultTruncated: true } : {}),
  };
}
