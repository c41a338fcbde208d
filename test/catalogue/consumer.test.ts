/**
 * Bad-input catalogue, consumer side: a message that can never be processed goes to the DLQ
 * on its FIRST delivery — not after maxAttempts retries — with the specific reason in the
 * `taskq.reason` attribute, the original body and messageId kept for redrive, the handler
 * never run, and the record acknowledged (no batch item failure). Claim-check pointers that
 * leave the bucket or the prefix are refused without any S3 request.
 *
 * Real messages on the emulators (fauxqs, DynamoDB Local), delivered to defineTasks as the
 * Lambda event source mapping would; after each case the source message is deleted as the
 * mapping deletes an acknowledged record.
 */
import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { DeleteMessageBatchCommand, DeleteMessageCommand, type MessageAttributeValue } from '@aws-sdk/client-sqs';
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type { SQSBatchResponse, SQSRecord } from 'aws-lambda';
import { DEAD_LETTER_ATTRIBUTES } from '../../lib/protocol/attributes.ts';
import { encodeEnvelope, type TaskEnvelope } from '../../lib/protocol/envelope.ts';
import type { DeadLetterReason } from '../../lib/protocol/errors.ts';
import {
  EXTENDED_CLIENT_LEGACY_POINTER_CLASS,
  EXTENDED_CLIENT_LEGACY_SIZE_ATTRIBUTE,
  EXTENDED_CLIENT_POINTER_CLASS,
  EXTENDED_CLIENT_SIZE_ATTRIBUTE,
  encodeExtendedClientPointer,
} from '../../lib/protocol/extended-client.ts';
import { newTaskId } from '../../lib/protocol/ids.ts';
import { createTestResources, testClients, uniqueName, type TestResources } from '../support/aws.ts';
import { consumer, envelope, fakeContext, receive, receiveEvent, sendRaw, spy, taskRecord } from '../integration/runtime/helpers.ts';

const clients = testClients();
const inspect = testClients();
const s3Calls = spy(clients.s3);
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

let r: TestResources;
let otherBucket: string;
let handler: ReturnType<typeof consumer>['handler'];
const runs: { type: string; payload: unknown }[] = [];

beforeAll(async () => {
  r = await createTestResources(inspect);
  otherBucket = uniqueName('someone-elses');
  await inspect.s3.send(new CreateBucketCommand({ Bucket: otherBucket }));
  ({ handler } = consumer(r, clients, {
    charge: {
      handler: (payload) => void runs.push({ type: 'charge', payload }),
      validate: (p) => typeof (p as { amount?: unknown })?.amount === 'number',
    },
    email: {
      handler: (payload) => void runs.push({ type: 'email', payload }),
      validate: (p) => {
        if (typeof (p as { to?: unknown })?.to !== 'string') throw new Error('to must be a string');
      },
    },
  }));
});

interface Message {
  readonly body: string;
  readonly attributes?: Record<string, MessageAttributeValue>;
}

async function put(key: string, body: string, bucket = r.bucketName): Promise<void> {
  await inspect.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
}

/** A valid charge envelope whose payload lives in S3 under `key`, with the pointer's size and digest as given. */
async function claimChecked(key: string, opts: { object?: string; bucket?: string; size?: number; digest?: string; upload?: boolean } = {}): Promise<Message> {
  const object = opts.object ?? JSON.stringify({ amount: 5 });
  if (opts.upload !== false) await put(key, object, opts.bucket ?? r.bucketName);
  const e: TaskEnvelope = {
    v: 1,
    id: newTaskId(),
    type: 'charge',
    payloadRef: { bucket: opts.bucket ?? r.bucketName, key, size: opts.size ?? Buffer.byteLength(object), sha256: opts.digest ?? sha256(object) },
    createdAt: new Date().toISOString(),
  };
  return { body: encodeEnvelope(e) };
}

/** An Extended Client message: the object (uploaded unless `upload: false`) holds a whole envelope. */
async function extendedClient(
  key: string,
  opts: { pointer?: (bucket: string, key: string) => string; object?: string; bucket?: string; sizeAttribute?: string | null; sizeName?: string; sizeType?: string; upload?: boolean } = {},
): Promise<Message> {
  const object = opts.object ?? encodeEnvelope(envelope('charge', { amount: 7 }));
  const bucket = opts.bucket ?? r.bucketName;
  if (opts.upload !== false) await put(key, object, bucket);
  const size = opts.sizeAttribute === undefined ? String(Buffer.byteLength(object)) : opts.sizeAttribute;
  return {
    body: (opts.pointer ?? encodeExtendedClientPointer)(bucket, key),
    attributes: size === null ? {} : { [opts.sizeName ?? EXTENDED_CLIENT_SIZE_ATTRIBUTE]: { DataType: opts.sizeType ?? 'Number', StringValue: size } },
  };
}

