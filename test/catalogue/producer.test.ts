/**
 * Bad-input catalogue, producer side: every bad input to TaskProducer is refused with a
 * TaskValidationError and its stable code, and NOTHING reaches SQS or S3 — checked twice:
 * the producer's own clients record no request at all, and the real queue and bucket on
 * the emulators are still empty. Inputs SQS itself would reject (U+FFFE/U+FFFF, lone
 * surrogates) are the exception that is accepted: they are escaped and arrive intact.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { TaskProducer, type SendOptions, type TaskProducerConfig } from '../../lib/client/index.ts';
import { TaskValidationError } from '../../lib/protocol/errors.ts';
import { createTestResources, emulatorEndpoints, testClients, uniqueName, type TestResources } from '../support/aws.ts';
import { spy } from '../integration/runtime/helpers.ts';

/** The producer's clients (every request they make is recorded) and separate ones to inspect the emulators. */
const producerClients = testClients();
const sqsCalls = spy(producerClients.sqs);
const s3Calls = spy(producerClients.s3);
const inspect = testClients();

let r: TestResources;
let fifoQueueUrl: string;

beforeAll(async () => {
  r = await createTestResources(inspect);
  const fifo = await inspect.sqs.send(new CreateQueueCommand({ QueueName: `${uniqueName('catalogue')}.fifo`, Attributes: { FifoQueue: 'true' } }));
  fifoQueueUrl = fifo.QueueUrl!;
});

function producer(extra: Partial<TaskProducerConfig> = {}): TaskProducer {
  return new TaskProducer({
    queueUrl: r.queueUrl,
    sqs: producerClients.sqs,
    s3: producerClients.s3,
    bucketName: r.bucketName,
    endpoint: emulatorEndpoints().sqsEndpoint,
    ...extra,
  });
}

async function messagesOn(sqs: SQSClient, queueUrl: string): Promise<number> {
  const names = ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed'] as const;
  const a = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: [...names] }));
  return names.reduce((n, k) => n + Number(a.Attributes?.[k] ?? 0), 0);
}

async function objectsInBucket(): Promise<number> {
  const listed = await inspect.s3.send(new ListObjectsV2Command({ Bucket: r.bucketName }));
  return listed.KeyCount ?? 0;
}

/** Runs `send`, expects a TaskValidationError with `code`, no request made, queue and bucket untouched. */
async function expectRefused(send: () => Promise<unknown>, code: string, queueUrl = r.queueUrl): Promise<TaskValidationError> {
  const before = { sqs: sqsCalls.length, s3: s3Calls.length };
  const error = await send().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, 'the send must be refused').toBeInstanceOf(TaskValidationError);
  const e = error as TaskValidationError;
  expect(e.code).toBe(code);
  expect(e.message.length, 'a message a human can act on').toBeGreaterThan(20);
  expect(sqsCalls.slice(before.sqs).map((c) => c.name), 'no SQS request').toEqual([]);
  expect(s3Calls.slice(before.s3).map((c) => c.name), 'no S3 request').toEqual([]);
  expect(await messagesOn(inspect.sqs, queueUrl), 'nothing on the queue').toBe(0);
  expect(await objectsInBucket(), 'nothing in the claim bucket').toBe(0);
  return e;
}

const circular: Record<string, unknown> = { a: 1 };
circular.self = circular;

