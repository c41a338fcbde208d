/**
 * Turns (type, payload, options) into an SQS message, validating everything before any
 * request is made. Each refusal is a TaskValidationError with a stable code. The payload is
 * serialised exactly once; nothing here hashes or copies it.
 */
import { createHash } from 'node:crypto';
import type { MessageAttributeValue } from '@aws-sdk/client-sqs';
import { MESSAGE_ATTRIBUTES } from '../protocol/attributes.ts';
import type { ContractInput, TaskContract } from '../protocol/contract.ts';
import { ENVELOPE_VERSION, IDEMPOTENCY_KEY_RULE, TASK_ID_RULE, isValidIdempotencyKey, isValidTaskId, isValidTaskType } from '../protocol/envelope.ts';
import { TaskValidationError } from '../protocol/errors.ts';
import { newTaskId } from '../protocol/ids.ts';
import { SQS_MAX_DELAY_SECONDS, TASK_TYPE_PATTERN } from '../protocol/limits.ts';
import type { ResolvedProducerConfig } from './config.ts';
import type { DedupeOptions } from './dedupe.ts';

/** Options of one task. */
export interface SendOptions {
  /** Task id. @default a new `tsk_<32 hex>` id */
  readonly taskId?: string;
  /** Idempotency key: tasks with the same key have one effect. @default the task id */
  readonly idempotencyKey?: string;
  /** Delay before the task becomes visible, integer 0–900 s (SQS DelaySeconds). Standard queues only. */
  readonly delaySeconds?: number;
  /** Delay in milliseconds, any length: beyond 15 minutes the envelope carries `notBefore`. Standard queues only. */
  readonly delayMs?: number;
  /** Earliest time to run, any distance ahead: beyond 15 minutes the envelope carries `notBefore`. Standard queues only. */
  readonly runAt?: Date;
  /** FIFO message group (required on FIFO queues; on standard queues it selects a fair-queue tenant). */
  readonly messageGroupId?: string;
  /** FIFO deduplication id. @default the idempotency key (its SHA-256 when not a valid dedup id), else the task id */
  readonly deduplicationId?: string;
  /**
   * The tenant the task is for: on a standard queue it becomes the message group id, so that
   * SQS fair queues keep one tenant's flood from delaying the others (docs/FLOW-CONTROL.md).
   * Not on FIFO queues (give messageGroupId: FIFO groups keep their ordering semantics).
   * @default none
   */
  readonly tenantId?: string;
  /**
   * Deduplication or debounce by key (docs/FLOW-CONTROL.md): `simple` skips a send within
   * ttlSeconds of the key's first, `throttle` allows one task per key per window, `debounce`
   * runs the key's last payload once the key has been quiet for ttlSeconds. send() only; needs
   * the producer's tableName (and TaskQueue.grantSend(grantee, { dedupe: true })).
   * @default none
   */
  readonly dedupe?: DedupeOptions;
}

/** One task of a sendBatch call. `type` may be a task contract (its payload is then checked by the contract's schema). */
export interface TaskInput<P = unknown> extends SendOptions {
  readonly type: string | TaskContract;
  readonly payload: P;
}

/** A sendBatch entry typed by its contract: `taskOf(SendEmail, { to: 'ada@example.com' })`. */
export function taskOf<C extends TaskContract>(contract: C, payload: ContractInput<C>, options: SendOptions = {}): TaskInput<ContractInput<C>> {
  return { ...options, type: contract, payload };
}

/** A validated task, encoded as the inline message (before any claim check). */
export interface PreparedTask {
  readonly taskId: string;
  readonly idempotencyKey: string;
  readonly type: string;
  /** The idempotency key as written in the envelope: undefined when it is the task id. */
  readonly explicitKey: string | undefined;
  readonly createdAt: string;
  readonly notBefore: string | undefined;
  readonly payloadJson: string;
  body: string;
  attributes: Record<string, MessageAttributeValue>;
  /** Message size as SQS counts it: body + attribute names, types and values, UTF-8 bytes. */
  size: number;
  readonly delaySeconds: number | undefined;
  readonly messageGroupId: string | undefined;
  readonly deduplicationId: string | undefined;
  /** Set once the payload was uploaded by claim check. */
  claimKey?: string;
  /** The group the task is a member of (sendGroup). */
  readonly group?: string;
}

