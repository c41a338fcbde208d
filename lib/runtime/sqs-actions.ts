/**
 * What the consumer asks of SQS besides the event source mapping's own deletes: visibility
 * changes (retry backoff, re-delays), copies re-sent with a delay (notBefore hops), and
 * dead-lettering with the reason. The SQS SDK is loaded on first use.
 */
import { createHash } from 'node:crypto';
import type { SQSRecord } from 'aws-lambda';
import type { MessageAttributeValue, SendMessageRequest } from '@aws-sdk/client-sqs';
import { COPY_ATTRIBUTES, DEAD_LETTER_ATTRIBUTES, MESSAGE_ATTRIBUTES, REDRIVE_ATTRIBUTES, truncateErrorText } from '../protocol/attributes.ts';
import type { DeadLetterReason } from '../protocol/errors.ts';
import { SQS_MAX_DELAY_SECONDS, SQS_MAX_MESSAGE_ATTRIBUTES, SQS_MAX_MESSAGE_BYTES } from '../protocol/limits.ts';
import type { AwsClients } from './aws-clients.ts';

export interface DeadLetterDetails {
  readonly reason: DeadLetterReason;
  readonly attempts: number;
  readonly lastError: string;
  readonly taskType?: string;
  readonly deadLetteredAt: string;
  /** Unique per dead-lettering; also written to the task record (a redrive of it is consumed once). */
  readonly deadLetterId: string;
}

/** The record's attributes in SendMessage form (the Lambda event spells them differently). */
export function originalAttributes(record: SQSRecord): Record<string, MessageAttributeValue> {
  const out: Record<string, MessageAttributeValue> = {};
  for (const [name, a] of Object.entries(record.messageAttributes ?? {})) {
    if (a.stringValue !== undefined) out[name] = { DataType: a.dataType, StringValue: a.stringValue };
    else if (a.binaryValue !== undefined) out[name] = { DataType: a.dataType, BinaryValue: Buffer.from(a.binaryValue, 'base64') };
  }
  return out;
}

/**
 * Not copied from the record into a DLQ message: the stale dead-letter attributes (replaced
 * by this dead-lettering's), the redrive marks — the DLQ copy is a dead letter, not a redrive;
 * the next redrive marks it afresh — and the consumer's own copy attributes.
 */
const NOT_CARRIED_TO_DLQ = new Set<string>([...Object.values(DEAD_LETTER_ATTRIBUTES), ...Object.values(REDRIVE_ATTRIBUTES), ...Object.values(COPY_ATTRIBUTES)]);
/** Not copied into a fresh copy: the consumer sets its own copy attributes on it. */
const NOT_CARRIED_TO_COPY = new Set<string>(Object.values(COPY_ATTRIBUTES));

/** Original attributes plus the dead-letter ones, within SQS's 10: ours and taskType first, then the original ones that fit (never the redrive mark). */
export function deadLetterAttributes(record: SQSRecord, d: DeadLetterDetails, originalMessageId: string): Record<string, MessageAttributeValue> {
  const original = originalAttributes(record);
  const out: Record<string, MessageAttributeValue> = {
    [DEAD_LETTER_ATTRIBUTES.reason]: { DataType: 'String', StringValue: d.reason },
    [DEAD_LETTER_ATTRIBUTES.attempts]: { DataType: 'Number', StringValue: String(d.attempts) },
    [DEAD_LETTER_ATTRIBUTES.lastError]: { DataType: 'String', StringValue: truncateErrorText(d.lastError) || d.reason },
    [DEAD_LETTER_ATTRIBUTES.originalMessageId]: { DataType: 'String', StringValue: originalMessageId },
    [DEAD_LETTER_ATTRIBUTES.deadLetteredAt]: { DataType: 'String', StringValue: d.deadLetteredAt },
    [DEAD_LETTER_ATTRIBUTES.deadLetterId]: { DataType: 'String', StringValue: d.deadLetterId },
  };
  const taskType = original[MESSAGE_ATTRIBUTES.taskType] ?? (d.taskType ? { DataType: 'String', StringValue: d.taskType } : undefined);
  if (taskType) out[MESSAGE_ATTRIBUTES.taskType] = taskType;
  for (const [name, value] of Object.entries(original)) {
    if (Object.keys(out).length >= SQS_MAX_MESSAGE_ATTRIBUTES) break;
    if (!(name in out) && !NOT_CARRIED_TO_DLQ.has(name)) out[name] = value;
  }
  return out;
}

