/**
 * Scheduled tasks: the message a schedule sends for one occurrence, and its identity.
 *
 * EventBridge Scheduler sends a fixed target input in which it substitutes context attributes
 * at each invocation; `<aws.scheduler.scheduled-time>` (ISO-8601 UTC, whole seconds) is the
 * time the occurrence was due, the same for every retry of that occurrence. The task id and
 * idempotency key are built from the schedule's name and that time, so a retried delivery (or
 * a duplicate SQS copy) of one occurrence is the same task to the consumer and runs once, and
 * the next occurrence is a new task. The local system sends the very same envelope with the
 * placeholder replaced (lib/local/local-scheduler.ts).
 */
import { ENVELOPE_VERSION, type TaskEnvelope } from './envelope.ts';

/** Scheduler's context attribute for the time an occurrence was due, e.g. 2026-03-22T18:59:00Z. */
export const SCHEDULED_TIME_PLACEHOLDER = '<aws.scheduler.scheduled-time>';

/** Schedule names: EventBridge Scheduler's rule (1–64 letters, digits, `.`, `_`, `-`). */
export const SCHEDULE_NAME_PATTERN = /^[0-9A-Za-z_.-]{1,64}$/;

/**
 * Task id, and idempotency key, of one occurrence: `schedule:<name>:<scheduled time>`.
 * Both are at most 94 characters (within TASK_ID_PATTERN's 128).
 */
export function scheduledTaskId(scheduleName: string, scheduledTime: string): string {
  return `schedule:${scheduleName}:${scheduledTime}`;
}

/** A time as Scheduler writes `<aws.scheduler.scheduled-time>`: ISO-8601 UTC without milliseconds. */
export function formatScheduledTime(time: Date): string {
  return `${time.toISOString().slice(0, 19)}Z`;
}

/**
 * The envelope one occurrence sends. With `scheduledTime` = SCHEDULED_TIME_PLACEHOLDER it is
 * the target input of the Scheduler schedule (the placeholder is replaced by Scheduler);
 * with a formatted time it is the message itself. `createdAt` is the scheduled time.
 */
export function scheduledTaskEnvelope(options: {
  readonly scheduleName: string;
  readonly type: string;
  readonly payload: unknown;
  readonly scheduledTime: string;
}): TaskEnvelope {
  const id = scheduledTaskId(options.scheduleName, options.scheduledTime);
  return { v: ENVELOPE_VERSION, id, type: options.type, payload: options.payload, idempotencyKey: id, createdAt: options.scheduledTime };
}

/** Replaces Scheduler's scheduled-time context attribute in a target input, as Scheduler does. */
export function substituteScheduledTime(input: string, scheduledTime: string): string {
  return input.replaceAll(SCHEDULED_TIME_PLACEHOLDER, scheduledTime);
}
