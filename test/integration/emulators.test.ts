import { describe, expect, it } from 'vitest';
import { SendMessageCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { PutItemCommand, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { PutObjectCommand, GetObjectCommand } from '@aws-sdk/client-s3';
import { createTestResources, testClients } from '../support/aws.ts';

describe('test emulators', () => {
  it('serve SQS, DynamoDB and S3 over the wire', async () => {
    const clients = testClients();
    const r = await createTestResources(clients);
    await clients.sqs.send(new SendMessageCommand({ QueueUrl: r.queueUrl, MessageBody: 'hello' }));
    const received = await clients.sqs.send(new ReceiveMessageCommand({ QueueUrl: r.queueUrl, WaitTimeSeconds: 1 }));
    expect(received.Messages?.[0]?.Body).toBe('hello');
    await clients.dynamo.send(new PutItemCommand({ TableName: r.tableName, Item: { pk: { S: 'k' }, v: { N: '1' } } }));
    const item = await clients.dynamo.send(new GetItemCommand({ TableName: r.tableName, Key: { pk: { S: 'k' } } }));
    expect(item.Item?.v?.N).toBe('1');
    await clients.s3.send(new PutObjectCommand({ Bucket: r.bucketName, Key: 'a/b', Body: 'xyz' }));
    const object = await clients.s3.send(new GetObjectCommand({ Bucket: r.bucketName, Key: 'a/b' }));
    expect(await object.Body!.transformToString()).toBe('xyz');
  });
});