/** [case, expected code, type, payload, options, producer config] */
const refusals: [string, string, unknown, unknown, SendOptions?, Partial<TaskProducerConfig>?][] = [
  // task type
  ['missing type (undefined)', 'INVALID_TASK_TYPE', undefined, {}],
  ['empty type', 'INVALID_TASK_TYPE', '', {}],
  ['type with a space', 'INVALID_TASK_TYPE', 'send email', {}],
  ['type with a path separator', 'INVALID_TASK_TYPE', 'tasks/../admin', {}],
  ['type with a control character', 'INVALID_TASK_TYPE', 'send\u0000email', {}],
  ['type with non-ASCII letters', 'INVALID_TASK_TYPE', 'envoyer_é', {}],
  ['type longer than 64 characters', 'INVALID_TASK_TYPE', `t${'x'.repeat(64)}`, {}],
  // payload not serialisable
  ['payload undefined', 'INVALID_PAYLOAD', 't', undefined],
  ['payload a function', 'INVALID_PAYLOAD', 't', () => 1],
  ['payload a BigInt', 'INVALID_PAYLOAD', 't', 10n],
  ['payload with a nested BigInt', 'INVALID_PAYLOAD', 't', { amount: 10n }],
  ['payload with a cycle', 'INVALID_PAYLOAD', 't', circular],
  ['payload with a nested function (strictPayload)', 'INVALID_PAYLOAD', 't', { f: () => 1 }, undefined, { strictPayload: true }],
  ['payload with undefined in an array (strictPayload)', 'INVALID_PAYLOAD', 't', [1, undefined], undefined, { strictPayload: true }],
  ['payload with NaN (strictPayload)', 'INVALID_PAYLOAD', 't', { n: Number.NaN }, undefined, { strictPayload: true }],
  // size
  ['payload above maxPayloadBytes (claim check on: nothing uploaded either)', 'PAYLOAD_TOO_LARGE', 't', 'x'.repeat(5000), undefined, { maxPayloadBytes: 4096 }],
  ['payload above the inline limit with claim check off', 'PAYLOAD_TOO_LARGE', 't', 'x'.repeat(13 * 1024), undefined, { bucketName: undefined, maxMessageBytes: 16 * 1024 }],
  // task id and idempotency key
  ['taskId with a control character', 'INVALID_TASK_ID', 't', {}, { taskId: 'tsk\n1' }],
  ['taskId with a path traversal', 'INVALID_TASK_ID', 't', {}, { taskId: '../etc/passwd' }],
  ['taskId longer than 128 characters', 'INVALID_TASK_ID', 't', {}, { taskId: 'x'.repeat(129) }],
  ['empty taskId', 'INVALID_TASK_ID', 't', {}, { taskId: '' }],
  ['idempotencyKey with a control character', 'INVALID_IDEMPOTENCY_KEY', 't', {}, { idempotencyKey: 'order\u000742' }],
  ['idempotencyKey longer than 256 characters', 'INVALID_IDEMPOTENCY_KEY', 't', {}, { idempotencyKey: 'k'.repeat(257) }],
  ['empty idempotencyKey', 'INVALID_IDEMPOTENCY_KEY', 't', {}, { idempotencyKey: '' }],
  ['idempotencyKey not a string', 'INVALID_IDEMPOTENCY_KEY', 't', {}, { idempotencyKey: 42 as unknown as string }],
  // delays
  ['negative delaySeconds', 'INVALID_DELAY', 't', {}, { delaySeconds: -1 }],
  ['delaySeconds above 900', 'INVALID_DELAY', 't', {}, { delaySeconds: 901 }],
  ['non-integer delaySeconds', 'INVALID_DELAY', 't', {}, { delaySeconds: 1.5 }],
  ['NaN delaySeconds', 'INVALID_DELAY', 't', {}, { delaySeconds: Number.NaN }],
  ['negative delayMs', 'INVALID_DELAY', 't', {}, { delayMs: -1000 }],
  ['NaN delayMs', 'INVALID_DELAY', 't', {}, { delayMs: Number.NaN }],
  ['runAt an invalid Date', 'INVALID_DELAY', 't', {}, { runAt: new Date('not a date') }],
  ['runAt not a Date', 'INVALID_DELAY', 't', {}, { runAt: '2030-01-01T00:00:00Z' as unknown as Date }],
  ['two delays at once', 'INVALID_DELAY', 't', {}, { delaySeconds: 5, runAt: new Date(Date.now() + 60_000) }],
  // queue-kind options
  ['deduplicationId on a standard queue', 'INVALID_OPTIONS', 't', {}, { deduplicationId: 'd-1' }],
  ['messageGroupId with a space', 'INVALID_OPTIONS', 't', {}, { messageGroupId: 'tenant a' }],
];