/** FIFO group and deduplication ids: 1–128 characters of printable ASCII except space (SQS rule). */
const SQS_ID_PATTERN = /^[\x21-\x7e]{1,128}$/;
const ISO_DATE = (ms: number) => new Date(ms).toISOString();

function invalid(code: TaskValidationError['code'], message: string, cause?: unknown): never {
  throw new TaskValidationError(code, message, cause === undefined ? undefined : { cause });
}

/** Serialises a payload to SQS-safe JSON, or throws INVALID_PAYLOAD. */
export function serializePayload(payload: unknown, strict: boolean): string {
  const kind = typeof payload;
  if (payload === undefined || kind === 'function' || kind === 'symbol' || kind === 'bigint') {
    invalid('INVALID_PAYLOAD', `payload must be JSON-serialisable (got ${kind === 'undefined' ? 'undefined' : `a ${kind}`})`);
  }
  let json: string | undefined;
  try {
    json = strict ? JSON.stringify(payload, strictReplacer) : JSON.stringify(payload);
  } catch (error) {
    invalid('INVALID_PAYLOAD', `payload is not JSON-serialisable: ${(error as Error).message}`, error);
  }
  if (json === undefined) invalid('INVALID_PAYLOAD', 'payload is not JSON-serialisable (its JSON form is undefined)');
  // JSON.stringify escapes control characters and lone surrogates; SQS also rejects the
  // noncharacters U+FFFE and U+FFFF, which can only occur inside JSON strings: escape them.
  return /[\uFFFE\uFFFF]/.test(json) ? json.replace(/[\uFFFE\uFFFF]/g, (c) => `\\u${c.charCodeAt(0).toString(16)}`) : json;
}

function strictReplacer(this: unknown, key: string, value: unknown): unknown {
  const kind = typeof value;
  if (kind === 'function' || kind === 'symbol' || (kind === 'undefined' && Array.isArray(this))) {
    throw new TypeError(`value at key ${JSON.stringify(key)} is ${kind === 'undefined' ? 'undefined' : `a ${kind}`}`);
  }
  if (kind === 'number' && !Number.isFinite(value as number)) {
    throw new TypeError(`value at key ${JSON.stringify(key)} is ${String(value)}`);
  }
  return value;
}

/**
 * The envelope v1 body for an inline payload already serialised by serializePayload.
 * Same bytes as encodeEnvelope({ v, id, type, payload, idempotencyKey?, createdAt, notBefore? })
 * without serialising the payload twice. id and type match patterns without characters JSON
 * must escape; createdAt and notBefore are ISO strings.
 */
export function encodeInlineBody(t: Pick<PreparedTask, 'taskId' | 'type' | 'explicitKey' | 'createdAt' | 'notBefore' | 'payloadJson' | 'group'>): string {
  let body = `{"v":${ENVELOPE_VERSION},"id":"${t.taskId}","type":"${t.type}","payload":${t.payloadJson}`;
  if (t.explicitKey !== undefined) body += `,"idempotencyKey":${serializePayload(t.explicitKey, false)}`;
  body += `,"createdAt":"${t.createdAt}"`;
  if (t.notBefore !== undefined) body += `,"notBefore":"${t.notBefore}"`;
  // A group id matches TASK_ID_PATTERN: no character JSON must escape.
  if (t.group !== undefined) body += `,"group":"${t.group}"`;
  return `${body}}`;
}

/** Size of message attributes as SQS counts it (name + data type + value). */
export function attributesSize(attributes: Record<string, MessageAttributeValue>): number {
  let size = 0;
  for (const name in attributes) {
    const a = attributes[name]!;
    size += Buffer.byteLength(name) + Buffer.byteLength(a.DataType ?? '') + (a.StringValue === undefined ? 0 : Buffer.byteLength(a.StringValue));
  }
  return size;
}

interface DelayPlan {
  delaySeconds: number | undefined;
  notBefore: string | undefined;
}

