/**
 * The task envelope, version 1: the JSON body of every SQS message the producer sends.
 * Written down for other languages in docs/PROTOCOL.md (with a JSON Schema).
 */
import { PoisonMessageError } from './errors.ts';
import { isGroupResult, type GroupResult } from './group.ts';
import { ROUTING_ITEM_KEY } from './lanes.ts';
import { CONTROL_CHARACTERS, IDEMPOTENCY_KEY_MAX_LENGTH, TASK_ID_PATTERN, TASK_TYPE_PATTERN } from './limits.ts';

export const ENVELOPE_VERSION = 1;

/** Where a claim-checked payload lives. The envelope's other fields stay in the message. */
export interface PayloadRef {
  readonly bucket: string;
  readonly key: string;
  /** Byte length of the stored object (the payload's JSON, UTF-8). */
  readonly size: number;
  /** Lower-case hex SHA-256 of the stored object. */
  readonly sha256: string;
  /**
   * The object belongs to this task alone (a fresh key, written for it): the consumer deletes
   * it once the task has SUCCEEDED. Absent or false, the object is never deleted by the
   * consumer (a producer may send one object as several tasks) and the bucket's lifecycle
   * rule expires it. TaskProducer always sets it.
   */
  readonly exclusive?: boolean;
}

export interface TaskEnvelope<P = unknown> {
  readonly v: typeof ENVELOPE_VERSION;
  /** Task id, returned to the producer. */
  readonly id: string;
  readonly type: string;
  /** The payload inline; absent when `payloadRef` is set. */
  readonly payload?: P;
  readonly payloadRef?: PayloadRef;
  /** Idempotency key; when absent it is `id` (never the SQS messageId). */
  readonly idempotencyKey?: string;
  /** ISO-8601 UTC time the producer accepted the task. */
  readonly createdAt: string;
  /** ISO-8601 UTC time before which the task must not run (delays beyond 15 minutes). */
  readonly notBefore?: string;
  /** The group the task is a member of (producer.sendGroup; lib/protocol/group.ts). */
  readonly group?: string;
  /** A group's callback task: the members' counts, added by the consumer that counted the last one. */
  readonly groupResult?: GroupResult;
}

/** The idempotency key of a task: its own key, or its id. */
export function idempotencyKeyOf(envelope: Pick<TaskEnvelope, 'id' | 'idempotencyKey'>): string {
  return envelope.idempotencyKey ?? envelope.id;
}

export function isValidTaskType(type: unknown): type is string {
  return typeof type === 'string' && TASK_TYPE_PATTERN.test(type);
}

/**
 * The task table's own items share the key space of idempotency keys (a task id is the default
 * key). Their keys start with U+001F, a control character no key may hold — except the routing
 * item's, which is printable and therefore reserved here.
 */
export const RESERVED_KEYS: ReadonlySet<string> = new Set([ROUTING_ITEM_KEY]);

/** What a task id must be, for error messages: "taskId must …". */
export const TASK_ID_RULE = `match ${TASK_ID_PATTERN.source} and not be ${JSON.stringify(ROUTING_ITEM_KEY)} (reserved)`;
/** What an idempotency key must be, for error messages: "idempotencyKey must be …". */
export const IDEMPOTENCY_KEY_RULE = `1–${IDEMPOTENCY_KEY_MAX_LENGTH} characters without control characters, and not ${JSON.stringify(ROUTING_ITEM_KEY)} (reserved)`;

export function isValidTaskId(id: unknown): id is string {
  return typeof id === 'string' && TASK_ID_PATTERN.test(id) && !RESERVED_KEYS.has(id);
}

export function isValidIdempotencyKey(key: unknown): key is string {
  return typeof key === 'string' && key.length > 0 && key.length <= IDEMPOTENCY_KEY_MAX_LENGTH && !CONTROL_CHARACTERS.test(key) && !RESERVED_KEYS.has(key);
}

const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;

function isIsoTime(value: unknown): value is string {
  return typeof value === 'string' && ISO_UTC.test(value) && !Number.isNaN(Date.parse(value));
}

