/**
 * Real AWS SDK v3 clients pointed at the test run's emulators, and helpers that create
 * uniquely named resources so test files can share one set of emulators.
 */
import { randomUUID } from 'node:crypto';
import { inject } from 'vitest';
import { SQSClient, CreateQueueCommand, GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { DynamoDBClient, CreateTableCommand } from '@aws-sdk/client-dynamodb';
import { S3Client, CreateBucketCommand } from '@aws-sdk/client-s3';
import { LOCAL_CREDENTIALS } from '../../lib/local/emulators.ts';
import { TABLE_SCHEMA } from '../../lib/protocol/resources.ts';
import { enforceIam } from './iam/enforcement.ts';
import { registerResources } from './iam/resource-roles.ts';

export function emulatorEndpoints() {
  return inject('emulators');
}

/**
 * Clients on the emulators. Calls made with them inside `asPrincipal` (test/support/iam/)
 * are evaluated against the synthesized stack's policies; the others are the test's set-up.
 */
export function testClients() {
  const e = emulatorEndpoints();
  const common = { region: e.region, credentials: LOCAL_CREDENTIALS };
  return {
    sqs: enforceIam(new SQSClient({ ...common, endpoint: e.sqsEndpoint })),
    s3: enforceIam(new S3Client({ ...common, endpoint: e.s3Endpoint, forcePathStyle: true })),
    dynamo: enforceIam(new DynamoDBClient({ ...common, endpoint: e.dynamoEndpoint })),
  };
}

export function uniqueName(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

export interface TestResources {
  queueUrl: string;
  queueArn: string;
  deadLetterQueueUrl: string;
  deadLetterQueueArn: string;
  tableName: string;
  bucketName: string;
}

/** Creates a source queue with a redrive policy to its DLQ, a task table and a bucket, registered by role for the IAM enforcement. */
export async function createTestResources(
  clients = testClients(),
  options: { fifo?: boolean; visibilityTimeout?: number; maxReceiveCount?: number } = {},
): Promise<TestResources> {
  const base = uniqueName('taskq');
  const suffix = options.fifo ? '.fifo' : '';
  const fifoAttributes: Record<string, string> = options.fifo ? { FifoQueue: 'true' } : {};
  const dlq = await clients.sqs.send(
    new CreateQueueCommand({ QueueName: `${base}-dlq${suffix}`, Attributes: { ...fifoAttributes, MessageRetentionPeriod: '1209600' } }),
  );
  const deadLetterQueueArn = await queueArn(clients.sqs, dlq.QueueUrl!);
  const queue = await clients.sqs.send(
    new CreateQueueCommand({
      QueueName: `${base}${suffix}`,
      Attributes: {
        ...fifoAttributes,
        VisibilityTimeout: String(options.visibilityTimeout ?? 30),
        RedrivePolicy: JSON.stringify({ deadLetterTargetArn: deadLetterQueueArn, maxReceiveCount: options.maxReceiveCount ?? 5 }),
      },
    }),
  );
  const tableName = `${base}-tasks`;
  await clients.dynamo.send(
    new CreateTableCommand({
      TableName: tableName,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [{ AttributeName: TABLE_SCHEMA.partitionKey, AttributeType: 'S' }],
      KeySchema: [{ AttributeName: TABLE_SCHEMA.partitionKey, KeyType: 'HASH' }],
    }),
  );
  const bucketName = `${base}-claims`;
  await clients.s3.send(new CreateBucketCommand({ Bucket: bucketName }));
  const resources = {
    queueUrl: queue.QueueUrl!,
    queueArn: await queueArn(clients.sqs, queue.QueueUrl!),
    deadLetterQueueUrl: dlq.QueueUrl!,
    deadLetterQueueArn,
    tableName,
    bucketName,
  };
  registerResources(resources);
  return resources;
}

async function queueArn(sqs: SQSClient, queueUrl: string): Promise<string> {
  const attributes = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }));
  return attributes.Attributes!.QueueArn!;
}
