/**
 * Failure paths the emulators cannot produce, with aws-sdk-client-mock: partial batch
 * failures, throttling, access denied, a missing queue, S3 errors.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import { GetQueueAttributesCommand, QueueDoesNotExist, SQSClient, SendMessageBatchCommand, SendMessageCommand, type SendMessageBatchRequestEntry } from '@aws-sdk/client-sqs';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { TaskProducer, type TaskProducerConfig } from '../../../lib/client/index.ts';
import { SendError } from '../../../lib/protocol/errors.ts';

const credentials = { accessKeyId: 'x', secretAccessKey: 'x' };
const QUEUE = 'https://sqs.us-east-1.amazonaws.com/123456789012/tasks';

let sqs: SQSClient;
let s3: S3Client;
let sqsMock: ReturnType<typeof mockSqs>;
let s3Mock: ReturnType<typeof mockS3>;
const mockSqs = (client: SQSClient) => mockClient(client);
const mockS3 = (client: S3Client) => mockClient(client);

beforeEach(() => {
  sqs = new SQSClient({ region: 'us-east-1', credentials });
  s3 = new S3Client({ region: 'us-east-1', credentials });
  sqsMock = mockSqs(sqs);
  s3Mock = mockS3(s3);
});

afterEach(() => {
  sqsMock.restore();
  s3Mock.restore();
});

function producer(extra: Partial<TaskProducerConfig> = {}) {
  return new TaskProducer({ queueUrl: QUEUE, sqs, s3, bucketName: 'bkt', retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 2 }, ...extra });
}

function awsError(name: string, message: string, status = 400): Error {
  return Object.assign(new Error(message), { name, $fault: status >= 500 ? 'server' : 'client', $metadata: { httpStatusCode: status } });
}

const throttling = () => awsError('ThrottlingException', 'Rate exceeded');
const accessDenied = () => awsError('AccessDenied', 'not authorized to perform sqs:SendMessage', 403);

function batchEntries(call: number): SendMessageBatchRequestEntry[] {
  return (sqsMock.commandCalls(SendMessageBatchCommand)[call]!.args[0].input.Entries ?? []) as SendMessageBatchRequestEntry[];
}

function allSucceed(input: { Entries?: SendMessageBatchRequestEntry[] }) {
  return { Successful: (input.Entries ?? []).map((e) => ({ Id: e.Id!, MessageId: `m-${e.Id}`, MD5OfMessageBody: 'x' })), Failed: [] };
}

async function rejection(promise: Promise<unknown>): Promise<SendError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SendError);
  return error as SendError;
}

describe('partial SendMessageBatch failures', () => {
  it('retries an entry that failed with SenderFault=false, and it then succeeds', async () => {
    sqsMock
      .on(SendMessageBatchCommand)
      .resolvesOnce({
        Successful: [{ Id: '0', MessageId: 'm0', MD5OfMessageBody: 'x' }],
        Failed: [{ Id: '1', SenderFault: false, Code: 'InternalError', Message: 'try again' }],
      })
      .callsFake(allSucceed);
    const results = await producer().sendBatch([
      { type: 't', payload: 0 },
      { type: 't', payload: 1 },
    ]);
    expect(results.map((r) => r.ok)).toEqual([true, true]);
    expect(sqsMock.commandCalls(SendMessageBatchCommand)).toHaveLength(2);
    expect(batchEntries(1).map((e) => e.Id)).toEqual(['1']);
    expect(results[1]).toMatchObject({ ok: true, messageId: 'm-1' });
  });

  it('reports an entry that failed with SenderFault=true without retrying it', async () => {
    sqsMock.on(SendMessageBatchCommand).resolves({
      Successful: [{ Id: '0', MessageId: 'm0', MD5OfMessageBody: 'x' }],
      Failed: [{ Id: '1', SenderFault: true, Code: 'InvalidMessageContents', Message: 'bad characters' }],
    });
    const results = await producer().sendBatch([
      { type: 't', payload: 0 },
      { type: 't', payload: 1, taskId: 'second' },
    ]);
    expect(results[0]!.ok).toBe(true);
    expect(results[1]).toMatchObject({ ok: false, taskId: 'second' });
    const error = (results[1] as unknown as { error: SendError }).error;
    expect(error).toBeInstanceOf(SendError);
    expect(error.code).toBe('SEND_FAILED');
    expect(error.details).toMatchObject({ awsCode: 'InvalidMessageContents', senderFault: true, taskId: 'second' });
    expect(sqsMock.commandCalls(SendMessageBatchCommand)).toHaveLength(1);
  });

  it('reports an entry that keeps failing with SenderFault=false after the bounded retries', async () => {
    sqsMock.on(SendMessageBatchCommand).callsFake((input: { Entries: SendMessageBatchRequestEntry[] }) => ({
      Successful: [],
      Failed: input.Entries.map((e) => ({ Id: e.Id!, SenderFault: false, Code: 'ServiceUnavailable', Message: 'busy' })),
    }));
    const results = await producer().sendBatch([{ type: 't', payload: 0 }]);
    expect(results[0]).toMatchObject({ ok: false, error: { code: 'SEND_FAILED', details: { awsCode: 'ServiceUnavailable', senderFault: false } } });
    expect(sqsMock.commandCalls(SendMessageBatchCommand)).toHaveLength(3);
  });

  it('never takes an entry missing from the response for sent', async () => {
    sqsMock.on(SendMessageBatchCommand).resolvesOnce({ Successful: [{ Id: '0', MessageId: 'm0', MD5OfMessageBody: 'x' }], Failed: [] }).callsFake(allSucceed);
    const results = await producer().sendBatch([
      { type: 't', payload: 0 },
      { type: 't', payload: 1 },
    ]);
    expect(results.map((r) => r.ok)).toEqual([true, true]);
    expect(batchEntries(1).map((e) => e.Id)).toEqual(['1']);

    sqsMock.reset();
    sqsMock.on(SendMessageBatchCommand).resolves({ Successful: [], Failed: [] });
    const silent = await producer().sendBatch([{ type: 't', payload: 0 }]);
    expect(silent[0]).toMatchObject({ ok: false, error: { code: 'SEND_FAILED' } });
  });

  it('retries a whole request that failed transiently, then succeeds', async () => {
    sqsMock.on(SendMessageBatchCommand).rejectsOnce(throttling()).callsFake(allSucceed);
    const results = await producer().sendBatch([{ type: 't', payload: 0 }]);
    expect(results[0]!.ok).toBe(true);
    expect(sqsMock.commandCalls(SendMessageBatchCommand)).toHaveLength(2);
  });

  it('reports every entry of a request refused for good (access denied), once', async () => {
    sqsMock.on(SendMessageBatchCommand).rejects(accessDenied());
    const results = await producer().sendBatch([
      { type: 't', payload: 0 },
      { type: 't', payload: 1 },
    ]);
    for (const r of results) expect(r).toMatchObject({ ok: false, error: { code: 'SEND_FAILED', details: { awsCode: 'AccessDenied' } } });
    expect(sqsMock.commandCalls(SendMessageBatchCommand)).toHaveLength(1);
  });

  it('uses entry ids unique within each request', async () => {
    sqsMock.on(SendMessageBatchCommand).callsFake(allSucceed);
    await producer().sendBatch(Array.from({ length: 25 }, (_, i) => ({ type: 't', payload: i })));
    const calls = sqsMock.commandCalls(SendMessageBatchCommand);
    expect(calls).toHaveLength(3);
    for (let c = 0; c < calls.length; c++) {
      const ids = batchEntries(c).map((e) => e.Id);
      expect(new Set(ids).size).toBe(ids.length);
    }
  });
});

describe('SendMessage failures', () => {
  it('retries throttling, then maps it to SendError with the AWS code', async () => {
    sqsMock.on(SendMessageCommand).rejects(throttling());
    const error = await rejection(producer().send('t', {}, { taskId: 'tsk_x' }));
    expect(error.code).toBe('SEND_FAILED');
    expect(error.details).toMatchObject({ awsCode: 'ThrottlingException', taskId: 'tsk_x' });
    expect(sqsMock.commandCalls(SendMessageCommand)).toHaveLength(3);
  });

  it('succeeds when throttling stops within the retries', async () => {
    sqsMock.on(SendMessageCommand).rejectsOnce(throttling()).resolves({ MessageId: 'm1' });
    await expect(producer().send('t', {})).resolves.toMatchObject({ status: 'accepted', messageId: 'm1' });
    expect(sqsMock.commandCalls(SendMessageCommand)).toHaveLength(2);
  });

  it('does not retry access denied', async () => {
    sqsMock.on(SendMessageCommand).rejects(accessDenied());
    const error = await rejection(producer().send('t', {}));
    expect(error.details.awsCode).toBe('AccessDenied');
    expect(sqsMock.commandCalls(SendMessageCommand)).toHaveLength(1);
  });

  it('maps a nonexistent queue to SendError with its code', async () => {
    sqsMock.on(SendMessageCommand).rejects(new QueueDoesNotExist({ message: 'The specified queue does not exist.', $metadata: {} }));
    const error = await rejection(producer().send('t', {}));
    expect(error.details.awsCode).toBe('QueueDoesNotExist');
    expect(sqsMock.commandCalls(SendMessageCommand)).toHaveLength(1);
  });
});

describe('claim-check failures', () => {
  const big = { blob: 'x'.repeat(5000) };

  it('a failed upload is CLAIM_UPLOAD_FAILED and nothing is sent', async () => {
    s3Mock.on(PutObjectCommand).rejects(awsError('AccessDenied', 'no s3:PutObject', 403));
    const error = await rejection(producer({ claimCheckThresholdBytes: 1024 }).send('t', big));
    expect(error.code).toBe('CLAIM_UPLOAD_FAILED');
    expect(error.details.awsCode).toBe('AccessDenied');
    expect(sqsMock.calls()).toHaveLength(0);
  });

  it('a send that fails after the upload names the claim key', async () => {
    s3Mock.on(PutObjectCommand).resolves({});
    sqsMock.on(SendMessageCommand).rejects(accessDenied());
    const error = await rejection(producer({ claimCheckThresholdBytes: 1024, claimPrefix: 'p/' }).send('t', big));
    const key = (s3Mock.commandCalls(PutObjectCommand)[0]!.args[0].input as { Key: string }).Key;
    expect(key.startsWith('p/')).toBe(true);
    expect(error.code).toBe('SEND_FAILED');
    expect(error.details.claimKey).toBe(key);
    expect(error.message).toContain(key);
    expect(error.message).toContain('lifecycle');
  });

  it('in a batch, a failed upload fails only its task; a failed send after upload names the key', async () => {
    s3Mock.on(PutObjectCommand).rejectsOnce(awsError('InternalError', 'boom', 500)).rejectsOnce(awsError('InternalError', 'boom', 500)).rejectsOnce(awsError('InternalError', 'boom', 500)).resolves({});
    sqsMock.on(SendMessageBatchCommand).callsFake((input: { Entries: SendMessageBatchRequestEntry[] }) => ({
      Successful: input.Entries.filter((e) => e.Id !== '2').map((e) => ({ Id: e.Id!, MessageId: 'm', MD5OfMessageBody: 'x' })),
      Failed: input.Entries.filter((e) => e.Id === '2').map((e) => ({ Id: e.Id!, SenderFault: true, Code: 'InvalidParameterValue', Message: 'no' })),
    }));
    const results = await producer({ claimCheckThresholdBytes: 1024, batchConcurrency: 1 }).sendBatch([
      { type: 't', payload: big },
      { type: 't', payload: 'small' },
      { type: 't', payload: big },
    ]);
    expect(results[0]).toMatchObject({ ok: false, error: { code: 'CLAIM_UPLOAD_FAILED' } });
    expect(results[1]!.ok).toBe(true);
    expect(results[2]).toMatchObject({ ok: false, error: { code: 'SEND_FAILED' } });
    const claimKey = ((results[2] as unknown as { error: SendError }).error.details.claimKey);
    expect(claimKey).toMatch(/^claims\/\d{4}-\d{2}-\d{2}\/[0-9a-f-]{36}$/);
    // The failed upload's task was never offered to SQS.
    const sentIds = sqsMock.commandCalls(SendMessageBatchCommand).flatMap((c) => ((c.args[0].input as { Entries?: SendMessageBatchRequestEntry[] }).Entries ?? []).map((e) => e.Id));
    expect(sentIds).not.toContain('0');
  });
});

describe('backpressure when the backlog cannot be read', () => {
  it('fails open, reports the error, and does not ask again within the interval', async () => {
    sqsMock.on(GetQueueAttributesCommand).rejects(accessDenied());
    sqsMock.on(SendMessageCommand).resolves({ MessageId: 'm' });
    const errors: unknown[] = [];
    const p = producer({ maxBacklog: 5, backlogCacheMs: 60_000, onBacklogCheckError: (e) => errors.push(e) });
    await p.send('t', 1);
    await p.send('t', 2);
    expect(errors).toHaveLength(1);
    expect(sqsMock.commandCalls(GetQueueAttributesCommand)).toHaveLength(1);
    expect(sqsMock.commandCalls(SendMessageCommand)).toHaveLength(2);
  });
});
