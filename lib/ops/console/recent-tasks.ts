/**
 * Recent tasks for the console, from the task table's optional index (RECENT_TASKS_INDEX),
 * which the stack output RecentTasksIndexName announces: one Query per status, newest first,
 * merged. Without the index the console says how to add it; look-ups by id keep working.
 */
import { QueryCommand, type AttributeValue, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { RECENT_TASKS_INDEX } from '../../protocol/resources.ts';
import type { TaskStatus } from '../../protocol/task-record.ts';
import { toOpsError } from '../errors.ts';

export interface RecentTask {
  readonly idempotencyKey: string;
  readonly taskId: string;
  readonly type: string | null;
  readonly status: TaskStatus;
  readonly attempts: number | null;
  readonly createdAt: string | null;
  readonly updatedAt: string;
  readonly deadLetterReason: string | null;
}

export type RecentTasksResult = { readonly available: true; readonly tasks: RecentTask[] } | { readonly available: false; readonly note: string };

const LISTED_STATUSES: readonly TaskStatus[] = ['IN_PROGRESS', 'RETRYING', 'DEAD_LETTERED', 'SUCCEEDED'];

function isMissingIndex(error: unknown): boolean {
  const e = error as { name?: string; message?: string };
  return e?.name === 'ValidationException' && /index/i.test(e.message ?? '');
}

function toRecentTask(item: Record<string, AttributeValue>): RecentTask {
  const attempts = item.attempts?.N;
  return {
    idempotencyKey: item.pk?.S ?? '',
    taskId: item.taskId?.S ?? item.pk?.S ?? '',
    type: item.type?.S ?? null,
    status: (item.status?.S ?? 'PENDING') as TaskStatus,
    attempts: attempts === undefined ? null : Number(attempts),
    createdAt: item.createdAt?.S ?? null,
    updatedAt: item.updatedAt?.S ?? '',
    deadLetterReason: item.deadLetterReason?.S ?? null,
  };
}

export const RECENT_TASKS_UNAVAILABLE =
  'the stack has no recent-tasks index: set recentTasksIndex: true on the TaskQueue construct to list recent tasks here (look-ups by id or key work without it)';

export async function recentTasks(dynamo: DynamoDBClient, tableName: string, indexName: string, limit: number): Promise<RecentTasksResult> {
  const i = RECENT_TASKS_INDEX;
  try {
    const pages = await Promise.all(
      LISTED_STATUSES.map((status) =>
        dynamo.send(
          new QueryCommand({
            TableName: tableName,
            IndexName: indexName,
            KeyConditionExpression: '#s = :s',
            ExpressionAttributeNames: { '#s': i.partitionKey },
            ExpressionAttributeValues: { ':s': { S: status } },
            ScanIndexForward: false,
            Limit: limit,
          }),
        ),
      ),
    );
    const tasks = pages
      .flatMap((page) => (page.Items ?? []).map(toRecentTask))
      .sort((a, b) => b.updatedAt.localeCompare(a.updatedAt))
      .slice(0, limit);
    return { available: true, tasks };
  } catch (error) {
    if (isMissingIndex(error)) {
      return { available: false, note: `the task table has no index ${indexName}: ${RECENT_TASKS_UNAVAILABLE}` };
    }
    throw toOpsError(error, { resource: `table ${tableName}` });
  }
}
