/**
 * `taskq status <taskId>`: the task's status from the task table, read exactly as the
 * producer SDK's getTaskStatus reads it (one GetItem keyed by the idempotency key).
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { S3Client } from '@aws-sdk/client-s3';
import { ResultWaiter } from '../client/task-result.ts';
import { TaskStatusReader } from '../client/task-status.ts';
import type { TaskStatusView } from '../protocol/task-record.ts';
import { OpsError } from './errors.ts';
import { fromProducerError } from './producer-errors.ts';

export interface StatusInput {
  readonly dynamo: () => Promise<DynamoDBClient>;
  readonly tableName: string;
  readonly taskId: string;
  readonly idempotencyKey?: string;
  /** Reads a result stored in S3 (resultRef) so that status shows it. */
  readonly s3?: () => Promise<S3Client>;
}

export interface StatusResult extends TaskStatusView {
  /** Always true: without a record, taskStatus() throws TASK_NOT_FOUND. */
  readonly recordFound: boolean;
}

/** What "no record" can mean, said once for the CLI and its tests. */
export function noRecordMessage(taskId: string, tableName: string, idempotencyKey?: string): string {
  const key = idempotencyKey !== undefined && idempotencyKey !== taskId ? ` (idempotency key ${idempotencyKey})` : '';
  return (
    `no record of task ${taskId}${key} in table ${tableName}: it has not started yet (accepted, still on the queue or delayed), ` +
    'or there is no such task (an unknown id, a task sent with another --idempotency-key, or a record past its TTL)'
  );
}

export async function taskStatus(input: StatusInput): Promise<StatusResult> {
  const reader = new TaskStatusReader(input.dynamo, input.tableName);
  let view: TaskStatusView;
  try {
    view = await reader.get(input.taskId, { ...(input.idempotencyKey !== undefined ? { idempotencyKey: input.idempotencyKey } : {}), consistentRead: true });
  } catch (error) {
    throw fromProducerError(error, { resource: `table ${input.tableName}` });
  }
  // The SDK reports a missing record as PENDING (a producer polls a task it just sent); an
  // operator asking about one id must learn that nothing is known about it.
  if (view.status === 'PENDING') throw new OpsError('TASK_NOT_FOUND', noRecordMessage(input.taskId, input.tableName, input.idempotencyKey));
  if (view.resultRef && input.s3) {
    try {
      view = { ...view, result: await new ResultWaiter(reader, input.s3).result(view) };
    } catch (error) {
      // The status stands; the reference says where the result is.
      view = { ...view, resultError: (error as Error).message } as TaskStatusView;
    }
  }
  return { ...view, recordFound: true };
}
