/**
 * Groups on the producer's side (lib/protocol/group.ts has the protocol): creating a group —
 * its item and its prepared callback in one DynamoDB transaction, before any member is sent —
 * and reading its status.
 *
 * Why the items come first: a member may finish before the last one is sent, and the consumer
 * that counts it must find the group. Why the callback is prepared here: the producer knows
 * its contract, its claim check and its FIFO group; the consumer that completes the group only
 * adds the counts to the stored message and sends it.
 *
 * Calling sendGroup again with the same groupId and the same members is safe: the items are
 * kept (the transaction's condition), and the members keep their task ids (`<groupId>.<index>`
 * unless given), so the consumers run each once. A different member count or callback type is
 * a GROUP_CONFLICT.
 */
import {
  GetItemCommand,
  TransactWriteItemsCommand,
  TransactionCanceledException,
  type AttributeValue,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { SendError, TaskValidationError } from '../protocol/errors.ts';
import { groupCallbackItemKey, groupItemKey, MAX_GROUP_MEMBERS, type GroupStatusView } from '../protocol/group.ts';
import { TASK_ID_PATTERN } from '../protocol/limits.ts';
import { TABLE_SCHEMA } from '../protocol/resources.ts';
import { DEFAULT_RECORD_TTL_SECONDS } from '../protocol/task-record.ts';
import { awsErrorCode } from './aws-errors.ts';
import type { PreparedTask } from './task-message.ts';

/** The longest group id: member ids `<groupId>.<index>` stay within TASK_ID_PATTERN's 128. */
export const MAX_GROUP_ID_LENGTH = 100;

const PK = TABLE_SCHEMA.partitionKey;
const S = (value: string): AttributeValue => ({ S: value });
const N = (value: number): AttributeValue => ({ N: String(value) });

export function checkGroupId(groupId: unknown): asserts groupId is string {
  if (typeof groupId !== 'string' || !TASK_ID_PATTERN.test(groupId) || groupId.length > MAX_GROUP_ID_LENGTH) {
    throw new TaskValidationError('INVALID_OPTIONS', `groupId must match ${TASK_ID_PATTERN.source} and be at most ${MAX_GROUP_ID_LENGTH} characters (got ${JSON.stringify(groupId) ?? String(groupId)})`);
  }
}

export function checkGroupSize(count: number): void {
  if (count < 1 || count > MAX_GROUP_MEMBERS) {
    throw new TaskValidationError('INVALID_OPTIONS', `a group has 1–${MAX_GROUP_MEMBERS} members (got ${count})`);
  }
}

export class GroupStore {
  constructor(
    private readonly dynamo: () => Promise<DynamoDBClient>,
    private readonly tableName: string,
    private readonly now: () => number,
  ) {}

  /**
   * Writes the group item and (with a callback) its prepared message, unless they exist. An
   * existing group with the same member count and callback type is this group sent again.
   * @throws TaskValidationError GROUP_CONFLICT, SendError GROUP_FAILED
   */
  async create(groupId: string, total: number, callback: PreparedTask | undefined): Promise<'created' | 'exists'> {
    const nowMs = this.now();
    const expiresAt = N(Math.floor(nowMs / 1000) + DEFAULT_RECORD_TTL_SECONDS);
    const group: Record<string, AttributeValue> = {
      [PK]: S(groupItemKey(groupId)),
      groupId: S(groupId),
      total: N(total),
      succeeded: N(0),
      deadLettered: N(0),
      cancelled: N(0),
      done: N(0),
      createdAt: S(new Date(nowMs).toISOString()),
      [TABLE_SCHEMA.ttlAttribute]: expiresAt,
    };
    const items = [group];
    if (callback) {
      group.callbackType = S(callback.type);
      group.callbackTaskId = S(callback.taskId);
      group.callbackKey = S(callback.idempotencyKey);
      items.push({
        [PK]: S(groupCallbackItemKey(groupId)),
        type: S(callback.type),
        taskId: S(callback.taskId),
        body: S(callback.body),
        attributes: S(JSON.stringify(callback.attributes)),
        ...(callback.messageGroupId !== undefined ? { messageGroupId: S(callback.messageGroupId) } : {}),
        ...(callback.deduplicationId !== undefined ? { deduplicationId: S(callback.deduplicationId) } : {}),
        [TABLE_SCHEMA.ttlAttribute]: expiresAt,
      });
    }
    const client = await this.dynamo();
    try {
      await client.send(
        new TransactWriteItemsCommand({
          TransactItems: items.map((Item) => ({
            Put: {
              TableName: this.tableName,
              Item,
              ConditionExpression: 'attribute_not_exists(#pk)',
              ExpressionAttributeNames: { '#pk': PK },
              ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
            },
          })),
        }),
      );
      return 'created';
    } catch (error) {
      const existing = existingGroup(error);
      if (!existing) {
        const awsCode = awsErrorCode(error);
        throw new SendError('GROUP_FAILED', `writing group ${groupId} failed${awsCode ? ` (${awsCode})` : ''}: ${error instanceof Error ? error.message : String(error)}; no member was sent`, awsCode ? { awsCode } : {}, { cause: error });
      }
      const sameTotal = existing.total?.N === String(total);
      const sameCallback = existing.callbackType?.S === callback?.type;
      if (!sameTotal || !sameCallback) {
        throw new TaskValidationError(
          'GROUP_CONFLICT',
          `group ${groupId} exists with ${existing.total?.N ?? '?'} members and callback ${existing.callbackType?.S ?? 'none'}; this call has ${total} and ${callback?.type ?? 'none'} (a group id names one group: choose another)`,
        );
      }
      return 'exists';
    }
  }

  /** The group's counts and state, or undefined when there is no such group (or it expired). */
  async status(groupId: string, consistentRead = false): Promise<GroupStatusView | undefined> {
    const client = await this.dynamo();
    let item: Record<string, AttributeValue> | undefined;
    try {
      item = (await client.send(new GetItemCommand({ TableName: this.tableName, Key: { [PK]: S(groupItemKey(groupId)) }, ConsistentRead: consistentRead }))).Item;
    } catch (error) {
      const awsCode = awsErrorCode(error);
      throw new SendError('GROUP_FAILED', `reading group ${groupId} failed${awsCode ? ` (${awsCode})` : ''}`, awsCode ? { awsCode } : {}, { cause: error });
    }
    return item === undefined ? undefined : groupStatusFromItem(item);
  }
}

/** Reads a group item (low-level attribute values) into a GroupStatusView. */
export function groupStatusFromItem(item: Record<string, AttributeValue>): GroupStatusView {
  const n = (name: string) => Number(item[name]?.N ?? 0);
  const total = n('total');
  const done = n('done');
  const callbackType = item.callbackType?.S;
  const callbackTaskId = item.callbackTaskId?.S;
  const callbackKey = item.callbackKey?.S;
  return {
    groupId: item.groupId?.S ?? '',
    status: done >= total ? 'COMPLETE' : 'OPEN',
    total,
    succeeded: n('succeeded'),
    deadLettered: n('deadLettered'),
    cancelled: n('cancelled'),
    pending: Math.max(0, total - done),
    createdAt: item.createdAt?.S ?? '',
    ...(callbackType !== undefined && callbackTaskId !== undefined && callbackKey !== undefined ? { callback: { type: callbackType, taskId: callbackTaskId, idempotencyKey: callbackKey } } : {}),
    ...(item.callbackSentAt?.S !== undefined ? { callbackSentAt: item.callbackSentAt.S } : {}),
  };
}

/** The group item a conditional failure returned: the group exists already. */
function existingGroup(error: unknown): Record<string, AttributeValue> | undefined {
  const e = error as TransactionCanceledException;
  if (!(error instanceof TransactionCanceledException) && e?.name !== 'TransactionCanceledException') return undefined;
  const reasons = e.CancellationReasons ?? [];
  if (!reasons.some((r) => r.Code === 'ConditionalCheckFailed')) return undefined;
  if (reasons.some((r) => r.Code !== 'ConditionalCheckFailed' && r.Code !== 'None')) return undefined;
  // The first item is the group's; a callback item alone existing means the same group (written together).
  return reasons[0]?.Item ?? { total: { N: '-1' } };
}
