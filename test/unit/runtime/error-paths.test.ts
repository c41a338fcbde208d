/** Error paths the emulators cannot produce, with aws-sdk-client-mock. */
import { beforeEach, describe, expect, it } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import {
  BatchExecuteStatementCommand,
  BatchGetItemCommand,
  BatchWriteItemCommand,
  DynamoDBClient,
  PutItemCommand,
  ProvisionedThroughputExceededException,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { ChangeMessageVisibilityBatchCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DeleteObjectsCommand, GetObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { encodeEnvelope, type TaskEnvelope } from '../../../lib/protocol/envelope.ts';
import { DEFAULT_MAX_PAYLOAD_BYTES } from '../../../lib/protocol/limits.ts';
import { defineTasks, type TaskDefinitions } from '../../../lib/runtime/index.ts';

const dynamo = new DynamoDBClient({ region: 'us-east-1' });
const sqs = new SQSClient({ region: 'us-east-1' });
const s3 = new S3Client({ region: 'us-east-1' });
const dynamoMock = mockClient(dynamo);
const sqsMock = mockClient(sqs);
const s3Mock = mockClient(s3);

const context = { getRemainingTimeInMillis: () => 60_000 } as Context;
let n = 0;

function task(type: string, extra: Partial<TaskEnvelope> = {}): TaskEnvelope {
  return { v: 1, id: `tsk_${++n}`, type, payload: { n }, createdAt: new Date().toISOString(), ...extra };
}

function record(e: TaskEnvelope | string, receiveCount = 1): SQSRecord {
  return {
    messageId: `m-${++n}`,
    receiptHandle: `rh-${n}`,
    body: typeof e === 'string' ? e : encodeEnvelope(e),
    attributes: { ApproximateReceiveCount: String(receiveCount), SentTimestamp: '0', SenderId: 'x', ApproximateFirstReceiveTimestamp: '0' },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:q',
    awsRegion: 'us-east-1',
  };
}

const logs: string[] = [];
function make(tasks: TaskDefinitions, options: { maxReceiveCount?: number; deleteClaimsAfterSuccess?: boolean } = {}) {
  return defineTasks(tasks, {
    ...options,
    clients: { dynamo, sqs, s3 },
    tableName: 'tasks',
    queueUrl: 'https://sqs.us-east-1.amazonaws.com/000000000000/q',
    deadLetterQueueUrl: 'https://sqs.us-east-1.amazonaws.com/000000000000/q-dlq',
    bucketName: 'claims-bucket',
    backoff: { baseSeconds: 10, capSeconds: 100, jitter: 'none' },
    logger: { debug: () => undefined, info: (m) => void logs.push(m), warn: (m) => void logs.push(m), error: (m) => void logs.push(m) },
    metrics: { flush: () => undefined },
  });
}

const throttled = () => new ProvisionedThroughputExceededException({ message: 'slow down', $metadata: {} });

beforeEach(() => {
  dynamoMock.reset();
  sqsMock.reset();
  s3Mock.reset();
  logs.length = 0;
  sqsMock.on(ChangeMessageVisibilityBatchCommand).resolves({ Successful: [], Failed: [] });
  sqsMock.on(SendMessageCommand).resolves({ MessageId: 'dlq-1' });
  dynamoMock.on(BatchWriteItemCommand).resolves({ UnprocessedItems: {} });
});

describe('runtime error paths (mocked AWS)', () => {
  it('throttling on acquire → the record is retried later, no attempt burned, handler not run', async () => {
    let ran = 0;
    dynamoMock.on(UpdateItemCommand).rejects(throttled());
    const handler = make({ t: { handler: () => void ran++ } });
    const r = record(task('t'), 2);
    const response = await handler({ Records: [r] }, context);
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: r.messageId }]);
    expect(ran).toBe(0);
    // No completion write either: nothing was acquired, so no attempt is recorded.
    expect(dynamoMock.commandCalls(BatchWriteItemCommand)).toHaveLength(0);
    // A return without an attempt backs off with the task's receives (here the second: 10 · 2¹).
    expect(sqsMock.commandCalls(ChangeMessageVisibilityBatchCommand)[0]!.args[0].input.Entries![0]!.VisibilityTimeout).toBe(20);
  });

  it('a throttled statement inside the batched INSERT → that record retried, the others run', async () => {
    let ran = 0;
    dynamoMock.on(BatchExecuteStatementCommand).resolves({
      Responses: [{ TableName: 'tasks' }, { Error: { Code: 'ProvisionedThroughputExceeded', Message: 'slow down' } }],
    });
    const handler = make({ t: { handler: () => void ran++ } });
    const a = record(task('t'));
    const b = record(task('t'));
    const response = await handler({ Records: [a, b] }, context);
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: b.messageId }]);
    expect(ran).toBe(1);
  });

  it('access denied on the table → records fail safely (never thrown out of the handler)', async () => {
    const denied = Object.assign(new Error('not authorized'), { name: 'AccessDeniedException' });
    dynamoMock.on(BatchExecuteStatementCommand).rejects(denied);
    const handler = make({ t: { handler: () => undefined } });
    const a = record(task('t'));
    const response = await handler({ Records: [a] }, context);
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: a.messageId }]);
  });

  it('DLQ send failure → the record is reported failed, never acknowledged', async () => {
    dynamoMock.on(BatchExecuteStatementCommand).resolves({ Responses: [{ TableName: 'tasks' }] });
    sqsMock.on(SendMessageCommand).rejects(Object.assign(new Error('dlq down'), { name: 'ServiceUnavailable' }));
    const handler = make({ t: { validate: () => false, handler: () => undefined } });
    const poison = record('not json at all');
    const invalid = record(task('t'));
    const response = await handler({ Records: [poison, invalid] }, context);
    expect(response.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual([poison.messageId, invalid.messageId].sort());
    // The leased task is not marked DEAD_LETTERED: its record says RETRYING (the handler path ran),
    // written conditionally (never over a cancel), not in the batch.
    expect(dynamoMock.commandCalls(BatchWriteItemCommand)).toHaveLength(0);
    const writes = dynamoMock.commandCalls(PutItemCommand).map((c) => c.args[0].input);
    expect(writes.map((w) => w.Item?.status?.S)).toEqual(['RETRYING']);
    expect(writes[0]!.ConditionExpression).toContain('<> :cx');
  });

  it('S3 errors other than a missing object are retryable (attempt counted, backoff)', async () => {
    dynamoMock.on(BatchExecuteStatementCommand).resolves({ Responses: [{ TableName: 'tasks' }] });
    s3Mock.on(GetObjectCommand).rejects(new S3ServiceException({ name: 'SlowDown', $fault: 'server', $metadata: { httpStatusCode: 503 }, message: 'slow' }));
    let ran = 0;
    const handler = make({ t: { handler: () => void ran++ } });
    const e = task('t', { payload: undefined, payloadRef: { bucket: 'claims-bucket', key: 'claims/x', size: 2, sha256: '0'.repeat(64) } });
    const r = record(e);
    const response = await handler({ Records: [r] }, context);
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: r.messageId }]);
    expect(ran).toBe(0);
    const put = dynamoMock.commandCalls(PutItemCommand)[0]!.args[0].input.Item!;
    expect(put.status?.S).toBe('RETRYING');
    expect(put.lastError?.S).toMatch(/SlowDown/);
    expect(sqsMock.commandCalls(SendMessageCommand)).toHaveLength(0);
  });

  it('S3 access denied → claim-unreadable and a 404 → claim-missing (both permanent); a 5xx stays retryable', async () => {
    dynamoMock.on(BatchExecuteStatementCommand).resolves({ Responses: [{ TableName: 'tasks' }, { TableName: 'tasks' }, { TableName: 'tasks' }] });
    s3Mock
      .on(GetObjectCommand, { Key: 'claims/denied' })
      .rejects(new S3ServiceException({ name: 'AccessDenied', $fault: 'client', $metadata: { httpStatusCode: 403 }, message: 'denied' }))
      .on(GetObjectCommand, { Key: 'claims/gone' })
      .rejects(new S3ServiceException({ name: 'NoSuchKey', $fault: 'client', $metadata: { httpStatusCode: 404 }, message: 'gone' }))
      .on(GetObjectCommand, { Key: 'claims/busy' })
      .rejects(new S3ServiceException({ name: 'SlowDown', $fault: 'server', $metadata: { httpStatusCode: 503 }, message: 'slow down' }));
    const handler = make({ t: { handler: () => undefined } });
    const ref = (key: string) => record(task('t', { payload: undefined, payloadRef: { bucket: 'claims-bucket', key, size: 2, sha256: '0'.repeat(64) } }));
    const [denied, gone, busy] = [ref('claims/denied'), ref('claims/gone'), ref('claims/busy')];
    const response = await handler({ Records: [denied, gone, busy] }, context);
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: busy.messageId }]);
    const dlq = sqsMock.commandCalls(SendMessageCommand).map((c) => c.args[0].input.MessageAttributes!['taskq.reason']!.StringValue);
    expect(dlq.sort()).toEqual(['claim-missing', 'claim-unreadable']);
  });

  it('an oversize claim object is refused unread (stream closed), and a pointer stating an oversize size is never fetched', async () => {
    dynamoMock.on(BatchExecuteStatementCommand).resolves({ Responses: [{ TableName: 'tasks' }, { TableName: 'tasks' }] });
    let destroyed = 0;
    let read = 0;
    const body = {
      destroy: () => void destroyed++,
      transformToByteArray: async () => (read++, new Uint8Array()),
      transformToString: async () => (read++, ''),
    };
    s3Mock.on(GetObjectCommand).resolves({ ContentLength: DEFAULT_MAX_PAYLOAD_BYTES + 1, Body: body as never });
    let ran = 0;
    const handler = make({ t: { handler: () => void ran++ } });
    const ref = (key: string, size: number) => record(task('t', { payload: undefined, payloadRef: { bucket: 'claims-bucket', key, size, sha256: '0'.repeat(64) } }));
    const big = ref('claims/big', 2);
    const stated = ref('claims/stated', DEFAULT_MAX_PAYLOAD_BYTES + 1);
    const response = await handler({ Records: [big, stated] }, context);
    expect(response.batchItemFailures).toEqual([]);
    expect(ran).toBe(0);
    expect(destroyed, 'the oversize body is closed').toBe(1);
    expect(read, 'and never read').toBe(0);
    expect(s3Mock.commandCalls(GetObjectCommand).map((c) => c.args[0].input.Key)).toEqual(['claims/big']);
    const dlq = sqsMock.commandCalls(SendMessageCommand).map((c) => c.args[0].input.MessageAttributes!['taskq.reason']!.StringValue);
    expect(dlq).toEqual(['claim-size-mismatch', 'claim-size-mismatch']);
  });

  it('BatchWriteItem UnprocessedItems are retried until written', async () => {
    const a = task('t');
    const b = task('t');
    dynamoMock.on(BatchExecuteStatementCommand).resolves({ Responses: [{ TableName: 'tasks' }, { TableName: 'tasks' }] });
    dynamoMock
      .on(BatchWriteItemCommand)
      .resolvesOnce({ UnprocessedItems: { tasks: [{ PutRequest: { Item: { pk: { S: b.id }, status: { S: 'SUCCEEDED' } } } }] } })
      .resolves({ UnprocessedItems: {} });
    const handler = make({ t: { handler: () => undefined } });
    const response = await handler({ Records: [record(a), record(b)] }, context);
    expect(response.batchItemFailures).toEqual([]);
    const calls = dynamoMock.commandCalls(BatchWriteItemCommand);
    expect(calls).toHaveLength(2);
    expect(calls[0]!.args[0].input.RequestItems!.tasks).toHaveLength(2);
    expect(calls[1]!.args[0].input.RequestItems!.tasks!.map((w) => w.PutRequest!.Item!.pk!.S)).toEqual([b.id]);
    expect(logs.some((l) => l.includes('write failed'))).toBe(false);
  });

  it('last receive: a failed re-send of the fresh copy → the record is reported failed (the redrive policy stays the safety net)', async () => {
    dynamoMock.on(UpdateItemCommand).rejects(throttled());
    sqsMock.on(SendMessageCommand).rejects(Object.assign(new Error('queue gone'), { name: 'QueueDoesNotExist' }));
    const handler = make({ t: { handler: () => undefined } }, { maxReceiveCount: 3 });
    const r = record(task('t'), 3);
    expect((await handler({ Records: [r] }, context)).batchItemFailures).toEqual([{ itemIdentifier: r.messageId }]);
    expect(sqsMock.commandCalls(SendMessageCommand)).toHaveLength(1);
    expect(sqsMock.commandCalls(SendMessageCommand)[0]!.args[0].input.QueueUrl).toBe('https://sqs.us-east-1.amazonaws.com/000000000000/q');
    expect(logs).toContain('re-send on the last receive failed; returned to the queue (the redrive policy may move it to the DLQ)');
    // The same record with receives to spare goes back by visibility, no re-send.
    sqsMock.resetHistory();
    const spare = record(task('t'), 2);
    expect((await handler({ Records: [spare] }, context)).batchItemFailures).toEqual([{ itemIdentifier: spare.messageId }]);
    expect(sqsMock.commandCalls(SendMessageCommand)).toHaveLength(0);
  });

  it('last receive: a successful re-send acknowledges the record; its delay is the intended one, at most 900 s', async () => {
    dynamoMock.on(UpdateItemCommand).rejects(throttled());
    const handler = make({ t: { handler: () => undefined } }, { maxReceiveCount: 3 });
    const r = { ...record(task('t'), 4), messageAttributes: { taskType: { dataType: 'String', stringValue: 't', stringListValues: [], binaryListValues: [] } } };
    expect((await handler({ Records: [r] }, context)).batchItemFailures).toEqual([]);
    const input = sqsMock.commandCalls(SendMessageCommand)[0]!.args[0].input;
    // The intended delay (fourth receive: 10 · 2³ s), and the receives so far travel with the copy.
    expect(input).toMatchObject({
      MessageBody: r.body,
      DelaySeconds: 80,
      MessageAttributes: { taskType: { DataType: 'String', StringValue: 't' }, 'taskq.receives': { DataType: 'Number', StringValue: '4' } },
    });
    expect(sqsMock.commandCalls(ChangeMessageVisibilityBatchCommand)).toHaveLength(0);
  });

  it('a throwing metrics sink or an empty event never throws out of the handler', async () => {
    const handler = defineTasks({ t: { handler: () => undefined } }, { clients: { dynamo }, tableName: 'tasks', metrics: { flush: () => { throw new Error('x'); } }, logger: { debug() {}, info() {}, warn() {}, error() {} } });
    expect(await handler({ Records: [] } as SQSEvent, context)).toEqual({ batchItemFailures: [] });
    expect(await handler({} as SQSEvent, context)).toEqual({ batchItemFailures: [] });
  });

  describe('deleting claim objects after success', () => {
    const text = JSON.stringify({ big: true });
    const bytes = new TextEncoder().encode(text);
    const claimed = (key: string, extra: Partial<TaskEnvelope> = {}) =>
      task('t', { payload: undefined, payloadRef: { bucket: 'claims-bucket', key, size: bytes.byteLength, sha256: createHash('sha256').update(bytes).digest('hex'), exclusive: true }, ...extra });
    const object = () => ({ ContentLength: bytes.byteLength, Body: { transformToByteArray: async () => bytes } }) as never;

    it('a failing DeleteObjects (thrown, or per-key errors) never fails the record; it is logged', async () => {
      dynamoMock.on(BatchExecuteStatementCommand).resolves({ Responses: [{ TableName: 'tasks' }, { TableName: 'tasks' }] });
      s3Mock.on(GetObjectCommand).resolves(object());
      s3Mock.on(DeleteObjectsCommand).rejectsOnce(new S3ServiceException({ name: 'AccessDenied', $fault: 'client', $metadata: { httpStatusCode: 403 }, message: 'denied' }));
      let ran = 0;
      const handler = make({ t: { handler: () => void ran++ } });
      const a = record(claimed('claims/a'));
      const b = record(claimed('claims/b'));
      expect((await handler({ Records: [a, b] }, context)).batchItemFailures).toEqual([]);
      expect(ran).toBe(2);
      const calls = s3Mock.commandCalls(DeleteObjectsCommand);
      expect(calls).toHaveLength(1); // one request for the batch
      expect(calls[0]!.args[0].input.Delete!.Objects!.map((o) => o.Key).sort()).toEqual(['claims/a', 'claims/b']);
      expect(logs.filter((m) => /not deleted after success/.test(m))).toHaveLength(2);
      expect(sqsMock.commandCalls(SendMessageCommand)).toHaveLength(0);

      logs.length = 0;
      s3Mock.on(DeleteObjectsCommand).resolves({ Errors: [{ Key: 'claims/c', Code: 'InternalError', Message: 'try later' }] });
      const c = record(claimed('claims/c'));
      dynamoMock.on(BatchExecuteStatementCommand).resolves({ Responses: [{ TableName: 'tasks' }] });
      expect((await handler({ Records: [c] }, context)).batchItemFailures).toEqual([]);
      expect(logs.filter((m) => /not deleted after success/.test(m))).toHaveLength(1);
    });

    it('never deletes before the completion write is acknowledged: a failed SUCCEEDED write keeps the object', async () => {
      dynamoMock.on(BatchExecuteStatementCommand).resolves({ Responses: [{ TableName: 'tasks' }] });
      dynamoMock.on(BatchWriteItemCommand).rejects(Object.assign(new Error('denied'), { name: 'AccessDeniedException' }));
      s3Mock.on(GetObjectCommand).resolves(object());
      s3Mock.on(DeleteObjectsCommand).resolves({});
      const handler = make({ t: { handler: () => undefined } });
      await handler({ Records: [record(claimed('claims/d'))] }, context);
      expect(s3Mock.commandCalls(DeleteObjectsCommand)).toHaveLength(0);

      dynamoMock.on(BatchWriteItemCommand).resolves({ UnprocessedItems: {} });
      await handler({ Records: [record(claimed('claims/e'))] }, context);
      expect(s3Mock.commandCalls(DeleteObjectsCommand)).toHaveLength(1); // the same path deletes once the write is acknowledged
    });

    it('record mode: a concurrent copy that finds the object gone and the record SUCCEEDED is acknowledged, not dead-lettered', async () => {
      const e = claimed('claims/r');
      const succeeded = { pk: { S: e.id }, type: { S: 't' }, status: { S: 'SUCCEEDED' }, attempts: { N: '1' } };
      dynamoMock
        .on(BatchGetItemCommand)
        .resolvesOnce({ Responses: { tasks: [] } })
        .resolves({ Responses: { tasks: [succeeded] } });
      s3Mock.on(GetObjectCommand).rejects(new S3ServiceException({ name: 'NoSuchKey', $fault: 'client', $metadata: { httpStatusCode: 404 }, message: 'gone' }));
      let ran = 0;
      const handler = make({ t: { handler: () => void ran++, idempotency: 'record' } });
      expect((await handler({ Records: [record(e)] }, context)).batchItemFailures).toEqual([]);
      expect(ran).toBe(0);
      expect(sqsMock.commandCalls(SendMessageCommand)).toHaveLength(0);
      expect(dynamoMock.commandCalls(BatchWriteItemCommand)).toHaveLength(0); // the SUCCEEDED record is left alone

      // Not SUCCEEDED on the second read: really missing → claim-missing.
      dynamoMock.on(BatchGetItemCommand).resolves({ Responses: { tasks: [] } });
      expect((await handler({ Records: [record(claimed('claims/r2'))] }, context)).batchItemFailures).toEqual([]);
      const dlq = sqsMock.commandCalls(SendMessageCommand).map((c) => c.args[0].input.MessageAttributes!['taskq.reason']!.StringValue);
      expect(dlq).toEqual(['claim-missing']);
    });
  });
});