export class SqsActions {
  constructor(private readonly clients: AwsClients) {}

  /** Sends the original body and attributes, plus the reason, to the DLQ. Throws when it cannot. */
  async deadLetter(queueUrl: string | undefined, record: SQSRecord, details: DeadLetterDetails, fifo: boolean): Promise<void> {
    if (!queueUrl) throw new Error('no dead-letter queue URL is configured (TASKQ_DLQ_URL)');
    const { client, sdk } = await this.clients.sqs();
    await client.send(
      new sdk.SendMessageCommand({
        QueueUrl: queueUrl,
        MessageBody: record.body,
        MessageAttributes: deadLetterAttributes(record, details, record.messageId),
        ...(fifo ? { MessageGroupId: record.attributes.MessageGroupId ?? 'dead-letter', MessageDeduplicationId: record.messageId } : {}),
      }),
    );
  }

  /** Changes visibility of many messages, 10 per call. Returns the receipt handles that failed (those come back after the queue's timeout). */
  async changeVisibility(queueUrl: string, entries: readonly { receiptHandle: string; seconds: number }[]): Promise<number> {
    if (entries.length === 0) return 0;
    const { client, sdk } = await this.clients.sqs();
    let failed = 0;
    const calls: Promise<void>[] = [];
    for (let i = 0; i < entries.length; i += 10) {
      const chunk = entries.slice(i, i + 10);
      calls.push(
        client
          .send(
            new sdk.ChangeMessageVisibilityBatchCommand({
              QueueUrl: queueUrl,
              Entries: chunk.map((e, k) => ({ Id: String(k), ReceiptHandle: e.receiptHandle, VisibilityTimeout: e.seconds })),
            }),
          )
          .then(
            (response) => {
              failed += response.Failed?.length ?? 0;
            },
            () => {
              failed += chunk.length;
            },
          ),
      );
    }
    await Promise.all(calls);
    return failed;
  }

  /**
   * Re-sends a fresh copy of the message (same body and attributes) with a delay of at most
   * 900 s, carrying the receives so far and, for an outcome copy, the outcome to record.
   * On a FIFO queue (no per-message delay) a re-sent copy joins the back of its message group;
   * an outcome copy goes to a group of its own, so that it is recorded at once and never waits
   * behind its group — where another copy of the same task may be, which would take the task
   * over once the lease and the takeover grace have passed. It only records: order is no concern.
   */
  /** Sends a message the consumer made (a group's callback task). */
  async sendMessage(queueUrl: string, m: { readonly body: string; readonly attributes: Record<string, MessageAttributeValue>; readonly messageGroupId?: string; readonly deduplicationId?: string }, fifo: boolean): Promise<void> {
    const { client, sdk } = await this.clients.sqs();
    await client.send(
      new sdk.SendMessageCommand({
        QueueUrl: queueUrl,
        MessageBody: m.body,
        MessageAttributes: m.attributes,
        // A FIFO queue needs a group: the producer's, else one of the message's own.
        ...(fifo ? { MessageGroupId: m.messageGroupId ?? 'taskq-callback', MessageDeduplicationId: m.deduplicationId ?? createHash('sha256').update(m.body).digest('hex') } : m.messageGroupId !== undefined ? { MessageGroupId: m.messageGroupId } : {}),
      }),
    );
  }

  async resendCopy(queueUrl: string, record: SQSRecord, copy: CopyOptions): Promise<void> {
    const { client, sdk } = await this.clients.sqs();
    await client.send(new sdk.SendMessageCommand({ QueueUrl: queueUrl, ...copyMessage(record, copy) }));
  }

