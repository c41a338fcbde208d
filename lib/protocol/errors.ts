/**
 * Every error the library raises, in one place, each with a stable `code` that callers
 * can switch on (the message is for humans and may change; the code will not).
 */

export type ProducerErrorCode =
  | 'INVALID_TASK_TYPE'
  | 'INVALID_TASK_ID'
  | 'INVALID_IDEMPOTENCY_KEY'
  | 'INVALID_PAYLOAD'
  /** The payload breaks its task contract's schema (TaskValidationError.issues say where). */
  | 'SCHEMA_VIOLATION'
  /** The producer was given contracts, and none is for this task type. */
  | 'UNKNOWN_TASK_TYPE'
  | 'PAYLOAD_TOO_LARGE'
  | 'INVALID_DELAY'
  | 'FIFO_GROUP_REQUIRED'
  | 'INVALID_OPTIONS'
  /** The send's `dedupe` option cannot be honoured (docs/FLOW-CONTROL.md). */
  | 'INVALID_DEDUPE'
  | 'BACKPRESSURE'
  | 'CLAIM_UPLOAD_FAILED'
  | 'SEND_FAILED'
  /** FIFO sendBatch: an earlier task of the same message group could not be sent, so this one was not (order kept). */
  | 'EARLIER_IN_GROUP_FAILED'
  /** The dedupe item could not be written (the task was not sent). */
  | 'DEDUPE_FAILED'
  | 'STATUS_FAILED'
  /** publish(): the stack's routing table has no fan-out for this event. */
  | 'UNKNOWN_EVENT'
  /** routing: the routing table could not be read (and no earlier copy was cached). */
  | 'ROUTING_FAILED'
  | 'CONFIGURATION'
  /** cancel(): the task already finished (SUCCEEDED or DEAD_LETTERED): there is nothing to cancel. */
  | 'TASK_FINISHED'
  /** cancel(): the task table refused or failed the write (the AWS code says why). */
  | 'CANCEL_FAILED'
  /** waitForResult(): the task was dead-lettered (deadLetterReason says why). */
  | 'TASK_DEAD_LETTERED'
  /** waitForResult(): the task was cancelled. */
  | 'TASK_CANCELLED'
  /** waitForResult(): no final state before the timeout (the task may still finish later). */
  | 'WAIT_TIMEOUT'
  /** waitForResult(): the caller's signal aborted the wait. */
  | 'WAIT_ABORTED'
  /** waitForResult(): the result was stored in S3 and could not be read back. */
  | 'RESULT_UNREADABLE'
  /** sendGroup(): a group with this id exists with another member count or callback (nothing sent). */
  | 'GROUP_CONFLICT'
  /** sendGroup(): the group's items could not be written (nothing sent), or its status could not be read. */
  | 'GROUP_FAILED';

/** Why the consumer sent a message to the dead-letter queue (message attribute value). */
export type DeadLetterReason =
  | 'malformed-json'
  | 'unsupported-version'
  | 'invalid-envelope'
  | 'unknown-type'
  | 'schema-violation'
  | 'pointer-not-allowed'
  | 'claim-missing'
  | 'claim-size-mismatch'
  | 'claim-digest-mismatch'
  | 'claim-unreadable'
  | 'idempotency-key-conflict'
  | 'permanent-error'
  | 'attempts-exhausted'
  /** Returned to the queue without running, past the bound, because the task table kept failing. */
  | 'table-unavailable'
  /** Returned without running, past the bound, because the claim object (Extended Client) could not be fetched. */
  | 'claim-unavailable'
  /** Returned without running, past the bound, for another reason (a lease held, the invocation deadline…). */
  | 'redeliveries-exhausted'
  /** The outcome of a finished run could not be written to the task table, even from its outcome copy. */
  | 'outcome-unrecorded';

export const DEAD_LETTER_REASONS: readonly DeadLetterReason[] = [
  'malformed-json',
  'unsupported-version',
  'invalid-envelope',
  'unknown-type',
  'schema-violation',
  'pointer-not-allowed',
  'claim-missing',
  'claim-size-mismatch',
  'claim-digest-mismatch',
  'claim-unreadable',
  'idempotency-key-conflict',
  'permanent-error',
  'attempts-exhausted',
  'table-unavailable',
  'claim-unavailable',
  'redeliveries-exhausted',
  'outcome-unrecorded',
];

