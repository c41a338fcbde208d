/** Claim checks over the wire: our payloadRef, AWS Extended Client pointers, and what is refused. */
import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { PermanentError } from '../../../lib/protocol/errors.ts';
import { DEAD_LETTER_ATTRIBUTES } from '../../../lib/protocol/attributes.ts';
import { encodeEnvelope } from '../../../lib/protocol/envelope.ts';
import {
  EXTENDED_CLIENT_LEGACY_POINTER_CLASS,
  EXTENDED_CLIENT_LEGACY_SIZE_ATTRIBUTE,
  EXTENDED_CLIENT_SIZE_ATTRIBUTE,
  encodeExtendedClientPointer,
} from '../../../lib/protocol/extended-client.ts';
import { createTestResources, testClients, type TestResources } from '../../support/aws.ts';
import { consumer, envelope, fakeContext, receive, receiveEvent, sendRaw, sendTask, spy, taskRecord } from './helpers.ts';

const clients = testClients();
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

describe('consumer runtime: claim check', () => {
  let r: TestResources;
  const s3Calls = spy(clients.s3);
  beforeAll(async () => {
    r = await createTestResources(clients);
  });

  async function upload(key: string, body: string, bucket = r.bucketName) {
    await clients.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
  }

  async function exists(key: string): Promise<boolean> {
    try {
      await clients.s3.send(new HeadObjectCommand({ Bucket: r.bucketName, Key: key }));
      return true;
    } catch (error) {
      if ((error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) return false;
      throw error;
    }
  }

  /** A claim-checked task of `type` whose object is uploaded (its own, as TaskProducer does); returns it with its key. */
  async function claimChecked(type: string, payload: unknown) {
    const text = JSON.stringify(payload);
    const e = envelope(type, undefined);
    delete (e as { payload?: unknown }).payload;
    const key = `claims/${e.id}.json`;
    await upload(key, text);
    return { task: { ...e, payloadRef: { bucket: r.bucketName, key, size: Buffer.byteLength(text), sha256: sha256(text), exclusive: true } }, key };
  }

  async function deadReasons(count: number): Promise<string[]> {
    const dead = await receive(clients.sqs, r.deadLetterQueueUrl, count, 1);
    return dead.map((m) => m.MessageAttributes![DEAD_LETTER_ATTRIBUTES.reason]!.StringValue!).sort();
  }

  it('round-trips a large payload by payloadRef, verifying size and sha256', async () => {
    const payload = { blob: 'x'.repeat(300_000), n: 7 };
    const text = JSON.stringify(payload);
    const e = envelope('big', undefined);
    delete (e as { payload?: unknown }).payload;
    const key = `claims/${e.id}.json`;
    await upload(key, text);
    const withRef = { ...e, payloadRef: { bucket: r.bucketName, key, size: Buffer.byteLength(text), sha256: sha256(text) } };
    let got: unknown;
    const { handler } = consumer(r, clients, { big: { handler: (p) => void (got = p) } });
    await sendTask(clients.sqs, r.queueUrl, withRef);
    expect((await handler(await receiveEvent(clients.sqs, r), fakeContext())).batchItemFailures).toEqual([]);
    expect(got).toEqual(payload);
    expect(await taskRecord(clients.dynamo, r.tableName, e.id)).toMatchObject({ status: 'SUCCEEDED' });
  });

  it('a duplicate of a succeeded claim-checked task does not touch S3', async () => {
    const text = JSON.stringify({ a: 1 });
    const e = envelope('big2', undefined);
    delete (e as { payload?: unknown }).payload;
    const key = `claims/${e.id}.json`;
    await upload(key, text);
    const withRef = { ...e, payloadRef: { bucket: r.bucketName, key, size: text.length, sha256: sha256(text) } };
    const { handler } = consumer(r, clients, { big2: { handler: () => undefined } });
    await sendTask(clients.sqs, r.queueUrl, withRef);
    await handler(await receiveEvent(clients.sqs, r), fakeContext());
    const before = s3Calls.filter((c) => c.name === 'GetObjectCommand').length;
    await sendTask(clients.sqs, r.queueUrl, withRef);
    await handler(await receiveEvent(clients.sqs, r), fakeContext());
    expect(s3Calls.filter((c) => c.name === 'GetObjectCommand').length).toBe(before);
  });

  it('reads AWS Extended Client pointers: Java form, and Python form with spaces, legacy class and legacy size attribute', async () => {
    const got: unknown[] = [];
    const { handler } = consumer(r, clients, { ext: { handler: (p) => void got.push(p) } });
    const javaTask = envelope('ext', { from: 'java' });
    const javaBody = encodeEnvelope(javaTask);
    await upload(`claims/${javaTask.id}`, javaBody);
    await sendRaw(clients.sqs, r.queueUrl, encodeExtendedClientPointer(r.bucketName, `claims/${javaTask.id}`), {
      [EXTENDED_CLIENT_SIZE_ATTRIBUTE]: { DataType: 'Number', StringValue: String(Buffer.byteLength(javaBody)) },
    });
    const pyTask = envelope('ext', { from: 'python' });
    const pyBody = encodeEnvelope(pyTask);
    await upload(`claims/${pyTask.id}`, pyBody);
    const pyPointer = `["${EXTENDED_CLIENT_LEGACY_POINTER_CLASS}", {"s3BucketName": "${r.bucketName}", "s3Key": "claims/${pyTask.id}"}]`;
    await sendRaw(clients.sqs, r.queueUrl, pyPointer, {
      [EXTENDED_CLIENT_LEGACY_SIZE_ATTRIBUTE]: { DataType: 'Number', StringValue: String(Buffer.byteLength(pyBody)) },
    });
    const event = await receiveEvent(clients.sqs, r, 2);
    expect(event.Records).toHaveLength(2);
    expect((await handler(event, fakeContext())).batchItemFailures).toEqual([]);
    expect(got).toEqual(expect.arrayContaining([{ from: 'java' }, { from: 'python' }]));
    expect(await taskRecord(clients.dynamo, r.tableName, pyTask.id)).toMatchObject({ status: 'SUCCEEDED' });
    // Extended Client objects stay: a duplicate pointer must fetch the object to learn its idempotency key.
    expect(await exists(`claims/${javaTask.id}`)).toBe(true);
    expect(await exists(`claims/${pyTask.id}`)).toBe(true);
  });

  it('refuses pointers to another bucket, outside the prefix or with traversal (pointer-not-allowed) and never fetches them', async () => {
    const { handler } = consumer(r, clients, { ext: { handler: () => undefined } });
    const before = s3Calls.length;
    const text = JSON.stringify({});
    const ref = (bucket: string, key: string) => ({ ...envelope('ext', undefined), payload: undefined, payloadRef: { bucket, key, size: 2, sha256: sha256(text) } });
    const bodies = [
      encodeExtendedClientPointer('someone-elses-bucket', 'claims/x'),
      encodeExtendedClientPointer(r.bucketName, 'claims/../secrets/x'),
      encodeExtendedClientPointer(r.bucketName, 'claims/%2e%2e/secrets'),
      encodeEnvelope(ref(r.bucketName, 'other/x')),
      encodeEnvelope(ref('someone-elses-bucket', 'claims/x')),
    ];
    for (const body of bodies) await sendRaw(clients.sqs, r.queueUrl, body);
    const event = await receiveEvent(clients.sqs, r, bodies.length);
    expect(event.Records).toHaveLength(bodies.length);
    expect((await handler(event, fakeContext())).batchItemFailures).toEqual([]);
    expect(await deadReasons(bodies.length)).toEqual(Array(bodies.length).fill('pointer-not-allowed'));
    expect(s3Calls.length).toBe(before);
  });

  it('missing object → claim-missing; size or sha256 mismatch → claim-size-mismatch / claim-digest-mismatch', async () => {
    const { handler } = consumer(r, clients, { ext: { handler: () => undefined } });
    const text = JSON.stringify({ fine: true });
    await upload('claims/present.json', text);
    const ref = (key: string, size: number, digest: string) => ({ ...envelope('ext', undefined), payload: undefined, payloadRef: { bucket: r.bucketName, key, size, sha256: digest } });
    const missing = ref('claims/not-there.json', text.length, sha256(text));
    await sendTask(clients.sqs, r.queueUrl, missing);
    await sendTask(clients.sqs, r.queueUrl, ref('claims/present.json', text.length + 1, sha256(text)));
    await sendTask(clients.sqs, r.queueUrl, ref('claims/present.json', text.length, sha256('something else')));
    await sendRaw(clients.sqs, r.queueUrl, encodeExtendedClientPointer(r.bucketName, 'claims/gone'));
    const event = await receiveEvent(clients.sqs, r, 4);
    expect((await handler(event, fakeContext())).batchItemFailures).toEqual([]);
    expect(await deadReasons(4)).toEqual(['claim-digest-mismatch', 'claim-missing', 'claim-missing', 'claim-size-mismatch']);
    expect(await taskRecord(clients.dynamo, r.tableName, missing.id)).toMatchObject({ status: 'DEAD_LETTERED', deadLetterReason: 'claim-missing' });
  });

  describe('deleting claim objects after success', () => {
    it('lease and record modes: the object is gone once the task SUCCEEDED (one DeleteObjects for the batch); a later copy is acknowledged', async () => {
      const { handler } = consumer(r, clients, { del: { handler: () => undefined }, delRecord: { handler: () => undefined, idempotency: 'record' } });
      const a = await claimChecked('del', { a: 1 });
      const b = await claimChecked('del', { b: 2 });
      const c = await claimChecked('delRecord', { c: 3 });
      for (const x of [a, b, c]) await sendTask(clients.sqs, r.queueUrl, x.task);
      const deletesBefore = s3Calls.filter((call) => call.name === 'DeleteObjectsCommand').length;
      const event = await receiveEvent(clients.sqs, r, 3);
      expect(event.Records).toHaveLength(3);
      expect((await handler(event, fakeContext())).batchItemFailures).toEqual([]);
      for (const x of [a, b, c]) {
        expect(await taskRecord(clients.dynamo, r.tableName, x.task.id)).toMatchObject({ status: 'SUCCEEDED' });
        expect(await exists(x.key)).toBe(false);
      }
      expect(s3Calls.filter((call) => call.name === 'DeleteObjectsCommand').length).toBe(deletesBefore + 1);
      // A leftover copy of each: acknowledged as a duplicate, never dead-lettered as claim-missing.
      for (const x of [a, c]) await sendTask(clients.sqs, r.queueUrl, x.task);
      const again = await receiveEvent(clients.sqs, r, 2);
      expect((await handler(again, fakeContext())).batchItemFailures).toEqual([]);
      expect(await receive(clients.sqs, r.deadLetterQueueUrl, 10, 0)).toEqual([]);
    });

    it('an object a producer sends as several tasks (payloadRef without exclusive) is never deleted: every task runs', async () => {
      const runs: number[] = [];
      const { handler } = consumer(r, clients, { shared: { handler: (p: { n: number }) => void runs.push(p.n) } });
      const text = JSON.stringify({ n: 7 });
      const key = `claims/shared-${Date.now()}.json`;
      await upload(key, text);
      const tasks = [1, 2, 3].map(() => {
        const e = envelope('shared', undefined);
        delete (e as { payload?: unknown }).payload;
        return { ...e, payloadRef: { bucket: r.bucketName, key, size: Buffer.byteLength(text), sha256: sha256(text) } };
      });
      // One task after another, as a producer in another language would send them over time.
      for (const t of tasks) {
        await sendTask(clients.sqs, r.queueUrl, t);
        expect((await handler(await receiveEvent(clients.sqs, r), fakeContext())).batchItemFailures).toEqual([]);
      }
      expect(runs).toEqual([7, 7, 7]);
      for (const t of tasks) expect(await taskRecord(clients.dynamo, r.tableName, t.id)).toMatchObject({ status: 'SUCCEEDED' });
      expect(await exists(key)).toBe(true);
      expect(await receive(clients.sqs, r.deadLetterQueueUrl, 10, 0)).toEqual([]);
    });

    it('kept after a retryable failure, after dead-lettering, with deleteClaimsAfterSuccess: false, and in idempotency off', async () => {
      const { handler } = consumer(r, clients, {
        flaky: { handler: () => { throw new Error('try again'); } },
        poison: { handler: () => { throw new PermanentError('no'); } },
        keepOff: { handler: () => undefined, idempotency: 'off' },
      });
      const flaky = await claimChecked('flaky', { f: 1 });
      const poison = await claimChecked('poison', { p: 1 });
      const off = await claimChecked('keepOff', { o: 1 });
      for (const x of [flaky, poison, off]) await sendTask(clients.sqs, r.queueUrl, x.task);
      const event = await receiveEvent(clients.sqs, r, 3);
      expect(event.Records).toHaveLength(3);
      const response = await handler(event, fakeContext());
      expect(response.batchItemFailures).toHaveLength(1);
      expect(await taskRecord(clients.dynamo, r.tableName, flaky.task.id)).toMatchObject({ status: 'RETRYING' });
      expect(await taskRecord(clients.dynamo, r.tableName, poison.task.id)).toMatchObject({ status: 'DEAD_LETTERED' });
      expect(await deadReasons(1)).toEqual(['permanent-error']);
      for (const x of [flaky, poison, off]) expect(await exists(x.key)).toBe(true);

      const opted = consumer(r, clients, { kept: { handler: () => undefined } }, { deleteClaimsAfterSuccess: false });
      const kept = await claimChecked('kept', { k: 1 });
      await sendTask(clients.sqs, r.queueUrl, kept.task);
      expect((await opted.handler(await receiveEvent(clients.sqs, r), fakeContext())).batchItemFailures).toEqual([]);
      expect(await taskRecord(clients.dynamo, r.tableName, kept.task.id)).toMatchObject({ status: 'SUCCEEDED' });
      expect(await exists(kept.key)).toBe(true);
    });
  });
});
