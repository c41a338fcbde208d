/**
 * The console's task look-up: by task id or by idempotency key (the table's partition key),
 * one consistent GetItem, read into the same view as `taskq status`. The payload is never
 * in the table, so it is never part of this answer.
 */
import { GetItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { taskStatusFromItem } from '../../client/task-status.ts';
import { isValidIdempotencyKey } from '../../protocol/envelope.ts';
import { TABLE_SCHEMA } from '../../protocol/resources.ts';
import type { TaskStatusView } from '../../protocol/task-record.ts';
import { OpsError, toOpsError } from '../errors.ts';
import { noRecordMessage } from '../status.ts';

export interface TaskQuery {
  readonly taskId?: string;
  readonly idempotencyKey?: string;
}

export async function lookUpTask(dynamo: DynamoDBClient, tableName: string, query: TaskQuery): Promise<TaskStatusView> {
  const key = query.idempotencyKey ?? query.taskId;
  if (key === undefined || key === '') throw new OpsError('USAGE', 'give a task id or an idempotency key');
  if (!isValidIdempotencyKey(key)) throw new OpsError('USAGE', 'a task id or idempotency key is 1–256 characters without control characters');
  let item;
  try {
    item = (await dynamo.send(new GetItemCommand({ TableName: tableName, Key: { [TABLE_SCHEMA.partitionKey]: { S: key } }, ConsistentRead: true }))).Item;
  } catch (error) {
    throw toOpsError(error, { resource: `table ${tableName}` });
  }
  if (!item) throw new OpsError('TASK_NOT_FOUND', noRecordMessage(query.taskId ?? key, tableName, query.idempotencyKey));
  return taskStatusFromItem(item.taskId?.S ?? query.taskId ?? key, key, item);
}