function planDelay(options: SendOptions, fifo: boolean, now: number): DelayPlan {
  const { delaySeconds, delayMs, runAt } = options;
  const given = (delaySeconds !== undefined ? 1 : 0) + (delayMs !== undefined ? 1 : 0) + (runAt !== undefined ? 1 : 0);
  if (given === 0) return { delaySeconds: undefined, notBefore: undefined };
  if (given > 1) invalid('INVALID_DELAY', 'give at most one of delaySeconds, delayMs and runAt');
  let targetMs: number;
  if (delaySeconds !== undefined) {
    if (!Number.isInteger(delaySeconds) || delaySeconds < 0 || delaySeconds > SQS_MAX_DELAY_SECONDS) {
      invalid('INVALID_DELAY', `delaySeconds must be an integer from 0 to ${SQS_MAX_DELAY_SECONDS} (got ${String(delaySeconds)}); use delayMs or runAt for longer delays`);
    }
    if (fifo && delaySeconds > 0) invalid('INVALID_DELAY', 'FIFO queues do not support per-message delays (set DelaySeconds on the queue instead)');
    return { delaySeconds: delaySeconds === 0 ? undefined : delaySeconds, notBefore: undefined };
  }
  if (delayMs !== undefined) {
    if (typeof delayMs !== 'number' || !Number.isFinite(delayMs) || delayMs < 0) invalid('INVALID_DELAY', `delayMs must be a finite number ≥ 0 (got ${String(delayMs)})`);
    targetMs = now + delayMs;
  } else {
    if (!(runAt instanceof Date) || Number.isNaN(runAt.getTime())) invalid('INVALID_DELAY', 'runAt must be a valid Date');
    targetMs = runAt.getTime();
  }
  const remainingMs = targetMs - now;
  if (remainingMs <= 0) return { delaySeconds: undefined, notBefore: undefined };
  if (fifo) invalid('INVALID_DELAY', 'FIFO queues do not support per-message delays (set DelaySeconds on the queue instead)');
  if (remainingMs <= SQS_MAX_DELAY_SECONDS * 1000) {
    // Round up: never visible before the requested time.
    return { delaySeconds: Math.ceil(remainingMs / 1000), notBefore: undefined };
  }
  // Longer than SQS allows: the first hop is the maximum; the consumer re-delays until notBefore.
  return { delaySeconds: SQS_MAX_DELAY_SECONDS, notBefore: ISO_DATE(targetMs) };
}

/**
 * Validates a task and encodes its inline message. Throws TaskValidationError; makes no request.
 * A message above maxMessageBytes without claim check configured is PAYLOAD_TOO_LARGE here; with
 * claim check, the caller decides from `size`.
 */