const raw = (value: unknown): Message => ({ body: typeof value === 'string' ? value : JSON.stringify(value) });
const base = () => ({ v: 1, id: newTaskId(), type: 'charge', payload: { amount: 1 }, createdAt: new Date().toISOString() });
const baseWithout = (field: string): Record<string, unknown> => {
  const e: Record<string, unknown> = base();
  delete e[field];
  return e;
};
const without = (field: string) => raw(baseWithout(field));

interface Delivery {
  readonly record: SQSRecord;
  readonly response: SQSBatchResponse;
}

/** Sends the message, receives it as a one-record Lambda event (first delivery), runs the consumer, acknowledges as the mapping would. */
async function deliver(m: Message): Promise<Delivery> {
  await sendRaw(clients.sqs, r.queueUrl, m.body, m.attributes ?? {});
  const event = await receiveEvent(clients.sqs, r, 10, 2);
  expect(event.Records).toHaveLength(1);
  const record = event.Records[0]!;
  expect(record.attributes.ApproximateReceiveCount, 'first delivery').toBe('1');
  const response = await handler(event, fakeContext());
  if (response.batchItemFailures.length === 0) {
    await clients.sqs.send(new DeleteMessageCommand({ QueueUrl: r.queueUrl, ReceiptHandle: record.receiptHandle }));
  }
  return { record, response };
}

/** Everything on the DLQ now (received and deleted, so cases never see each other's). */
async function drainDeadLetters(): Promise<{ body: string; attributes: Record<string, string> }[]> {
  const messages = await receive(inspect.sqs, r.deadLetterQueueUrl, 10, 1);
  if (messages.length > 0) {
    await inspect.sqs.send(
      new DeleteMessageBatchCommand({ QueueUrl: r.deadLetterQueueUrl, Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })) }),
    );
  }
  return messages.map((m) => ({
    body: m.Body!,
    attributes: Object.fromEntries(Object.entries(m.MessageAttributes ?? {}).map(([k, v]) => [k, v.StringValue ?? ''])),
  }));
}

async function expectDeadLettered(m: Message, reason: DeadLetterReason, options: { fetches?: boolean } = {}): Promise<void> {
  const runsBefore = runs.length;
  const getsBefore = s3Calls.filter((c) => c.name === 'GetObjectCommand').length;
  const { record, response } = await deliver(m);
  expect(response.batchItemFailures, 'acknowledged: not left on the queue to be retried').toEqual([]);
  const dead = await drainDeadLetters();
  expect(dead, 'exactly one message on the DLQ after the first delivery').toHaveLength(1);
  const d = dead[0]!;
  expect(d.attributes[DEAD_LETTER_ATTRIBUTES.reason]).toBe(reason);
  expect(d.attributes[DEAD_LETTER_ATTRIBUTES.originalMessageId]).toBe(record.messageId);
  expect(Number(d.attributes[DEAD_LETTER_ATTRIBUTES.attempts]), 'at most the one delivery, never a retry budget').toBeLessThanOrEqual(1);
  expect(d.attributes[DEAD_LETTER_ATTRIBUTES.lastError]?.length).toBeGreaterThan(0);
  expect(d.body, 'the original body is kept for inspection and redrive').toBe(m.body);
  expect(runs.length, 'the handler never ran').toBe(runsBefore);
  if (options.fetches === false) {
    expect(s3Calls.filter((c) => c.name === 'GetObjectCommand').length, 'the refused pointer was never fetched').toBe(getsBefore);
  }
}

