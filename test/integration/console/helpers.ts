/** Helpers of the console tests: a task table with the recent-tasks index, as the construct creates it. */
import { CreateTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { RECENT_TASKS_INDEX } from '../../../lib/protocol/resources.ts';
import { uniqueName } from '../../support/aws.ts';

export async function createTableWithRecentTasksIndex(dynamo: DynamoDBClient): Promise<string> {
  const TableName = uniqueName('recent-tasks');
  const i = RECENT_TASKS_INDEX;
  await dynamo.send(
    new CreateTableCommand({
      TableName,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: i.partitionKey, AttributeType: 'S' },
        { AttributeName: i.sortKey, AttributeType: 'S' },
      ],
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      GlobalSecondaryIndexes: [
        {
          IndexName: i.indexName,
          KeySchema: [
            { AttributeName: i.partitionKey, KeyType: 'HASH' },
            { AttributeName: i.sortKey, KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: [...i.projectedAttributes] },
        },
      ],
    }),
  );
  return TableName;
}