  /**
   * Re-sends fresh copies of many records, with SendMessageBatch: ten (and at most one
   * message's worth of bytes) per call. Returns the records whose copy was not sent.
   */
  async resendCopies(queueUrl: string, copies: readonly { readonly record: SQSRecord; readonly copy: CopyOptions }[]): Promise<Set<SQSRecord>> {
    const failed = new Set<SQSRecord>();
    if (copies.length === 0) return failed;
    const { client, sdk } = await this.clients.sqs();
    const calls: Promise<void>[] = [];
    for (const chunk of batchesOf(copies.map((c) => ({ record: c.record, message: copyMessage(c.record, c.copy) })))) {
      calls.push(
        client.send(new sdk.SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: chunk.map((c, k) => ({ Id: String(k), ...c.message })) })).then(
          (response) => {
            for (const f of response.Failed ?? []) failed.add(chunk[Number(f.Id)]!.record);
          },
          () => {
            for (const c of chunk) failed.add(c.record);
          },
        ),
      );
    }
    await Promise.all(calls);
    return failed;
  }
}

type CopyMessage = Omit<SendMessageRequest, 'QueueUrl'> & { MessageBody: string };

/**
 * A fresh copy of the record: the same body and attributes, the receives so far and, for an
 * outcome copy, the outcome. On a standard queue it keeps the record's message group (a fair
 * queue's tenant) and takes the delay.
 */
function copyMessage(record: SQSRecord, copy: CopyOptions): CopyMessage {
  const attributes = Object.fromEntries(Object.entries(originalAttributes(record)).filter(([name]) => !NOT_CARRIED_TO_COPY.has(name)));
  if (copy.priorReceives > 0) attributes[COPY_ATTRIBUTES.priorReceives] = { DataType: 'Number', StringValue: String(copy.priorReceives) };
  if (copy.outcome !== undefined) attributes[COPY_ATTRIBUTES.outcome] = { DataType: 'String', StringValue: copy.outcome };
  const group = record.attributes?.MessageGroupId;
  return {
    MessageBody: record.body,
    MessageAttributes: attributes,
    ...(copy.fifo
      ? copy.outcome !== undefined
        ? { MessageGroupId: `taskq-outcome-${record.messageId}`, MessageDeduplicationId: `${record.messageId}:outcome` }
        : { MessageGroupId: group ?? 'taskq', MessageDeduplicationId: `${record.messageId}:copy` }
      : { DelaySeconds: Math.max(0, Math.min(SQS_MAX_DELAY_SECONDS, Math.ceil(copy.delaySeconds))), ...(group !== undefined ? { MessageGroupId: group } : {}) }),
  };
}

/** Groups of at most ten messages whose bodies and attributes together stay within one message's size (SQS's batch limit). */
function batchesOf<T extends { message: CopyMessage }>(items: readonly T[]): T[][] {
  const out: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const item of items) {
    const size = messageBytes(item.message);
    if (current.length > 0 && (current.length === 10 || bytes + size > SQS_MAX_MESSAGE_BYTES)) {
      out.push(current);
      current = [];
      bytes = 0;
    }
    current.push(item);
    bytes += size;
  }
  if (current.length > 0) out.push(current);
  return out;
}

function messageBytes(m: CopyMessage): number {
  let n = Buffer.byteLength(m.MessageBody);
  for (const [name, a] of Object.entries(m.MessageAttributes ?? {})) {
    n += Buffer.byteLength(name) + Buffer.byteLength(a.DataType ?? '') + (a.StringValue !== undefined ? Buffer.byteLength(a.StringValue) : (a.BinaryValue?.byteLength ?? 0));
  }
  return n;
}

export interface CopyOptions {
  readonly delaySeconds: number;
  /** Receives of the task before this copy (COPY_ATTRIBUTES.priorReceives). */
  readonly priorReceives: number;
  /** An outcome copy's outcome-copy.ts encoding. */
  readonly outcome?: string;
  readonly fifo: boolean;
}
