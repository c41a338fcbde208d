/**
 * Status lookup: one GetItem on the task table, keyed by the task's idempotency key (the task
 * id unless the task was sent with its own key). No item means PENDING: accepted but not
 * started yet — or unknown, or its record expired (see lib/protocol/task-record.ts).
 */
import type { AttributeValue, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DEAD_LETTER_REASONS, TaskQueueError, TaskValidationError, type DeadLetterReason } from '../protocol/errors.ts';
import { IDEMPOTENCY_KEY_RULE, isValidIdempotencyKey, isValidTaskId } from '../protocol/envelope.ts';
import { TABLE_SCHEMA } from '../protocol/resources.ts';
import type { ResultRef, TaskStatus, TaskStatusView } from '../protocol/task-record.ts';
import { awsErrorCode } from './aws-errors.ts';

export interface GetTaskStatusOptions {
  /** The idempotency key the task was sent with, when it was not the task id. */
  readonly idempotencyKey?: string;
  /** Strongly consistent read (twice the read cost). @default false */
  readonly consistentRead?: boolean;
}

const STATUSES: ReadonlySet<string> = new Set<TaskStatus>(['IN_PROGRESS', 'RETRYING', 'SUCCEEDED', 'DEAD_LETTERED', 'CANCELLED']);
const REASONS: ReadonlySet<string> = new Set(DEAD_LETTER_REASONS);

function str(item: Record<string, AttributeValue>, name: string): string | undefined {
  return item[name]?.S;
}

function num(item: Record<string, AttributeValue>, name: string): number | undefined {
  const n = item[name]?.N;
  return n === undefined ? undefined : Number(n);
}

/**
 * Reads a task table item (low-level attribute values) into a TaskStatusView. Unknown or
 * missing fields are left out rather than guessed; `result` is parsed from its JSON string
 * (kept as the raw string if it is not JSON).
 */
export function taskStatusFromItem(taskId: string, idempotencyKey: string, item: Record<string, AttributeValue> | undefined): TaskStatusView {
  if (item === undefined) return { taskId, idempotencyKey, status: 'PENDING', attempts: 0 };
  const status = str(item, 'status');
  const view: { -readonly [K in keyof TaskStatusView]: TaskStatusView[K] } = {
    // The record names the task that holds the key: another id means this one was a duplicate of it.
    taskId: str(item, 'taskId') ?? taskId,
    idempotencyKey: str(item, TABLE_SCHEMA.partitionKey) ?? idempotencyKey,
    status: status !== undefined && STATUSES.has(status) ? (status as TaskStatus) : 'PENDING',
    attempts: num(item, 'attempts') ?? 0,
  };
  const type = str(item, 'type');
  if (type !== undefined) view.type = type;
  for (const name of ['createdAt', 'updatedAt', 'nextAttemptAt', 'lastError', 'cancelledAt'] as const) {
    const value = str(item, name);
    if (value !== undefined) view[name] = value;
  }
  const result = item.result;
  if (result?.S !== undefined) {
    try {
      view.result = JSON.parse(result.S);
    } catch {
      view.result = result.S;
    }
  }
  const ref = parseResultRef(item.resultRef?.S);
  if (ref) view.resultRef = ref;
  if (item.resultTruncated?.BOOL === true) view.resultTruncated = true;
  const reason = str(item, 'deadLetterReason');
  if (reason !== undefined && REASONS.has(reason)) view.deadLetterReason = reason as DeadLetterReason;
  return view;
}

export class TaskStatusReader {
  constructor(
    private readonly dynamo: () => Promise<DynamoDBClient>,
    private readonly tableName: string | undefined,
  ) {}

  async get(taskId: string, options: GetTaskStatusOptions = {}): Promise<TaskStatusView> {
    if (!isValidTaskId(taskId)) throw new TaskValidationError('INVALID_TASK_ID', `taskId must be a valid task id (got ${JSON.stringify(taskId) ?? String(taskId)})`);
    if (options.idempotencyKey !== undefined && !isValidIdempotencyKey(options.idempotencyKey)) {
      throw new TaskValidationError('INVALID_IDEMPOTENCY_KEY', `idempotencyKey must be ${IDEMPOTENCY_KEY_RULE}`);
    }
    if (this.tableName === undefined) throw new TaskValidationError('CONFIGURATION', 'TaskProducer: getTaskStatus needs tableName');
    const key = options.idempotencyKey ?? taskId;
    let item: Record<string, AttributeValue> | undefined;
    try {
      const [client, { GetItemCommand }] = await Promise.all([this.dynamo(), import('@aws-sdk/client-dynamodb')]);
      const out = await client.send(
        new GetItemCommand({
          TableName: this.tableName,
          Key: { [TABLE_SCHEMA.partitionKey]: { S: key } },
          ConsistentRead: options.consistentRead ?? false,
        }),
      );
      item = out.Item;
    } catch (error) {
      const awsCode = awsErrorCode(error);
      throw new TaskQueueError('STATUS_FAILED', `reading the status of task ${taskId} failed${awsCode ? ` (${awsCode})` : ''}: ${(error as Error)?.message ?? String(error)}`, {
        cause: error,
      });
    }
    return taskStatusFromItem(taskId, key, item);
  }
}

function parseResultRef(text: string | undefined): ResultRef | undefined {
  if (text === undefined) return undefined;
  try {
    const ref = JSON.parse(text) as Partial<ResultRef>;
    if (typeof ref.bucket === 'string' && typeof ref.key === 'string' && typeof ref.size === 'number') return { bucket: ref.bucket, key: ref.key, size: ref.size };
  } catch {
    // not a reference this version wrote: left out
  }
  return undefined;
}