const ENVELOPE_CASES: [string, DeadLetterReason, () => Message][] = [
  ['malformed JSON (truncated object)', 'malformed-json', () => raw('{"v":1,"id":"tsk_1","type":"charge"')],
  ['not JSON at all', 'malformed-json', () => raw('charge 5 EUR to order 42')],
  ['a JSON number, not an object', 'invalid-envelope', () => raw('42')],
  ['JSON null', 'invalid-envelope', () => raw('null')],
  ['a JSON array that is not an Extended Client pointer', 'invalid-envelope', () => raw('[1,2]')],
  ['wrong envelope version (v: 2)', 'unsupported-version', () => raw({ ...base(), v: 2 })],
  ['envelope version as a string ("1")', 'unsupported-version', () => raw({ ...base(), v: '1' })],
  ['no envelope version', 'unsupported-version', () => without('v')],
  ['missing type', 'invalid-envelope', () => without('type')],
  ['empty type', 'invalid-envelope', () => raw({ ...base(), type: '' })],
  ['type with invalid characters', 'invalid-envelope', () => raw({ ...base(), type: '../admin' })],
  ['unknown type', 'unknown-type', () => raw({ ...base(), type: 'refund' })],
  ['type naming an Object.prototype member ("constructor")', 'unknown-type', () => raw({ ...base(), type: 'constructor' })],
  ['type naming an Object.prototype member ("hasOwnProperty")', 'unknown-type', () => raw({ ...base(), type: 'hasOwnProperty' })],
  ['missing id', 'invalid-envelope', () => without('id')],
  ['id with a control character', 'invalid-envelope', () => raw({ ...base(), id: 'tsk\u0000x' })],
  ['idempotencyKey longer than 256 characters', 'invalid-envelope', () => raw({ ...base(), idempotencyKey: 'k'.repeat(257) })],
  ['idempotencyKey with a control character', 'invalid-envelope', () => raw({ ...base(), idempotencyKey: 'order\n42' })],
  ['idempotencyKey of the routing item (reserved)', 'invalid-envelope', () => raw({ ...base(), idempotencyKey: 'taskq:routing' })],
  ['createdAt not an ISO-8601 UTC time', 'invalid-envelope', () => raw({ ...base(), createdAt: 'yesterday' })],
  ['notBefore not an ISO-8601 UTC time', 'invalid-envelope', () => raw({ ...base(), notBefore: 1_900_000_000 })],
  ['payload and payloadRef together', 'invalid-envelope', () => raw({ ...base(), payloadRef: { bucket: 'b', key: 'claims/x', size: 1, sha256: 'a'.repeat(64) } })],
  ['payloadRef without sha256', 'invalid-envelope', () => raw({ ...baseWithout('payload'), payloadRef: { bucket: 'b', key: 'claims/x', size: 1 } })],
  ['schema violation (validate returns false)', 'schema-violation', () => raw({ ...base(), payload: { amount: 'five' } })],
  ['schema violation (validate throws)', 'schema-violation', () => raw({ ...base(), type: 'email', payload: { to: 42 } })],
];

describe('catalogue: consumer dead-letters a bad envelope at once, with its reason', () => {
  it.each(ENVELOPE_CASES)('%s → %s', async (_case, reason, build) => {
    await expectDeadLettered(build(), reason);
  });
});

describe('catalogue: consumer refuses forged claim-check pointers (payloadRef) without fetching them', () => {
  it.each<[string, string]>([
    ['key outside the claim prefix', 'other/payload.json'],
    ['path traversal: claims/../secret', 'claims/../secret'],
    ['path traversal: trailing claims/..', 'claims/..'],
    ['path traversal, encoded: claims/%2e%2e/secret', 'claims/%2e%2e/secret'],
    ['path traversal, encoded upper-case with encoded slash: claims/%2E%2E%2Fsecret', 'claims/%2E%2E%2Fsecret'],
    ['path traversal, double-encoded: claims/%252e%252e/secret', 'claims/%252e%252e/secret'],
    ['path traversal, mixed: claims/..%2fsecret', 'claims/..%2fsecret'],
    ['path traversal with backslashes: claims\\..\\secret', 'claims\\..\\secret'],
    ['empty segment: claims//secret', 'claims//secret'],
    ['a control character in the key', 'claims/a\u0000b'],
    ['the bare prefix as key', 'claims/'],
  ])('%s → pointer-not-allowed', async (_case, key) => {
    await expectDeadLettered(await claimChecked(key, { upload: false }), 'pointer-not-allowed', { fetches: false });
  });

  it('pointer to another bucket (the object exists there) → pointer-not-allowed', async () => {
    await expectDeadLettered(await claimChecked('claims/elsewhere.json', { bucket: otherBucket }), 'pointer-not-allowed', { fetches: false });
  });
});

