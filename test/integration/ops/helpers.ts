/** Helpers of the ops integration tests: dead-lettered messages as the consumer writes them, and queue contents. */
import {
  ReceiveMessageCommand,
  SendMessageCommand,
  ChangeMessageVisibilityBatchCommand,
  type Message,
  type MessageAttributeValue,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { DEAD_LETTER_ATTRIBUTES, MESSAGE_ATTRIBUTES } from '../../../lib/protocol/attributes.ts';
import { encodeEnvelope } from '../../../lib/protocol/envelope.ts';
import { newTaskId } from '../../../lib/protocol/ids.ts';
import { peekDeadLetters } from '../../../lib/ops/dlq-peek.ts';
import { purgeDeadLetters } from '../../../lib/ops/dlq-purge.ts';
import { redriveDeadLetters } from '../../../lib/ops/dlq-redrive.ts';
import { queueStats } from '../../../lib/ops/stats.ts';
import { actingAs } from '../../support/iam/principals.ts';

/**
 * The CLI's actions (lib/ops) run as the operator role: every AWS call they make is
 * evaluated against the synthesized stack's policies (test/support/iam/).
 */
export const operator = actingAs('operator', { peekDeadLetters, purgeDeadLetters, redriveDeadLetters, queueStats });

export interface DeadLetterSpec {
  readonly type: string;
  readonly taskId?: string;
  readonly payload?: unknown;
  readonly reason?: string;
  readonly attempts?: number;
  readonly lastError?: string;
  readonly createdAt?: string;
  readonly groupId?: string;
  readonly deduplicationId?: string;
  readonly extraAttributes?: Record<string, MessageAttributeValue>;
}

export interface PutDeadLetter {
  readonly taskId: string;
  readonly body: string;
}

/** Sends a message to the DLQ the way the consumer dead-letters one: envelope body, taskType/taskId and the dead-letter attributes. */
export async function putDeadLetter(sqs: SQSClient, queueUrl: string, spec: DeadLetterSpec): Promise<PutDeadLetter> {
  const taskId = spec.taskId ?? newTaskId();
  const body = encodeEnvelope({ v: 1, id: taskId, type: spec.type, payload: spec.payload ?? { n: taskId }, createdAt: spec.createdAt ?? new Date().toISOString() });
  const s = (value: string): MessageAttributeValue => ({ DataType: 'String', StringValue: value });
  await sqs.send(
    new SendMessageCommand({
      QueueUrl: queueUrl,
      MessageBody: body,
      MessageAttributes: {
        [MESSAGE_ATTRIBUTES.taskType]: s(spec.type),
        [MESSAGE_ATTRIBUTES.taskId]: s(taskId),
        [DEAD_LETTER_ATTRIBUTES.reason]: s(spec.reason ?? 'attempts-exhausted'),
        [DEAD_LETTER_ATTRIBUTES.attempts]: { DataType: 'Number', StringValue: String(spec.attempts ?? 5) },
        [DEAD_LETTER_ATTRIBUTES.lastError]: s(spec.lastError ?? 'boom'),
        [DEAD_LETTER_ATTRIBUTES.originalMessageId]: s('00000000-0000-0000-0000-000000000000'),
        [DEAD_LETTER_ATTRIBUTES.deadLetteredAt]: s(new Date().toISOString()),
        ...spec.extraAttributes,
      },
      ...(spec.groupId ? { MessageGroupId: spec.groupId } : {}),
      ...(spec.deduplicationId ? { MessageDeduplicationId: spec.deduplicationId } : {}),
    }),
  );
  return { taskId, body };
}

/**
 * Every visible message of a queue, read and then made visible again (so the queue is
 * unchanged): receives until an empty long poll, holding what it read.
 */
export async function visibleMessages(sqs: SQSClient, queueUrl: string): Promise<Message[]> {
  const all = new Map<string, Message>();
  for (;;) {
    const r = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, VisibilityTimeout: 60, WaitTimeSeconds: 1, MessageAttributeNames: ['All'], MessageSystemAttributeNames: ['All'] }),
    );
    const batch = r.Messages ?? [];
    if (batch.length === 0) break;
    for (const m of batch) all.set(m.MessageId!, m);
  }
  const list = [...all.values()];
  for (let i = 0; i < list.length; i += 10) {
    await sqs.send(
      new ChangeMessageVisibilityBatchCommand({
        QueueUrl: queueUrl,
        Entries: list.slice(i, i + 10).map((m, n) => ({ Id: String(n), ReceiptHandle: m.ReceiptHandle!, VisibilityTimeout: 0 })),
      }),
    );
  }
  return list;
}

/** Task ids of messages (from the taskId attribute, else the envelope). */
export function taskIds(messages: readonly Message[]): string[] {
  return messages.map((m) => m.MessageAttributes?.[MESSAGE_ATTRIBUTES.taskId]?.StringValue ?? (JSON.parse(m.Body!) as { id: string }).id).sort();
}
