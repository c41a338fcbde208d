/**
 * Which group a task on the console's task page belongs to, so the page links to it.
 *
 * The task record does not name its group (the envelope's `group` field and ctx.groupId live
 * only in the message), so the link comes from the ids sendGroup gives: a member is
 * `<groupId>.<index>` and the callback's idempotency key `group:<groupId>:callback`. A shape
 * alone proves nothing (`v1.2` is a fine task id of its own), so the candidate is confirmed
 * against the group item: the group exists, and the index is below its member count or the
 * key is its callback's. When the task's message is at hand — a dead-lettered task's DLQ
 * message — its envelope's `group` names the group, whatever the member's id. A member sent
 * with its own taskId and not in the DLQ gets no link.
 */
import { decodeEnvelope } from '../../protocol/envelope.ts';
import { MAX_GROUP_ID_LENGTH } from '../../client/task-group.ts';
import { TASK_ID_PATTERN } from '../../protocol/limits.ts';
import { MAX_GROUP_MEMBERS, parseGroupCallbackIdempotencyKey, parseGroupMemberTaskId, type GroupStatusView } from '../../protocol/group.ts';

export interface TaskGroupLink {
  readonly groupId: string;
  readonly role: 'member' | 'callback';
  /** A member's position in its group, when its id says it (`<groupId>.<index>`). */
  readonly index?: number;
}

function isGroupId(id: string): boolean {
  return TASK_ID_PATTERN.test(id) && id.length <= MAX_GROUP_ID_LENGTH;
}

/** The group a task would belong to by its id or key, before it is confirmed; undefined for neither shape. */
export function groupLinkCandidate(task: { readonly taskId: string; readonly idempotencyKey: string }): TaskGroupLink | undefined {
  const callbackOf = parseGroupCallbackIdempotencyKey(task.idempotencyKey);
  if (callbackOf !== undefined && isGroupId(callbackOf)) return { groupId: callbackOf, role: 'callback' };
  const member = parseGroupMemberTaskId(task.taskId);
  if (member && isGroupId(member.groupId) && member.index < MAX_GROUP_MEMBERS) return { groupId: member.groupId, role: 'member', index: member.index };
  return undefined;
}

/** The group a message's envelope names (field `group`, a sendGroup member's), when its body is a valid envelope. */
export function envelopeGroupOf(body: string | undefined): string | undefined {
  if (body === undefined) return undefined;
  try {
    return decodeEnvelope(body).group;
  } catch {
    return undefined;
  }
}

/**
 * The candidate for a task: by its id's shape, or — when its message's envelope names a group —
 * that group (with the index, when the id also says it).
 */
export function groupLinkFor(task: { readonly taskId: string; readonly idempotencyKey: string }, envelopeGroup?: string): TaskGroupLink | undefined {
  const shaped = groupLinkCandidate(task);
  if (envelopeGroup === undefined) return shaped;
  return { groupId: envelopeGroup, role: 'member', ...(shaped?.groupId === envelopeGroup && shaped.index !== undefined ? { index: shaped.index } : {}) };
}

/**
 * Whether the group item confirms the candidate: it exists, and has that member (an index below
 * its count; a member named by its envelope needs no index) or that callback.
 */
export function confirmsGroupLink(candidate: TaskGroupLink, group: GroupStatusView | undefined, idempotencyKey: string): boolean {
  if (!group || group.groupId !== candidate.groupId) return false;
  if (candidate.role === 'callback') return group.callback?.idempotencyKey === idempotencyKey;
  return candidate.index === undefined || candidate.index < group.total;
}
