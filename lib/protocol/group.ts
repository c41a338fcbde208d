/**
 * Task groups (batches with a callback), as producer and consumer agree on them:
 * `producer.sendGroup(tasks, { onComplete })` writes a group item and the callback's prepared
 * message, then sends the members, each carrying the group id (envelope field `group`). Each
 * consumer that takes a member to a final state counts it once — a member marker and the
 * group's counters in one DynamoDB transaction — and the one that counts the last member sends
 * the callback task (envelope field `groupResult`, idempotency key `group:<id>:callback`).
 *
 * Items live in the task table under keys that start with U+001F, like the dedupe and flow
 * items: no idempotency key may contain a control character, so they never collide with a
 * task's record.
 */

/** The most members one group may have (one sendGroup call). */
export const MAX_GROUP_MEMBERS = 10_000;

/** The group item: counters and state. */
export function groupItemKey(groupId: string): string {
  return `\u001fgroup:${groupId}`;
}

/** The callback item: the prepared callback message, read once when the group completes. */
export function groupCallbackItemKey(groupId: string): string {
  return `\u001fgroup:${groupId}:callback`;
}

/** A member's marker: its existence means the member was counted (once, whatever the copies). */
export function groupMemberItemKey(groupId: string, memberKey: string): string {
  return `\u001fgroup:${groupId}:member:${memberKey}`;
}

/** The task id sendGroup gives a member sent without a taskId of its own: its position in the call. */
export function groupMemberTaskId(groupId: string, index: number): string {
  return `${groupId}.${index}`;
}

/** The callback task's id. */
export function groupCallbackTaskId(groupId: string): string {
  return `${groupId}.callback`;
}

/** The callback task's idempotency key: however many consumers see the last member, it runs once. */
export function groupCallbackIdempotencyKey(groupId: string): string {
  return `group:${groupId}:callback`;
}

/** The group and index a task id has when shaped by groupMemberTaskId (the shape only: a task may have chosen such an id). */
export function parseGroupMemberTaskId(taskId: string): { groupId: string; index: number } | undefined {
  const m = /^(.+)\.(0|[1-9]\d*)$/.exec(taskId);
  return m ? { groupId: m[1]!, index: Number(m[2]) } : undefined;
}

/** The group id a key has when shaped by groupCallbackIdempotencyKey (the shape only). */
export function parseGroupCallbackIdempotencyKey(key: string): string | undefined {
  return /^group:(.+):callback$/.exec(key)?.[1];
}

/** The final states a member is counted in. */
export type GroupMemberOutcome = 'succeeded' | 'deadLettered' | 'cancelled';

/** The counts the callback task receives (envelope `groupResult`, handler `ctx.groupResult`). */
export interface GroupResult {
  readonly groupId: string;
  readonly total: number;
  readonly succeeded: number;
  readonly deadLettered: number;
  readonly cancelled: number;
}

/** What getGroupStatus and `taskq group` return. */
export interface GroupStatusView {
  readonly groupId: string;
  /** OPEN until every member reached a final state; COMPLETE after (the callback is then sent). */
  readonly status: 'OPEN' | 'COMPLETE';
  readonly total: number;
  readonly succeeded: number;
  readonly deadLettered: number;
  readonly cancelled: number;
  /** Members not yet in a final state. */
  readonly pending: number;
  readonly createdAt: string;
  /** The callback task's type and id, when the group has one. */
  readonly callback?: { readonly type: string; readonly taskId: string; readonly idempotencyKey: string };
  /** ISO-8601: when a consumer sent the callback task. */
  readonly callbackSentAt?: string;
}

export function isGroupResult(value: unknown): value is GroupResult {
  if (typeof value !== 'object' || value === null) return false;
  const g = value as Record<string, unknown>;
  const count = (n: unknown) => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
  return typeof g.groupId === 'string' && count(g.total) && count(g.succeeded) && count(g.deadLettered) && count(g.cancelled);
}