describe('catalogue: consumer verifies claim-checked payloads', () => {
  it('size mismatch → claim-size-mismatch', async () => {
    await expectDeadLettered(await claimChecked(`claims/${newTaskId()}`, { size: 999 }), 'claim-size-mismatch');
  });

  it('sha256 mismatch (object replaced after sending) → claim-digest-mismatch', async () => {
    await expectDeadLettered(await claimChecked(`claims/${newTaskId()}`, { digest: sha256('the original payload') }), 'claim-digest-mismatch');
  });

  it('missing claim object → claim-missing', async () => {
    await expectDeadLettered(await claimChecked(`claims/${newTaskId()}`, { upload: false }), 'claim-missing');
  });

  it('claim object that is not JSON → claim-unreadable', async () => {
    await expectDeadLettered(await claimChecked(`claims/${newTaskId()}`, { object: 'not json' }), 'claim-unreadable');
  });
});

describe('catalogue: AWS SQS Extended Client pointers', () => {
  it.each<[string, (key: string) => Promise<Message>]>([
    ['Java form, current class, ExtendedPayloadSize', (key) => extendedClient(key)],
    ['legacy class com.amazon.sqs.javamessaging.MessageS3Pointer', (key) => extendedClient(key, { pointer: (b, k) => JSON.stringify([EXTENDED_CLIENT_LEGACY_POINTER_CLASS, { s3BucketName: b, s3Key: k }]) })],
    ['Python form with spaces after separators', (key) => extendedClient(key, { pointer: (b, k) => `["${EXTENDED_CLIENT_POINTER_CLASS}", {"s3BucketName": "${b}", "s3Key": "${k}"}]` })],
    ['legacy size attribute SQSLargePayloadSize', (key) => extendedClient(key, { sizeName: EXTENDED_CLIENT_LEGACY_SIZE_ATTRIBUTE })],
    ['no size attribute at all', (key) => extendedClient(key, { sizeAttribute: null })],
  ])('valid: %s → the task runs', async (_case, build) => {
    const before = runs.length;
    const { response } = await deliver(await build(`claims/${newTaskId()}`));
    expect(response.batchItemFailures).toEqual([]);
    expect(runs.slice(before)).toEqual([{ type: 'charge', payload: { amount: 7 } }]);
    expect(await drainDeadLetters()).toEqual([]);
  });

  it.each<[string, DeadLetterReason, () => Promise<Message>, boolean?]>([
    ['forged: another bucket (the object exists there)', 'pointer-not-allowed', () => extendedClient('claims/ec-elsewhere', { bucket: otherBucket }), false],
    ['forged: path traversal in s3Key', 'pointer-not-allowed', () => extendedClient('claims/../secret', { upload: false }), false],
    ['forged: encoded traversal in s3Key', 'pointer-not-allowed', () => extendedClient('claims/%2e%2e/secret', { upload: false }), false],
    ['forged: s3Key outside the prefix', 'pointer-not-allowed', () => extendedClient('secrets/key', { upload: false }), false],
    ['forged: wrong pointer class', 'invalid-envelope', () => extendedClient(`claims/${newTaskId()}`, { pointer: (b, k) => JSON.stringify(['com.example.Evil', { s3BucketName: b, s3Key: k }]) }), false],
    ['malformed: no s3Key', 'invalid-envelope', () => extendedClient('claims/x', { upload: false, pointer: (b) => JSON.stringify([EXTENDED_CLIENT_POINTER_CLASS, { s3BucketName: b }]) }), false],
    ['malformed: three elements', 'invalid-envelope', () => extendedClient('claims/x', { upload: false, pointer: (b, k) => JSON.stringify([EXTENDED_CLIENT_POINTER_CLASS, { s3BucketName: b, s3Key: k }, 1]) }), false],
    ['malformed: truncated JSON', 'malformed-json', () => extendedClient('claims/x', { upload: false, pointer: () => `["${EXTENDED_CLIENT_POINTER_CLASS}",{"s3BucketName"` }), false],
    ['malformed: size attribute not a byte count', 'invalid-envelope', () => extendedClient(`claims/${newTaskId()}`, { sizeAttribute: '12abc', sizeType: 'String' }), false],
    ['size attribute disagrees with the object', 'claim-size-mismatch', () => extendedClient(`claims/${newTaskId()}`, { sizeAttribute: '3' })],
    ['missing object', 'claim-missing', () => extendedClient(`claims/${newTaskId()}`, { upload: false })],
    ['object holds another pointer, not an envelope', 'invalid-envelope', () => extendedClient(`claims/${newTaskId()}`, { object: encodeExtendedClientPointer('b', 'claims/y') })],
    ['object holds an envelope of the wrong version', 'unsupported-version', () => extendedClient(`claims/${newTaskId()}`, { object: JSON.stringify({ ...base(), v: 2 }) })],
  ])('%s → %s', async (_case, reason, build, fetches) => {
    await expectDeadLettered(await build(), reason, fetches === false ? { fetches: false } : {});
  });
});

