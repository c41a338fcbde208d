/**
 * The console's group page (`#/groups/<groupId>`): what `taskq group` shows — the group item,
 * read by lib/ops/group-status.ts — with its callback's status and one page of its members,
 * each read as the task page reads a task (task-lookup.ts: one consistent GetItem of its
 * record). No read of its own: a page costs one GetItem for the group, one for the callback
 * and one per member shown, all within the operator's dynamodb:GetItem on the table.
 *
 * Members are listed by the ids sendGroup gives them, `<groupId>.<index>`: the group item keeps
 * counts, not member ids, so a member sent with its own taskId or idempotencyKey has no record
 * under that id and shows as "no record" (as does a member no consumer has received yet).
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { forEachConcurrent } from '../../client/concurrency.ts';
import { checkGroupId } from '../../client/task-group.ts';
import { groupMemberTaskId, type GroupStatusView } from '../../protocol/group.ts';
import type { TaskStatus, TaskStatusView } from '../../protocol/task-record.ts';
import { OpsError, toOpsError } from '../errors.ts';
import { groupStatus } from '../group-status.ts';
import { fromProducerError } from '../producer-errors.ts';
import { lookUpTask, type TaskQuery } from './task-lookup.ts';

/** Members shown on one page unless the request asks for another count. */
export const DEFAULT_MEMBERS_PER_PAGE = 50;
/** The most members one request reads (one GetItem each). */
export const MAX_MEMBERS_PER_PAGE = 100;
/** Member records read at once. */
const MEMBER_READS_IN_FLIGHT = 10;

/** A member or the callback as its record says, or without a record (status null). */
export interface GroupTaskState {
  readonly taskId: string;
  readonly idempotencyKey: string;
  /** null: no record under this key (not received yet, or a member sent with its own id). */
  readonly status: TaskStatus | null;
  readonly type?: string;
  readonly attempts?: number;
  readonly updatedAt?: string;
  readonly deadLetterReason?: string;
}

export interface GroupMemberState extends GroupTaskState {
  /** The member's position in the sendGroup call (its id is `<groupId>.<index>`). */
  readonly index: number;
}

export interface GroupPageView {
  readonly group: GroupStatusView;
  /** The callback task's record, when the group has a callback. */
  readonly callback: GroupTaskState | null;
  readonly members: {
    readonly offset: number;
    readonly limit: number;
    readonly items: readonly GroupMemberState[];
  };
}

export interface GroupPageQuery {
  readonly groupId: string;
  /** The first member index shown. @default 0 */
  readonly offset?: number;
  /** Members shown (1–MAX_MEMBERS_PER_PAGE). @default DEFAULT_MEMBERS_PER_PAGE */
  readonly limit?: number;
}

/** Checks the id and the page first: a bad one is a USAGE error (400), before any read. */
export function checkGroupPageQuery(query: GroupPageQuery): { groupId: string; offset: number; limit: number } {
  try {
    checkGroupId(query.groupId);
  } catch (error) {
    throw fromProducerError(error);
  }
  const offset = query.offset ?? 0;
  const limit = query.limit ?? DEFAULT_MEMBERS_PER_PAGE;
  if (!Number.isSafeInteger(offset) || offset < 0) throw new OpsError('USAGE', 'offset must be an integer ≥ 0');
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_MEMBERS_PER_PAGE) throw new OpsError('USAGE', `limit must be an integer 1–${MAX_MEMBERS_PER_PAGE}`);
  return { groupId: query.groupId, offset, limit };
}

export async function readGroupPage(dynamo: () => Promise<DynamoDBClient>, tableName: string, query: GroupPageQuery): Promise<GroupPageView> {
  const { groupId, offset, limit } = checkGroupPageQuery(query);
  const group = await groupStatus({ dynamo, tableName, groupId });
  const client = await dynamo();
  const callback = group.callback ? await readTaskState(client, tableName, { taskId: group.callback.taskId, idempotencyKey: group.callback.idempotencyKey }) : null;
  const indexes: number[] = [];
  for (let i = offset; i < Math.min(group.total, offset + limit); i++) indexes.push(i);
  const items = new Map<number, GroupMemberState>();
  let failure: unknown;
  await forEachConcurrent(indexes, MEMBER_READS_IN_FLIGHT, async (index) => {
    try {
      items.set(index, { index, ...(await readTaskState(client, tableName, { taskId: groupMemberTaskId(groupId, index) })) });
    } catch (error) {
      failure ??= error;
    }
  });
  // A read that failed (not a missing record) fails the page: a half-read member list would look like pending members.
  if (failure !== undefined) throw toOpsError(failure, { resource: `table ${tableName}` });
  return { group, callback, members: { offset, limit, items: indexes.map((i) => items.get(i)!) } };
}

async function readTaskState(dynamo: DynamoDBClient, tableName: string, query: TaskQuery & { taskId: string }): Promise<GroupTaskState> {
  const idempotencyKey = query.idempotencyKey ?? query.taskId;
  let view: TaskStatusView;
  try {
    view = await lookUpTask(dynamo, tableName, query);
  } catch (error) {
    if (error instanceof OpsError && error.code === 'TASK_NOT_FOUND') return { taskId: query.taskId, idempotencyKey, status: null };
    throw error;
  }
  return {
    taskId: view.taskId,
    idempotencyKey: view.idempotencyKey,
    status: view.status,
    ...(view.type !== undefined ? { type: view.type } : {}),
    attempts: view.attempts,
    ...(view.updatedAt !== undefined ? { updatedAt: view.updatedAt } : {}),
    ...(view.deadLetterReason !== undefined ? { deadLetterReason: view.deadLetterReason } : {}),
  };
}
