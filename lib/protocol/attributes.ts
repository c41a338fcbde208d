/**
 * SQS message attribute names. `taskType` travels on every message so routing, filters
 * and DLQ listings never parse the body; the dead-letter attributes tell on-call why a
 * message is in the DLQ; the redrive attribute marks a copy an operator sent back. SQS
 * allows 10 attributes per message: a dead-lettered message carries at most 8 of these
 * (6 dead-letter + 2 message), a manually redriven one at most 4 (2 message + redrivenAt +
 * redriveId), a consumer's copy at most 2 more (COPY_ATTRIBUTES).
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
  /**
   * A unique id of this dead-lettering, also written to the task record. A copy carrying it
   * back (StartMessageMoveTask keeps attributes; `taskq dlq redrive` copies it into
   * taskq.redriveId) is a redrive, consumed once: the record remembers it.
   */
  deadLetterId: 'taskq.deadLetterId',
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
  /**
   * The identity of the redrive: the dead-lettering's taskq.deadLetterId, or for a message the
   * redrive policy moved (no dead-letter attributes) `message:<its DLQ messageId>`. The task
   * record stores the last one it reset for, so every copy of one redrive (an SQS duplicate,
   * a second DLQ copy moved back) resets the task at most once.
   */
  redriveId: 'taskq.redriveId',
} as const;

/**
 * Set by the consumer on the fresh copies it sends of a message (its own re-sends on the last
 * receive, outcome copies). Never set by producers.
 */
export const COPY_ATTRIBUTES = {
  /**
   * Receives of the task's earlier copies, so that the bound on returns without an attempt
   * (maxNoAttemptReturns) counts across copies.
   */
  priorReceives: 'taskq.receives',
  /**
   * A finished run's outcome the task table refused (JSON: the record to write and the lease
   * owner it was written under). The consumer writes it — if that run's lease is still the
   * record's — and acknowledges the copy without running the task.
   */
  outcome: 'taskq.outcome',
} as const;

/** Longest error text stored in an attribute or the task table. */
export const MAX_ERROR_TEXT_LENGTH = 256;

export function truncateErrorText(text: string): string {
  return text.length <= MAX_ERROR_TEXT_LENGTH ? text : `${text.slice(0, MAX_ERROR_TEXT_LENGTH - 1)}…`;
}
