/**
 * Groups in the consumer (lib/protocol/group.ts): counting a member that reached a final state,
 * once, and sending the group's callback when the last one is counted.
 *
 * Counting is one TransactWriteItems: the member's marker (absent: this is the first count of
 * this member) and the group's counters. A duplicate, a redrive or a second consumer finds the
 * marker and counts nothing — the transaction is all or nothing, so a member is never counted
 * without its marker, nor marked without its count.
 *
 * Completing reads the group (consistent); when every member is counted and no callback was
 * sent yet, it reads the prepared callback, adds the counts and sends it, then notes the send.
 * Two consumers counting the last members at once may both send it: the callback's idempotency
 * key (`group:<id>:callback`) makes it run once. A consumer that dies between the count and the
 * send leaves its message unacknowledged; its next copy finds the member counted and completes
 * the group then.
 *
 * Costs per member: one transaction of two writes (4 write units) and one consistent read
 * (1 read unit); the callback: one more read and write, and one SendMessage.
 */
import {
  BatchGetItemCommand,
  TransactWriteItemsCommand,
  TransactionCanceledException,
  UpdateItemCommand,
  type AttributeValue,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import type { MessageAttributeValue } from '@aws-sdk/client-sqs';
import { encodeEnvelope, validateEnvelope } from '../protocol/envelope.ts';
import { groupCallbackItemKey, groupItemKey, groupMemberItemKey, type GroupMemberOutcome, type GroupResult } from '../protocol/group.ts';
import { TABLE_SCHEMA } from '../protocol/resources.ts';
import type { Clock } from './config.ts';
import { N, S } from './task-store.ts';

const PK = TABLE_SCHEMA.partitionKey;

export type CountResult = 'counted' | 'already-counted' | 'no-group';

/** The callback message, ready to send: the stored one with the counts added. */
export interface GroupCallbackMessage {
  readonly type: string;
  readonly body: string;
  readonly attributes: Record<string, MessageAttributeValue>;
  readonly messageGroupId?: string;
  readonly deduplicationId?: string;
}

export type CompletionCheck =
  | { readonly kind: 'open' | 'already-sent' | 'no-callback' | 'no-group' }
  | { readonly kind: 'send'; readonly callback: GroupCallbackMessage; readonly result: GroupResult };

export class GroupCounter {
  constructor(
    private readonly dynamo: DynamoDBClient,
    private readonly tableName: string,
    private readonly ttlSeconds: number,
    private readonly clock: Clock,
  ) {}

  async count(groupId: string, memberKey: string, taskId: string, outcome: GroupMemberOutcome): Promise<CountResult> {
    const now = this.clock.now();
    try {
      await this.dynamo.send(
        new TransactWriteItemsCommand({
          TransactItems: [
            {
              Put: {
                TableName: this.tableName,
                Item: {
                  [PK]: S(groupMemberItemKey(groupId, memberKey)),
                  taskId: S(taskId),
                  outcome: S(outcome),
                  countedAt: S(new Date(now).toISOString()),
                  [TABLE_SCHEMA.ttlAttribute]: N(Math.floor(now / 1000) + this.ttlSeconds),
                },
                ConditionExpression: 'attribute_not_exists(#pk)',
                ExpressionAttributeNames: { '#pk': PK },
              },
            },
            {
              Update: {
                TableName: this.tableName,
                Key: { [PK]: S(groupItemKey(groupId)) },
                UpdateExpression: 'ADD #f :one, #d :one',
                ConditionExpression: 'attribute_exists(#pk)',
                ExpressionAttributeNames: { '#pk': PK, '#f': outcome, '#d': 'done' },
                ExpressionAttributeValues: { ':one': N(1) },
              },
            },
          ],
        }),
      );
      return 'counted';
    } catch (error) {
      if (!(error instanceof TransactionCanceledException) && (error as { name?: string })?.name !== 'TransactionCanceledException') throw error;
      const reasons = (error as TransactionCanceledException).CancellationReasons ?? [];
      if (reasons[0]?.Code === 'ConditionalCheckFailed') return 'already-counted';
      if (reasons[1]?.Code === 'ConditionalCheckFailed') return 'no-group';
      throw error;
    }
  }

  /** Whether the group is complete with its callback still to send (and the callback, then). */
  async check(groupId: string): Promise<CompletionCheck> {
    const group = await this.read(groupItemKey(groupId));
    if (!group) return { kind: 'no-group' };
    const n = (name: string) => Number(group[name]?.N ?? 0);
    if (n('done') < n('total')) return { kind: 'open' };
    if (group.callbackSentAt !== undefined) return { kind: 'already-sent' };
    if (group.callbackType === undefined) return { kind: 'no-callback' };
    const stored = await this.read(groupCallbackItemKey(groupId));
    if (!stored?.body?.S) return { kind: 'no-callback' };
    const result: GroupResult = { groupId, total: n('total'), succeeded: n('succeeded'), deadLettered: n('deadLettered'), cancelled: n('cancelled') };
    const envelope = validateEnvelope(JSON.parse(stored.body.S));
    return {
      kind: 'send',
      result,
      callback: {
        type: envelope.type,
        body: encodeEnvelope({ ...envelope, groupResult: result }),
        attributes: JSON.parse(stored.attributes?.S ?? '{}') as Record<string, MessageAttributeValue>,
        ...(stored.messageGroupId?.S !== undefined ? { messageGroupId: stored.messageGroupId.S } : {}),
        ...(stored.deduplicationId?.S !== undefined ? { deduplicationId: stored.deduplicationId.S } : {}),
      },
    };
  }

  /** Notes the callback as sent (the first note stays). */
  async markSent(groupId: string): Promise<void> {
    await this.dynamo.send(
      new UpdateItemCommand({
        TableName: this.tableName,
        Key: { [PK]: S(groupItemKey(groupId)) },
        UpdateExpression: 'SET #s = if_not_exists(#s, :now)',
        ExpressionAttributeNames: { '#s': 'callbackSentAt' },
        ExpressionAttributeValues: { ':now': S(new Date(this.clock.now()).toISOString()) },
      }),
    );
  }

  /** One consistent read (BatchGetItem: the consumer's role reads no other way). */
  private async read(key: string): Promise<Record<string, AttributeValue> | undefined> {
    const response = await this.dynamo.send(new BatchGetItemCommand({ RequestItems: { [this.tableName]: { Keys: [{ [PK]: S(key) }], ConsistentRead: true } } }));
    const unprocessed = response.UnprocessedKeys?.[this.tableName]?.Keys?.length ?? 0;
    if (unprocessed > 0) throw Object.assign(new Error(`group item ${JSON.stringify(key)} not read (unprocessed: throttled)`), { name: 'ProvisionedThroughputExceededException' });
    return response.Responses?.[this.tableName]?.[0];
  }
}
