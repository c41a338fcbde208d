/**
 * cancel(): one conditional UpdateItem on the task's record, keyed by its idempotency key.
 *
 * - no record yet (accepted, not started): a CANCELLED record is created, so every copy the
 *   consumer receives later — duplicates and redrives included — is acknowledged unrun;
 * - RETRYING, or IN_PROGRESS (running): marked CANCELLED. A running handler sees ctx.signal
 *   abort at its next check (RuntimeOptions.cancelCheckIntervalMs) and may still finish;
 * - CANCELLED already: answered again (idempotent), `alreadyCancelled`;
 * - SUCCEEDED or DEAD_LETTERED: refused, TaskOutcomeError TASK_FINISHED (the condition fails,
 *   and ReturnValuesOnConditionCheckFailure says which state without a read).
 */
import type { AttributeValue, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { IDEMPOTENCY_KEY_RULE, isValidIdempotencyKey, isValidTaskId } from '../protocol/envelope.ts';
import { TaskOutcomeError, TaskValidationError } from '../protocol/errors.ts';
import { TABLE_SCHEMA } from '../protocol/resources.ts';
import { DEFAULT_RECORD_TTL_SECONDS } from '../protocol/task-record.ts';
import { awsErrorCode } from './aws-errors.ts';

export interface CancelOptions {
  /** The idempotency key the task was sent with, when it was not the task id. */
  readonly idempotencyKey?: string;
}

/** What cancel() resolves with: the task is CANCELLED in the table. */
export interface CancelResult {
  readonly taskId: string;
  readonly idempotencyKey: string;
  readonly status: 'CANCELLED';
  /**
   * The task was running (IN_PROGRESS) when it was cancelled: its handler's ctx.signal aborts
   * at the runtime's next check, and a handler that finishes anyway ends it SUCCEEDED.
   */
  readonly wasRunning: boolean;
  /** It had been cancelled before (the call changed nothing). */
  readonly alreadyCancelled: boolean;
}

const UPDATE =
  'SET #s = :cx, #id = if_not_exists(#id, :id), #ca = if_not_exists(#ca, :now), #u = :now, #x = if_not_exists(#x, :x), #a = if_not_exists(#a, :zero)';
const CONDITION = 'attribute_not_exists(#pk) OR (#s <> :ok AND #s <> :dead)';
const NAMES = {
  '#pk': TABLE_SCHEMA.partitionKey,
  '#s': 'status',
  '#id': 'taskId',
  '#ca': 'cancelledAt',
  '#u': 'updatedAt',
  '#x': TABLE_SCHEMA.ttlAttribute,
  '#a': 'attempts',
};

export class TaskCanceller {
  constructor(
    private readonly dynamo: () => Promise<DynamoDBClient>,
    private readonly tableName: string | undefined,
    private readonly now: () => number = Date.now,
  ) {}

  async cancel(taskId: string, options: CancelOptions = {}): Promise<CancelResult> {
    if (!isValidTaskId(taskId)) throw new TaskValidationError('INVALID_TASK_ID', `taskId must be a valid task id (got ${JSON.stringify(taskId) ?? String(taskId)})`);
    if (options.idempotencyKey !== undefined && !isValidIdempotencyKey(options.idempotencyKey)) {
      throw new TaskValidationError('INVALID_IDEMPOTENCY_KEY', `idempotencyKey must be ${IDEMPOTENCY_KEY_RULE}`);
    }
    if (this.tableName === undefined) throw new TaskValidationError('CONFIGURATION', 'TaskProducer: cancel needs tableName');
    const key = options.idempotencyKey ?? taskId;
    const now = this.now();
    const [client, { UpdateItemCommand, ConditionalCheckFailedException }] = await Promise.all([this.dynamo(), import('@aws-sdk/client-dynamodb')]);
    let old: Record<string, AttributeValue> | undefined;
    try {
      const out = await client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: { [TABLE_SCHEMA.partitionKey]: { S: key } },
          UpdateExpression: UPDATE,
          ConditionExpression: CONDITION,
          ExpressionAttributeNames: NAMES,
          ExpressionAttributeValues: {
            ':cx': { S: 'CANCELLED' },
            ':ok': { S: 'SUCCEEDED' },
            ':dead': { S: 'DEAD_LETTERED' },
            ':id': { S: taskId },
            ':now': { S: new Date(now).toISOString() },
            ':x': { N: String(Math.floor(now / 1000) + DEFAULT_RECORD_TTL_SECONDS) },
            ':zero': { N: '0' },
          },
          ReturnValues: 'ALL_OLD',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      old = out.Attributes;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException || (error as { name?: string })?.name === 'ConditionalCheckFailedException') {
        const status = (error as { Item?: Record<string, AttributeValue> }).Item?.status?.S ?? 'finished';
        throw new TaskOutcomeError('TASK_FINISHED', `task ${taskId} cannot be cancelled: it has already finished (${status})`, { taskId, status });
      }
      const awsCode = awsErrorCode(error);
      throw new TaskOutcomeError(
        'CANCEL_FAILED',
        `cancelling task ${taskId} failed${awsCode ? ` (${awsCode})` : ''}: ${(error as Error)?.message ?? String(error)}`,
        { taskId, ...(awsCode ? { awsCode } : {}) },
        { cause: error },
      );
    }
    const before = old?.status?.S;
    return {
      taskId,
      idempotencyKey: key,
      status: 'CANCELLED',
      wasRunning: before === 'IN_PROGRESS' && Number(old?.leaseUntil?.N ?? 0) > now,
      alreadyCancelled: before === 'CANCELLED',
    };
  }
}
