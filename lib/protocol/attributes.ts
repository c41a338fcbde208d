/**
 * SQS message attribute names. `taskType` travels on every message so routing, filters
 * and DLQ listings never parse the body; the dead-letter attributes tell on-call why a
 * message is in the DLQ; the redrive attribute marks a copy an operator sent back. SQS
 * allows 10 attributes per message: a dead-lettered message carries at most 7 of these
 * (5 dead-letter + 2 message), a manually redriven one at most 3 (2 message + redrivenAt).
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

/**
 * Set by `taskq dlq redrive` (the receive → send → delete path) on each copy it sends back,
 * in place of the dead-letter attributes it removes. A copy carrying it — or the dead-letter
 * attributes themselves, as StartMessageMoveTask leaves them — is a redrive: the consumer
 * runs a DEAD_LETTERED task again with fresh attempts. Any other copy of a DEAD_LETTERED
 * task is a leftover and is acknowledged without running. The consumer never carries it
 * into a DLQ message it sends.
 */
export const REDRIVE_ATTRIBUTES = {
  /** ISO-8601 time of the manual redrive. */
  redrivenAt: 'taskq.redrivenAt',
} as const;

/** Longest error text stored in an attribute or the task table. */
export const MAX_ERROR_TEXT_LENGTH = 256;

export function truncateErrorText(text: string): string {
  return text.length <= MAX_ERROR_TEXT_LENGTH ? text : `${text.slice(0, MAX_ERROR_TEXT_LENGTH - 1)}…`;
}