/** Base class: every error of this library carries a stable code. */
export class TaskQueueError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** The producer refused a task before sending anything. */
export class TaskValidationError extends TaskQueueError {
  declare readonly code: Exclude<ProducerErrorCode, 'BACKPRESSURE' | 'CLAIM_UPLOAD_FAILED' | 'SEND_FAILED' | 'EARLIER_IN_GROUP_FAILED' | 'DEDUPE_FAILED' | 'STATUS_FAILED' | 'ROUTING_FAILED' | 'GROUP_FAILED' | TaskOutcomeCode>;
  /** SCHEMA_VIOLATION: each problem's field path and the schema's message (never the payload's values). */
  readonly issues: readonly { readonly path: string; readonly message: string }[] | undefined;
  constructor(code: TaskValidationError['code'], message: string, options?: { cause?: unknown; issues?: readonly { readonly path: string; readonly message: string }[] }) {
    super(code, message, options);
    this.issues = options?.issues;
  }
}

/** The queue's backlog is above the producer's maxBacklog: try again later (HTTP 503). */
export class BackpressureError extends TaskQueueError {
  declare readonly code: 'BACKPRESSURE';
  constructor(
    readonly backlog: number,
    readonly maxBacklog: number,
    readonly retryAfterSeconds: number,
  ) {
    super('BACKPRESSURE', `queue backlog ${backlog} is above maxBacklog ${maxBacklog}; retry after ${retryAfterSeconds} s`);
  }
}

/** Sending failed after the library's retries. `claimKey` names an uploaded claim object left to expire. */
export class SendError extends TaskQueueError {
  declare readonly code: 'SEND_FAILED' | 'CLAIM_UPLOAD_FAILED' | 'EARLIER_IN_GROUP_FAILED' | 'DEDUPE_FAILED' | 'ROUTING_FAILED' | 'GROUP_FAILED';
  constructor(
    code: 'SEND_FAILED' | 'CLAIM_UPLOAD_FAILED' | 'EARLIER_IN_GROUP_FAILED' | 'DEDUPE_FAILED' | 'ROUTING_FAILED' | 'GROUP_FAILED',
    message: string,
    readonly details: { taskId?: string; claimKey?: string; awsCode?: string; senderFault?: boolean } = {},
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
  }
}

/** Thrown by a task handler (or the runtime) when retrying cannot help: dead-letter at once. */
export class PermanentError extends TaskQueueError {
  readonly reason: DeadLetterReason;
  constructor(message: string, options?: { reason?: DeadLetterReason; cause?: unknown }) {
    super('PERMANENT', message, options);
    this.reason = options?.reason ?? 'permanent-error';
  }
}

/** A message the consumer cannot process at all: bad JSON, bad envelope, forbidden pointer... */
export class PoisonMessageError extends PermanentError {
  constructor(reason: DeadLetterReason, message: string, options?: { cause?: unknown }) {
    super(message, { reason, ...options });
  }
}

/** Thrown by a task handler to ask for a retry after a specific delay (e.g. a 429's Retry-After). */
export class RetryableError extends TaskQueueError {
  constructor(
    message: string,
    readonly retryAfterSeconds?: number,
    options?: { cause?: unknown },
  ) {
    super('RETRYABLE', message, options);
  }
}

/** The codes of TaskOutcomeError: what a task's lifecycle answered a cancel or a wait with. */
export type TaskOutcomeCode = 'TASK_FINISHED' | 'CANCEL_FAILED' | 'TASK_DEAD_LETTERED' | 'TASK_CANCELLED' | 'WAIT_TIMEOUT' | 'WAIT_ABORTED' | 'RESULT_UNREADABLE';

/**
 * cancel() or waitForResult() could not give the caller what it asked for: the task had
 * finished (TASK_FINISHED), ended badly (TASK_DEAD_LETTERED, TASK_CANCELLED), did not finish
 * in time (WAIT_TIMEOUT, WAIT_ABORTED), or the table/S3 failed (CANCEL_FAILED, RESULT_UNREADABLE).
 * `status` is the task's status when the error was raised, when known.
 */
export class TaskOutcomeError extends TaskQueueError {
  declare readonly code: TaskOutcomeCode;
  constructor(
    code: TaskOutcomeCode,
    message: string,
    readonly details: { readonly taskId: string; readonly status?: string; readonly deadLetterReason?: DeadLetterReason; readonly awsCode?: string } ,
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
  }
}

/** The reason ctx.signal carries when the task was cancelled while its handler ran (code CANCELLED). */
export class TaskCancelledError extends TaskQueueError {
  constructor(readonly taskId: string) {
    super('CANCELLED', `task ${taskId} was cancelled`);
  }
}