/**
 * SQS accepts only #x9 | #xA | #xD | #x20–#xD7FF | #xE000–#xFFFD | #x10000–#x10FFFF.
 * JSON.stringify already escapes control characters and lone surrogates; U+FFFE and
 * U+FFFF pass through it unescaped, and can only occur inside JSON strings, where an
 * escape means the same thing.
 */
export function toSqsSafeJson(value: unknown): string {
  const json = JSON.stringify(value);
  return json.includes('\uFFFE') || json.includes('\uFFFF')
    ? json.replace(/[\uFFFE\uFFFF]/g, (c) => `\\u${c.charCodeAt(0).toString(16)}`)
    : json;
}

/** Serialises an envelope to the message body, with no undefined fields. */
export function encodeEnvelope(envelope: TaskEnvelope): string {
  return toSqsSafeJson(envelope);
}

/**
 * Parses and validates a message body as an envelope v1. Throws PoisonMessageError with
 * the dead-letter reason when the body can never be processed.
 */
export function decodeEnvelope(body: string): TaskEnvelope {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    // Not the parser's message: it quotes the body, and this text reaches logs and DLQ attributes.
    throw new PoisonMessageError('malformed-json', `message body is not JSON (${body.length} characters)`);
  }
  return validateEnvelope(parsed);
}

export function validateEnvelope(parsed: unknown): TaskEnvelope {
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new PoisonMessageError('invalid-envelope', 'message body is not a JSON object');
  }
  const e = parsed as Record<string, unknown>;
  if (e.v !== ENVELOPE_VERSION) {
    throw new PoisonMessageError('unsupported-version', `envelope version ${JSON.stringify(e.v)} is not supported (expected ${ENVELOPE_VERSION})`);
  }
  const problems: string[] = [];
  if (!isValidTaskId(e.id)) problems.push(`id must ${TASK_ID_RULE}`);
  if (!isValidTaskType(e.type)) problems.push('type must match ' + TASK_TYPE_PATTERN.source);
  if (!isIsoTime(e.createdAt)) problems.push('createdAt must be an ISO-8601 UTC time');
  if (e.notBefore !== undefined && !isIsoTime(e.notBefore)) problems.push('notBefore must be an ISO-8601 UTC time');
  if (e.idempotencyKey !== undefined && !isValidIdempotencyKey(e.idempotencyKey)) {
    problems.push(`idempotencyKey must be ${IDEMPOTENCY_KEY_RULE}`);
  }
  if (e.group !== undefined && !isValidTaskId(e.group)) problems.push('group must match ' + TASK_ID_PATTERN.source);
  if (e.groupResult !== undefined && !isGroupResult(e.groupResult)) problems.push('groupResult must be {groupId, total, succeeded, deadLettered, cancelled}');
  const hasPayload = 'payload' in e;
  if (e.payloadRef !== undefined) {
    if (hasPayload) problems.push('payload and payloadRef are mutually exclusive');
    if (!isPayloadRef(e.payloadRef)) problems.push('payloadRef must be {bucket, key, size, sha256, exclusive?}');
  } else if (!hasPayload) {
    problems.push('one of payload or payloadRef is required');
  }
  if (problems.length > 0) {
    throw new PoisonMessageError('invalid-envelope', `invalid envelope: ${problems.join('; ')}`);
  }
  return e as unknown as TaskEnvelope;
}

function isPayloadRef(value: unknown): value is PayloadRef {
  if (typeof value !== 'object' || value === null) return false;
  const r = value as Record<string, unknown>;
  return (
    typeof r.bucket === 'string' &&
    r.bucket.length > 0 &&
    typeof r.key === 'string' &&
    r.key.length > 0 &&
    typeof r.size === 'number' &&
    Number.isSafeInteger(r.size) &&
    r.size >= 0 &&
    typeof r.sha256 === 'string' &&
    /^[0-9a-f]{64}$/.test(r.sha256) &&
    (r.exclusive === undefined || typeof r.exclusive === 'boolean')
  );
}