describe('catalogue: idempotency key reuse', () => {
  it('the same idempotency key with a different payload: the second task is acknowledged as a duplicate without running (one effect per key), not dead-lettered', async () => {
    const key = `order-${newTaskId()}`;
    const first = envelope('charge', { amount: 10 }, { idempotencyKey: key });
    const second = envelope('charge', { amount: 9999 }, { idempotencyKey: key });
    const before = runs.length;
    expect((await deliver(raw(encodeEnvelope(first)))).response.batchItemFailures).toEqual([]);
    expect((await deliver(raw(encodeEnvelope(second)))).response.batchItemFailures).toEqual([]);
    expect(runs.slice(before), 'only the first payload ever ran').toEqual([{ type: 'charge', payload: { amount: 10 } }]);
    expect(await drainDeadLetters()).toEqual([]);
    expect(await taskRecord(inspect.dynamo, r.tableName, key), 'the record still describes the first task').toMatchObject({ status: 'SUCCEEDED', taskId: first.id });
  });
});

describe('catalogue: an idempotency key reused by another task type', () => {
  it('is dead-lettered as idempotency-key-conflict, and the first task keeps its record', async () => {
    const key = `shared-${newTaskId()}`;
    const first = envelope('charge', { amount: 3 }, { idempotencyKey: key });
    const before = runs.length;
    await deliver(raw(encodeEnvelope(first)));
    await expectDeadLettered(raw(encodeEnvelope(envelope('email', { to: 'a@example.com' }, { idempotencyKey: key }))), 'idempotency-key-conflict');
    expect(runs.slice(before).map((x) => x.type)).toEqual(['charge']);
    expect(await taskRecord(inspect.dynamo, r.tableName, key)).toMatchObject({ status: 'SUCCEEDED', taskId: first.id, type: 'charge' });
  });
});

describe('catalogue: the batch response only names records of the batch', () => {
  it('with duplicate messageIds and failures in the batch, the response ids are a duplicate-free subset of the batch ids', async () => {
    const { handler: failing } = consumer(r, clients, {
      flaky: { handler: () => { throw new Error('downstream down'); } },
      charge: { handler: () => undefined },
    });
    const bad = envelope('flaky', {});
    const good = envelope('charge', { amount: 1 });
    await sendRaw(clients.sqs, r.queueUrl, encodeEnvelope(bad));
    await sendRaw(clients.sqs, r.queueUrl, encodeEnvelope(good));
    const event = await receiveEvent(clients.sqs, r, 2, 2);
    expect(event.Records).toHaveLength(2);
    const flakyRecord = event.Records.find((x) => x.body.includes(bad.id))!;
    const goodRecord = event.Records.find((x) => x.body.includes(good.id))!;
    // The same message twice (as a duplicate delivery may look), plus records the event source would never send.
    const records = [flakyRecord, { ...flakyRecord }, goodRecord, { ...goodRecord, messageId: '' }, null as unknown as SQSRecord];
    const response = await failing({ Records: records }, fakeContext());
    const ids = response.batchItemFailures.map((f) => f.itemIdentifier);
    const batchIds = new Set(records.filter(Boolean).map((x) => x.messageId).filter((id) => id.length > 0));
    expect(ids.every((id) => batchIds.has(id)), `${JSON.stringify(ids)} ⊆ batch ids`).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toEqual([flakyRecord.messageId]);
    await clients.sqs.send(new DeleteMessageCommand({ QueueUrl: r.queueUrl, ReceiptHandle: goodRecord.receiptHandle }));
    await clients.sqs.send(new DeleteMessageCommand({ QueueUrl: r.queueUrl, ReceiptHandle: flakyRecord.receiptHandle }));
  });
});
