/**
 * `taskq cancel <taskId>`: the producer SDK's cancel (one conditional UpdateItem on the task
 * table). A finished task is refused (REFUSED, exit 1) with its status.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { TaskCanceller, type CancelResult } from '../client/task-cancel.ts';
import { TaskOutcomeError } from '../protocol/errors.ts';
import { OpsError } from './errors.ts';
import { fromProducerError } from './producer-errors.ts';

export interface CancelInput {
  readonly dynamo: () => Promise<DynamoDBClient>;
  readonly tableName: string;
  readonly taskId: string;
  readonly idempotencyKey?: string;
}

export async function cancelTask(input: CancelInput): Promise<CancelResult> {
  try {
    return await new TaskCanceller(input.dynamo, input.tableName).cancel(input.taskId, input.idempotencyKey !== undefined ? { idempotencyKey: input.idempotencyKey } : {});
  } catch (error) {
    if (error instanceof TaskOutcomeError && error.code === 'TASK_FINISHED') throw new OpsError('REFUSED', error.message, { cause: error });
    throw fromProducerError(error, { resource: `table ${input.tableName}` });
  }
}
