/**
 * Reading a message found in the DLQ: why it is there (the dead-letter attributes the
 * consumer wrote), which task it is (taskType/taskId attributes, else the envelope's
 * metadata), and the attributes it carries back to the source queue on a redrive.
 * The payload is never needed: routing and inspection use only the attributes and the
 * envelope's metadata.
 */
import type { Message, MessageAttributeValue } from '@aws-sdk/client-sqs';
import { COPY_ATTRIBUTES, DEAD_LETTER_ATTRIBUTES, MESSAGE_ATTRIBUTES, REDRIVE_ATTRIBUTES } from '../protocol/attributes.ts';
import { SQS_MAX_MESSAGE_ATTRIBUTES } from '../protocol/limits.ts';

export interface DeadLetterView {
  readonly messageId: string;
  /** The DeadLetterReason code, or null when the message carries none (moved by the queue's redrive policy). */
  readonly reason: string | null;
  /** Handler executions counted by the consumer, or null when unknown. */
  readonly attempts: number | null;
  readonly type: string | null;
  readonly taskId: string | null;
  /** Seconds since the task was created (envelope createdAt), else since the message was first sent. */
  readonly ageSeconds: number | null;
  readonly createdAt: string | null;
  readonly deadLetteredAt: string | null;
  readonly lastError: string | null;
  readonly originalMessageId: string | null;
  /** How often this message was received from the DLQ (peeks count too). */
  readonly receiveCount: number | null;
  readonly messageGroupId?: string;
  /** Only with --show-body. */
  readonly body?: string;
}

/**
 * Dropped on a redrive: the stale dead-letter attributes, an earlier redrive's marks, and the
 * receives of earlier copies (a redrive starts afresh). An outcome copy's outcome stays: the
 * redriven copy records it.
 */
const NOT_REDRIVEN = new Set<string>([...Object.values(DEAD_LETTER_ATTRIBUTES), ...Object.values(REDRIVE_ATTRIBUTES), COPY_ATTRIBUTES.priorReceives]);

function attribute(message: Message, name: string): string | undefined {
  return message.MessageAttributes?.[name]?.StringValue;
}

interface EnvelopeMetadata {
  id?: string;
  type?: string;
  createdAt?: string;
}

/** The envelope's metadata, if the body is an envelope (an Extended Client pointer or junk yields {}). */
function envelopeMetadata(body: string | undefined): EnvelopeMetadata {
  if (!body || !body.trimStart().startsWith('{')) return {};
  try {
    const parsed = JSON.parse(body) as Record<string, unknown>;
    return {
      ...(typeof parsed.id === 'string' ? { id: parsed.id } : {}),
      ...(typeof parsed.type === 'string' ? { type: parsed.type } : {}),
      ...(typeof parsed.createdAt === 'string' ? { createdAt: parsed.createdAt } : {}),
    };
  } catch {
    return {};
  }
}

/** The task type used for `--type` filters: the taskType attribute, else the envelope's type. */
export function taskTypeOf(message: Message): string | null {
  return attribute(message, MESSAGE_ATTRIBUTES.taskType) ?? envelopeMetadata(message.Body).type ?? null;
}