describe('catalogue: producer refuses bad input with a typed error, and sends nothing', () => {
  it.each(refusals)('%s → %s', async (_case, code, type, payload, options, config) => {
    const p = producer(config);
    await expectRefused(() => p.send(type as string, payload, options), code);
  });

  it('FIFO queue without a message group id → FIFO_GROUP_REQUIRED', async () => {
    const p = producer({ queueUrl: fifoQueueUrl });
    await expectRefused(() => p.send('t', {}), 'FIFO_GROUP_REQUIRED', fifoQueueUrl);
  });

  it('FIFO queue with a per-message delay → INVALID_DELAY', async () => {
    const p = producer({ queueUrl: fifoQueueUrl });
    await expectRefused(() => p.send('t', {}, { messageGroupId: 'g', delaySeconds: 10 }), 'INVALID_DELAY', fifoQueueUrl);
  });

  it('sendBatch: each bad task gets its own typed error and none of them is sent', async () => {
    const before = sqsCalls.length + s3Calls.length;
    const results = await producer().sendBatch([
      { type: '', payload: {} },
      { type: 't', payload: 10n },
      { type: 't', payload: {}, delaySeconds: 901 },
      { type: 't', payload: {}, idempotencyKey: 'a\tb' },
    ]);
    expect(results.map((x) => (x.ok ? 'sent' : x.error.code))).toEqual(['INVALID_TASK_TYPE', 'INVALID_PAYLOAD', 'INVALID_DELAY', 'INVALID_IDEMPOTENCY_KEY']);
    expect(results.every((x) => !x.ok && x.error instanceof TaskValidationError)).toBe(true);
    expect(sqsCalls.length + s3Calls.length).toBe(before);
    expect(await messagesOn(inspect.sqs, r.queueUrl)).toBe(0);
  });

  it('a claimPrefix with a traversal segment is refused when the producer is built (CONFIGURATION)', () => {
    expect(() => producer({ claimPrefix: 'claims/../' })).toThrow(expect.objectContaining({ code: 'CONFIGURATION', message: expect.stringMatching(/claimPrefix/) }));
  });
});

describe('catalogue: producer accepts what only looks bad, and it arrives intact', () => {
  async function receiveAll(): Promise<string[]> {
    const out = await inspect.sqs.send(new ReceiveMessageCommand({ QueueUrl: r.queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, VisibilityTimeout: 60 }));
    return (out.Messages ?? []).map((m) => m.Body!);
  }

  it('characters SQS rejects (U+FFFE, U+FFFF, lone surrogates) are escaped: SQS accepts the body and the payload round-trips', async () => {
    // (A valid surrogate pair — an emoji — is left out: fauxqs 1.9.2 wrongly rejects U+10000–U+10FFFF, which SQS accepts.)
    const payload = { nonchars: 'a\uFFFEb\uFFFFc', high: 'x\uD800y', low: '\uDC00', ctrl: '\u0001\u001f' };
    const { taskId } = await producer().send('t', payload);
    const bodies = await receiveAll();
    expect(bodies).toHaveLength(1);
    expect(bodies[0]).not.toMatch(/[\uFFFE\uFFFF]/);
    const envelope = JSON.parse(bodies[0]!) as { id: string; payload: unknown };
    expect(envelope.id).toBe(taskId);
    expect(envelope.payload).toEqual(payload);
  });

  it('a runAt in the past is not an error: the task is sent at once, with no delay and no notBefore', async () => {
    const before = sqsCalls.length;
    await producer().send('t', { n: 1 }, { runAt: new Date(Date.now() - 60_000) });
    const sent = sqsCalls.slice(before).filter((c) => c.name === 'SendMessageCommand');
    expect(sent).toHaveLength(1);
    expect(sent[0]!.input.DelaySeconds).toBeUndefined();
    const bodies = await receiveAll();
    expect(bodies).toHaveLength(1);
    expect(JSON.parse(bodies[0]!)).not.toHaveProperty('notBefore');
  });
});
