/**
 * SQS message attribute names. `taskType` travels on every message so routing, filters
 * and DLQ listings never parse the body; the dead-letter attributes tell on-call why a
 * message is in the DLQ. SQS allows 10 attributes per message: these use at most 8.
 */
export const MESSAGE_ATTRIBUTES = {
  taskType: 'taskType',
  taskId: 'taskId',
} as const;

export const DEAD_LETTER_ATTRIBUTES = {
  /** A DeadLetterReason code. */
  reason: 'taskq.reason',
  /** Handler executions counted in the task table. */
  attempts: 'taskq.attempts',
  /** The last error's message, truncated. */
  lastError: 'taskq.lastError',
  /** The SQS messageId of the message the consumer dead-lettered. */
  originalMessageId: 'taskq.originalMessageId',
  /** ISO-8601 time the consumer dead-lettered it. */
  deadLetteredAt: 'taskq.deadLetteredAt',
} as const;

/** Longest error text stored in an attribute or the task table. */
export const MAX_ERROR_TEXT_LENGTH = 256;

export function truncateErrorText(text: string): string {
  return text.length <= MAX_ERROR_TEXT_LENGTH ? text : `${text.slice(0, MAX_ERROR_TEXT_LENGTH - 1)}…`;
}
