import { randomUUID } from 'node:crypto';

/** A new task id: `tsk_` and 32 hex digits of a random UUID. */
export function newTaskId(): string {
  return `tsk_${randomUUID().replaceAll('-', '')}`;
}

/** A new group id (sendGroup): `grp_<32 hex>`. */
export function newGroupId(): string {
  return `grp_${randomUUID().replaceAll('-', '')}`;
}