export function prepareTask(type: string, payload: unknown, options: SendOptions | undefined, config: ResolvedProducerConfig, group?: string): PreparedTask {
  const o = options ?? {};
  if (!isValidTaskType(type)) {
    invalid('INVALID_TASK_TYPE', `task type must match ${TASK_TYPE_PATTERN.source} (got ${JSON.stringify(type) ?? String(type)})`);
  }
  let taskId: string;
  if (o.taskId === undefined) {
    taskId = newTaskId();
  } else {
    if (!isValidTaskId(o.taskId)) invalid('INVALID_TASK_ID', `taskId must ${TASK_ID_RULE} (got ${JSON.stringify(o.taskId) ?? String(o.taskId)})`);
    taskId = o.taskId;
  }
  if (o.idempotencyKey !== undefined && !isValidIdempotencyKey(o.idempotencyKey)) {
    invalid('INVALID_IDEMPOTENCY_KEY', `idempotencyKey must be a string of ${IDEMPOTENCY_KEY_RULE}`);
  }
  const idempotencyKey = o.idempotencyKey ?? taskId;
  const now = config.now();
  const delay = planDelay(o, config.fifo, now);

  let messageGroupId: string | undefined;
  let deduplicationId: string | undefined;
  if (o.messageGroupId !== undefined) {
    if (typeof o.messageGroupId !== 'string' || !SQS_ID_PATTERN.test(o.messageGroupId)) {
      invalid('INVALID_OPTIONS', 'messageGroupId must be 1–128 printable ASCII characters without spaces');
    }
    messageGroupId = o.messageGroupId;
  }
  if (o.tenantId !== undefined) {
    if (typeof o.tenantId !== 'string' || !SQS_ID_PATTERN.test(o.tenantId)) invalid('INVALID_OPTIONS', 'tenantId must be 1–128 printable ASCII characters without spaces');
    if (config.fifo) invalid('INVALID_OPTIONS', 'tenantId applies to standard queues (fair queues); on a FIFO queue give messageGroupId');
    if (messageGroupId !== undefined && messageGroupId !== o.tenantId) invalid('INVALID_OPTIONS', 'give tenantId or messageGroupId, not both with different values');
    messageGroupId = o.tenantId;
  }
  if (config.fifo) {
    if (messageGroupId === undefined) invalid('FIFO_GROUP_REQUIRED', 'a FIFO queue needs messageGroupId on every task');
    if (o.deduplicationId !== undefined) {
      if (typeof o.deduplicationId !== 'string' || !SQS_ID_PATTERN.test(o.deduplicationId)) {
        invalid('INVALID_OPTIONS', 'deduplicationId must be 1–128 printable ASCII characters without spaces');
      }
      deduplicationId = o.deduplicationId;
    } else {
      // The idempotency key makes SQS drop a re-send within its 5-minute window; a key SQS
      // would refuse as an id (spaces, non-ASCII, > 128) is replaced by its SHA-256.
      deduplicationId = SQS_ID_PATTERN.test(idempotencyKey) ? idempotencyKey : createHash('sha256').update(idempotencyKey).digest('hex');
    }
  } else if (o.deduplicationId !== undefined) {
    invalid('INVALID_OPTIONS', 'deduplicationId applies to FIFO queues only');
  }

  const payloadJson = serializePayload(payload, config.strictPayload);
  // UTF-8 takes at most 3 bytes per UTF-16 code unit: skip the exact count when the bound is enough.
  if (payloadJson.length * 3 > config.maxPayloadBytes) {
    const payloadBytes = Buffer.byteLength(payloadJson);
    if (payloadBytes > config.maxPayloadBytes) {
      invalid('PAYLOAD_TOO_LARGE', `payload is ${payloadBytes} bytes of JSON, above maxPayloadBytes ${config.maxPayloadBytes}`);
    }
  }

  const prepared: PreparedTask = {
    taskId,
    idempotencyKey,
    type,
    explicitKey: o.idempotencyKey === undefined || o.idempotencyKey === taskId ? undefined : o.idempotencyKey,
    createdAt: ISO_DATE(now),
    notBefore: delay.notBefore,
    payloadJson,
    body: '',
    attributes: {
      [MESSAGE_ATTRIBUTES.taskType]: { DataType: 'String', StringValue: type },
      [MESSAGE_ATTRIBUTES.taskId]: { DataType: 'String', StringValue: taskId },
    },
    size: 0,
    delaySeconds: delay.delaySeconds,
    messageGroupId,
    deduplicationId,
    ...(group !== undefined ? { group } : {}),
  };
  prepared.body = encodeInlineBody(prepared);
  // Attribute names and values here are ASCII: their byte length is their length.
  prepared.size = Buffer.byteLength(prepared.body) + fixedAttributesSize(type, taskId);
  if (config.claimCheck === undefined && prepared.size > config.inlineLimitBytes) {
    invalid(
      'PAYLOAD_TOO_LARGE',
      `message is ${prepared.size} bytes, above the inline limit ${config.inlineLimitBytes} (maxMessageBytes − dead-letter headroom), and claim check is off (no bucketName)`,
    );
  }
  return prepared;
}

const TASK_TYPE_ATTR_OVERHEAD = MESSAGE_ATTRIBUTES.taskType.length + 'String'.length;
const TASK_ID_ATTR_OVERHEAD = MESSAGE_ATTRIBUTES.taskId.length + 'String'.length;
function fixedAttributesSize(type: string, taskId: string): number {
  return TASK_TYPE_ATTR_OVERHEAD + type.length + TASK_ID_ATTR_OVERHEAD + taskId.length;
}
