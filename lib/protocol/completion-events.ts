/**
 * Completion events (TaskQueueProps.completionEvents): one EventBridge event each time a task
 * record enters a final state. This is the wire contract subscribers rely on: the source, the
 * detail types and the detail's fields.
 *
 * Delivery is at least once: a stream record delivered again (a retried batch, a retried
 * PutEvents) publishes the same event again. Deduplicate on `detail.eventId`, which is the
 * same for every copy of one transition and different for each transition (a redriven task
 * that dead-letters again gets a new id, carrying the redrive's id).
 */
import type { DeadLetterReason } from './errors.ts';
import type { ResultRef, TaskStatus } from './task-record.ts';

/** The events' `source` when none is configured. */
export const DEFAULT_COMPLETION_EVENT_SOURCE = 'taskq';

/** The `detail-type` of the event published for each final state. */
export const COMPLETION_EVENT_TYPES = {
  SUCCEEDED: 'TaskSucceeded',
  DEAD_LETTERED: 'TaskDeadLettered',
  CANCELLED: 'TaskCancelled',
} as const satisfies Partial<Record<TaskStatus, string>>;

export type FinalTaskStatus = keyof typeof COMPLETION_EVENT_TYPES;
export type CompletionEventType = (typeof COMPLETION_EVENT_TYPES)[FinalTaskStatus];

/** The `detail` of a TaskSucceeded, TaskDeadLettered or TaskCancelled event. Never the payload. */
export interface TaskCompletionEventDetail {
  /** `<taskId>:<status>`, with `:<redriveId>` for a redriven run: the same for every copy of one transition. */
  readonly eventId: string;
  readonly taskId: string;
  /** The task's idempotency key (the task id unless it was sent with its own key). */
  readonly idempotencyKey: string;
  readonly status: FinalTaskStatus;
  /** The task type (absent for a task cancelled before any consumer saw it). */
  readonly type?: string;
  /** Handler executions started. */
  readonly attempts: number;
  /** ISO-8601: when the producer accepted the task, when the record has it. */
  readonly createdAt?: string;
  /** ISO-8601: when the task reached its final state (the record's last write, or the cancel). */
  readonly finishedAt?: string;
  /** finishedAt − createdAt, ms: the task's time in the system, queueing and retries included. */
  readonly durationMs?: number;
  /** TaskDeadLettered: why. */
  readonly deadLetterReason?: DeadLetterReason;
  /** TaskSucceeded: the handler's result when it fits in the record (≤ MAX_RESULT_BYTES of JSON). */
  readonly result?: unknown;
  /** TaskSucceeded: where a larger result was stored (S3 bucket and key). */
  readonly resultRef?: ResultRef;
  /** TaskSucceeded: the result could not be stored. */
  readonly resultTruncated?: boolean;
}

/** Environment of the completion-events function (set by the construct). */
export const COMPLETION_EVENTS_ENV = {
  /** Name or ARN of the event bus to publish to. */
  eventBus: 'TASKQ_EVENT_BUS',
  /** The events' `source`. */
  source: 'TASKQ_EVENT_SOURCE',
} as const;

/** The stack output (logical id and key) naming the completion-events failure queue, with `outputs` on. */
export const COMPLETION_EVENTS_OUTPUTS = { failureQueueUrl: 'CompletionEventsFailureQueueUrl' } as const;

/** EventBridge's rules for a `source`: 1–256 characters, and `aws.` is reserved for AWS services. */
export function completionEventSourceProblem(source: string): string | undefined {
  if (source.length < 1 || source.length > 256) return 'must be 1–256 characters';
  if (source.toLowerCase().startsWith('aws.')) return 'must not start with "aws." (reserved for AWS services)';
  return undefined;
}
