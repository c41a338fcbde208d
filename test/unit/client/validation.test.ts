/**
 * Every bad input is refused with its stable code before any request: the mocked clients
 * must see no call at all.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import { SQSClient } from '@aws-sdk/client-sqs';
import { S3Client } from '@aws-sdk/client-s3';
import { TaskProducer } from '../../../lib/client/index.ts';
import { TaskValidationError, type TaskQueueError } from '../../../lib/protocol/errors.ts';

const credentials = { accessKeyId: 'x', secretAccessKey: 'x' };
const QUEUE = 'https://sqs.us-east-1.amazonaws.com/123456789012/tasks';
const FIFO_QUEUE = 'https://sqs.us-east-1.amazonaws.com/123456789012/tasks.fifo';

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
  sqsMock.resolves({ MessageId: 'm', Successful: [], Failed: [] } as never);
  s3Mock.resolves({});
});

afterEach(() => {
  sqsMock.restore();
  s3Mock.restore();
});

function producer(queueUrl = QUEUE, extra: Record<string, unknown> = {}) {
  return new TaskProducer({ queueUrl, sqs, s3, bucketName: 'claims-bucket', maxBacklog: 10, ...extra });
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(TaskValidationError);
  return (error as TaskQueueError).code;
}

const circular: Record<string, unknown> = { a: 1 };
circular.self = circular;

const badSends: [string, string, () => [string, unknown, Record<string, unknown>?], string?][] = [
  ['empty type', 'INVALID_TASK_TYPE', () => ['', {}]],
  ['type with a space', 'INVALID_TASK_TYPE', () => ['send email', {}]],
  ['type starting with a digit', 'INVALID_TASK_TYPE', () => ['1st', {}]],
  ['type not a string', 'INVALID_TASK_TYPE', () => [42 as unknown as string, {}]],
  ['type too long', 'INVALID_TASK_TYPE', () => ['a'.repeat(65), {}]],
  ['taskId with a slash', 'INVALID_TASK_ID', () => ['t', {}, { taskId: '../x' }]],
  ['empty taskId', 'INVALID_TASK_ID', () => ['t', {}, { taskId: '' }]],
  ['taskId too long', 'INVALID_TASK_ID', () => ['t', {}, { taskId: 'x'.repeat(129) }]],
  ['empty idempotencyKey', 'INVALID_IDEMPOTENCY_KEY', () => ['t', {}, { idempotencyKey: '' }]],
  ['idempotencyKey with a newline', 'INVALID_IDEMPOTENCY_KEY', () => ['t', {}, { idempotencyKey: 'a\nb' }]],
  ['idempotencyKey too long', 'INVALID_IDEMPOTENCY_KEY', () => ['t', {}, { idempotencyKey: 'k'.repeat(257) }]],
  // The routing item's key in the task table (a task there would find the routing item as its record).
  ['the reserved routing key as idempotencyKey', 'INVALID_IDEMPOTENCY_KEY', () => ['t', {}, { idempotencyKey: 'taskq:routing' }]],
  ['the reserved routing key as taskId', 'INVALID_TASK_ID', () => ['t', {}, { taskId: 'taskq:routing' }]],
  ['undefined payload', 'INVALID_PAYLOAD', () => ['t', undefined]],
  ['function payload', 'INVALID_PAYLOAD', () => ['t', () => 1]],
  ['symbol payload', 'INVALID_PAYLOAD', () => ['t', Symbol('x')]],
  ['BigInt payload', 'INVALID_PAYLOAD', () => ['t', 10n]],
  ['BigInt nested in the payload', 'INVALID_PAYLOAD', () => ['t', { amount: 10n }]],
  ['circular payload', 'INVALID_PAYLOAD', () => ['t', circular]],
  ['payload whose toJSON throws', 'INVALID_PAYLOAD', () => ['t', { toJSON: () => { throw new Error('no'); } }]],
  ['payload above maxPayloadBytes', 'PAYLOAD_TOO_LARGE', () => ['t', 'x'.repeat(2000)]],
  ['delaySeconds above 900', 'INVALID_DELAY', () => ['t', {}, { delaySeconds: 901 }]],
  ['negative delaySeconds', 'INVALID_DELAY', () => ['t', {}, { delaySeconds: -1 }]],
  ['fractional delaySeconds', 'INVALID_DELAY', () => ['t', {}, { delaySeconds: 1.5 }]],
  ['NaN delaySeconds', 'INVALID_DELAY', () => ['t', {}, { delaySeconds: Number.NaN }]],
  ['negative delayMs', 'INVALID_DELAY', () => ['t', {}, { delayMs: -5 }]],
  ['infinite delayMs', 'INVALID_DELAY', () => ['t', {}, { delayMs: Number.POSITIVE_INFINITY }]],
  ['invalid runAt', 'INVALID_DELAY', () => ['t', {}, { runAt: new Date('nope') }]],
  ['runAt not a Date', 'INVALID_DELAY', () => ['t', {}, { runAt: '2030-01-01' }]],
  ['two delays at once', 'INVALID_DELAY', () => ['t', {}, { delaySeconds: 5, delayMs: 5000 }]],
  ['deduplicationId on a standard queue', 'INVALID_OPTIONS', () => ['t', {}, { deduplicationId: 'd' }]],
  ['messageGroupId with a space', 'INVALID_OPTIONS', () => ['t', {}, { messageGroupId: 'a b' }]],
];

describe('send refuses bad input before any request', () => {
  it.each(badSends)('%s → %s', async (_, code, args) => {
    const [type, payload, options] = args();
    const p = producer(QUEUE, { maxPayloadBytes: 1000 });
    expect(await codeOf(p.send(type, payload, options))).toBe(code);
    expect(sqsMock.calls()).toHaveLength(0);
    expect(s3Mock.calls()).toHaveLength(0);
  });

  it('refuses a message above the inline limit when claim check is off', async () => {
    const p = new TaskProducer({ queueUrl: QUEUE, sqs, maxMessageBytes: 16 * 1024 });
    expect(await codeOf(p.send('t', 'x'.repeat(13 * 1024)))).toBe('PAYLOAD_TOO_LARGE');
    expect(sqsMock.calls()).toHaveLength(0);
  });

  it('rejects nested non-JSON values in strict mode only', async () => {
    const strict = producer(QUEUE, { strictPayload: true });
    for (const payload of [{ f: () => 1 }, [undefined], { n: Number.NaN }, { n: Number.POSITIVE_INFINITY }, { s: Symbol('x') }]) {
      expect(await codeOf(strict.send('t', payload))).toBe('INVALID_PAYLOAD');
    }
    expect(sqsMock.calls()).toHaveLength(0);
    // Lenient (default): JSON.stringify semantics, nested undefined is omitted.
    sqsMock.resolves({ MessageId: 'm' } as never);
    await producer(QUEUE, { maxBacklog: undefined }).send('t', { a: undefined, b: 1 });
    expect(sqsMock.calls()).toHaveLength(1);
  });
});

describe('FIFO rules', () => {
  it.each([
    ['no messageGroupId', 'FIFO_GROUP_REQUIRED', {}],
    ['a per-message delaySeconds', 'INVALID_DELAY', { messageGroupId: 'g', delaySeconds: 10 }],
    ['a delayMs', 'INVALID_DELAY', { messageGroupId: 'g', delayMs: 60_000 }],
    ['a runAt in the future', 'INVALID_DELAY', { messageGroupId: 'g', runAt: new Date(Date.now() + 3_600_000) }],
    ['a deduplicationId with a space', 'INVALID_OPTIONS', { messageGroupId: 'g', deduplicationId: 'a b' }],
    ['a deduplicationId too long', 'INVALID_OPTIONS', { messageGroupId: 'g', deduplicationId: 'd'.repeat(129) }],
  ])('refuses %s', async (_, code, options) => {
    expect(await codeOf(producer(FIFO_QUEUE).send('t', {}, options))).toBe(code);
    expect(sqsMock.calls()).toHaveLength(0);
  });

  it('accepts delaySeconds 0 on FIFO', async () => {
    sqsMock.resolves({ MessageId: 'm' } as never);
    await producer(FIFO_QUEUE, { maxBacklog: undefined }).send('t', {}, { messageGroupId: 'g', delaySeconds: 0 });
    expect(sqsMock.calls()).toHaveLength(1);
  });
});

describe('sendBatch reports bad input per task and sends none of it', () => {
  it('returns each validation error in input order, nothing sent when all are bad', async () => {
    const p = producer();
    const results = await p.sendBatch([
      { type: '', payload: {} },
      { type: 't', payload: undefined },
      { type: 't', payload: {}, delaySeconds: 901, taskId: 'mine' },
      null as unknown as { type: string; payload: unknown },
    ]);
    expect(results.map((r) => (r.ok ? 'ok' : r.error.code))).toEqual(['INVALID_TASK_TYPE', 'INVALID_PAYLOAD', 'INVALID_DELAY', 'INVALID_OPTIONS']);
    expect(results[2]).toMatchObject({ ok: false, taskId: 'mine' });
    expect(sqsMock.calls()).toHaveLength(0);
    expect(s3Mock.calls()).toHaveLength(0);
  });
});

describe('configuration', () => {
  it.each([
    ['no queueUrl', { queueUrl: '' }],
    ['a threshold above the inline limit', { claimCheckThresholdBytes: 1_048_576 }],
    ['a claim prefix with ..', { claimPrefix: 'claims/../x/' }],
    ['a claim prefix without a trailing slash', { claimPrefix: 'claims' }],
    ['a claim prefix starting with /', { claimPrefix: '/claims/' }],
    ['an unknown claim-check format', { claimCheckFormat: 'zip' }],
    ['a negative maxBacklog', { maxBacklog: -1 }],
    ['a zero batch concurrency', { batchConcurrency: 0 }],
    ['maxMessageBytes above SQS', { maxMessageBytes: 2_000_000 }],
  ])('refuses %s with CONFIGURATION', (_, patch) => {
    let error: unknown;
    try {
      producer(QUEUE, patch);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(TaskValidationError);
    expect((error as TaskQueueError).code).toBe('CONFIGURATION');
  });

  it('detects FIFO from the URL', () => {
    expect(producer(FIFO_QUEUE).fifo).toBe(true);
    expect(producer(QUEUE).fifo).toBe(false);
  });

  it('getTaskStatus without tableName is a CONFIGURATION error', async () => {
    expect(await codeOf(producer().getTaskStatus('tsk_1'))).toBe('CONFIGURATION');
  });
});
