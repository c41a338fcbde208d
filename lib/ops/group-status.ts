/**
 * `taskq group <groupId>`: a group's counts and state from the task table, read exactly as the
 * producer SDK's getGroupStatus reads them (one consistent GetItem of the group item).
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GroupStore } from '../client/task-group.ts';
import type { GroupStatusView } from '../protocol/group.ts';
import { OpsError } from './errors.ts';
import { fromProducerError } from './producer-errors.ts';

export interface GroupStatusInput {
  readonly dynamo: () => Promise<DynamoDBClient>;
  readonly tableName: string;
  readonly groupId: string;
}

export async function groupStatus(input: GroupStatusInput): Promise<GroupStatusView> {
  let view: GroupStatusView | undefined;
  try {
    view = await new GroupStore(input.dynamo, input.tableName, Date.now).status(input.groupId, true);
  } catch (error) {
    throw fromProducerError(error, { resource: `table ${input.tableName}` });
  }
  if (!view) {
    throw new OpsError('GROUP_NOT_FOUND', `no group ${input.groupId} in table ${input.tableName}: an unknown id, or a group past its TTL (30 days after it was sent)`);
  }
  return view;
}
