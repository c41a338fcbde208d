/**
 * `taskq status <taskId>`: the task's status from the task table, read exactly as the
 * producer SDK's getTaskStatus reads it (one GetItem keyed by the idempotency key).
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { TaskStatusReader } from '../client/task-status.ts';
import type { TaskStatusView } from '../protocol/task-record.ts';
import { fromProducerError } from './producer-errors.ts';

export interface StatusInput {
  readonly dynamo: () => Promise<DynamoDBClient>;
  readonly tableName: string;
  readonly taskId: string;
  readonly idempotencyKey?: string;
}

export interface StatusResult extends TaskStatusView {
  /** True when the table has no record: accepted but not started yet, an unknown id, or an expired record. */
  readonly recordFound: boolean;
}

export async function taskStatus(input: StatusInput): Promise<StatusResult> {
  const reader = new TaskStatusReader(input.dynamo, input.tableName);
  try {
    const view = await reader.get(input.taskId, { ...(input.idempotencyKey !== undefined ? { idempotencyKey: input.idempotencyKey } : {}), consistentRead: true });
    return { ...view, recordFound: view.status !== 'PENDING' };
  } catch (error) {
    throw fromProducerError(error, { resource: `table ${input.tableName}` });
  }
}