export function describeDeadLetter(message: Message, options: { now?: number; showBody?: boolean } = {}): DeadLetterView {
  const now = options.now ?? Date.now();
  const meta = envelopeMetadata(message.Body);
  const attemptsText = attribute(message, DEAD_LETTER_ATTRIBUTES.attempts);
  const attempts = attemptsText !== undefined && Number.isFinite(Number(attemptsText)) ? Number(attemptsText) : null;
  const sent = Number(message.Attributes?.SentTimestamp);
  const created = meta.createdAt ? Date.parse(meta.createdAt) : Number.NaN;
  const origin = Number.isFinite(created) ? created : Number.isFinite(sent) ? sent : undefined;
  const receiveCount = Number(message.Attributes?.ApproximateReceiveCount);
  const group = message.Attributes?.MessageGroupId;
  return {
    messageId: message.MessageId ?? '',
    reason: attribute(message, DEAD_LETTER_ATTRIBUTES.reason) ?? null,
    attempts,
    type: attribute(message, MESSAGE_ATTRIBUTES.taskType) ?? meta.type ?? null,
    taskId: attribute(message, MESSAGE_ATTRIBUTES.taskId) ?? meta.id ?? null,
    ageSeconds: origin === undefined ? null : Math.max(0, Math.floor((now - origin) / 1000)),
    createdAt: meta.createdAt ?? null,
    deadLetteredAt: attribute(message, DEAD_LETTER_ATTRIBUTES.deadLetteredAt) ?? null,
    lastError: attribute(message, DEAD_LETTER_ATTRIBUTES.lastError) ?? null,
    originalMessageId: attribute(message, DEAD_LETTER_ATTRIBUTES.originalMessageId) ?? null,
    receiveCount: Number.isFinite(receiveCount) ? receiveCount : null,
    ...(group ? { messageGroupId: group } : {}),
    ...(options.showBody && message.Body !== undefined ? { body: message.Body } : {}),
  };
}

/**
 * The identity of a redrive of this DLQ message (docs/PROTOCOL.md "Redrives"): the consumer's
 * taskq.deadLetterId; for an older dead letter without one, its original messageId and time;
 * for a message the redrive policy moved (no dead-letter attributes), its own messageId. Every
 * copy of one dead-lettering (a send the SDK retried, an SQS duplicate) has the same identity,
 * so a task is reset once for it.
 */
export function redriveIdentity(message: Message): string {
  const deadLetterId = attribute(message, DEAD_LETTER_ATTRIBUTES.deadLetterId);
  if (deadLetterId) return deadLetterId;
  if (attribute(message, DEAD_LETTER_ATTRIBUTES.reason) !== undefined) {
    return `dead-letter:${attribute(message, DEAD_LETTER_ATTRIBUTES.originalMessageId) ?? ''}:${attribute(message, DEAD_LETTER_ATTRIBUTES.deadLetteredAt) ?? ''}`;
  }
  return `message:${message.MessageId ?? ''}`;
}

/**
 * The message attributes to send back to the source queue: all of them (taskType, taskId,
 * the Extended Client size attribute, a producer's own) except the dead-letter attributes,
 * plus `taskq.redriveId` (redriveIdentity) — the mark that makes the consumer run the task
 * again with fresh attempts, once per redrive — and `taskq.redrivenAt` (ISO time, for people).
 * SQS allows 10 attributes; a consumer's dead letter leaves room (its 6 dead-letter attributes
 * are removed). A message already carrying 10 attributes of its own (moved by the redrive
 * policy, never by the consumer) goes back without the marks: it runs unless its task is
 * DEAD_LETTERED.
 */
export function redriveAttributes(message: Message, redrivenAt: string): Record<string, MessageAttributeValue> {
  const out: Record<string, MessageAttributeValue> = {};
  for (const [name, value] of Object.entries(message.MessageAttributes ?? {})) {
    if (NOT_REDRIVEN.has(name) || !value.DataType) continue;
    const copy: MessageAttributeValue = { DataType: value.DataType };
    if (value.StringValue !== undefined) copy.StringValue = value.StringValue;
    if (value.BinaryValue !== undefined) copy.BinaryValue = value.BinaryValue;
    out[name] = copy;
  }
  if (Object.keys(out).length < SQS_MAX_MESSAGE_ATTRIBUTES) out[REDRIVE_ATTRIBUTES.redriveId] = { DataType: 'String', StringValue: redriveIdentity(message) };
  if (Object.keys(out).length < SQS_MAX_MESSAGE_ATTRIBUTES) out[REDRIVE_ATTRIBUTES.redrivenAt] = { DataType: 'String', StringValue: redrivenAt };
  return out;
}
