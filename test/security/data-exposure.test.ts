/**
 * Payload contents never reach the consumer's logs or the DLQ's dead-letter attributes —
 * for claim-checked payloads too (payloadRef and AWS Extended Client pointers), on success,
 * handler failure, and every claim-check and poison path. The inline cases (success, failure,
 * unknown type, bad JSON) are in test/integration/runtime/batch.test.ts ("logs carry ids, type
 * and attempt — never the payload"); this file covers what it does not: claim checks and the
 * DLQ attributes an operator reads with `taskq dlq peek`.
 *
 * The DLQ message BODY is the original message on purpose (redrive needs it): protecting it is
 * the DLQ's encryption and IAM (test/infra), not redaction.
 */
import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { DeleteMessageBatchCommand } from '@aws-sdk/client-sqs';
import { DEAD_LETTER_ATTRIBUTES } from '../../lib/protocol/attributes.ts';
import { encodeEnvelope, type TaskEnvelope } from '../../lib/protocol/envelope.ts';
import { EXTENDED_CLIENT_SIZE_ATTRIBUTE, encodeExtendedClientPointer } from '../../lib/protocol/extended-client.ts';
import { newTaskId } from '../../lib/protocol/ids.ts';
import { createTestResources, testClients, type TestResources } from '../support/aws.ts';
import { consumer, envelope, fakeContext, receive, receiveEvent, sendRaw } from '../integration/runtime/helpers.ts';

const SECRET = 'pan-4111111111111111-cvv-737';
const clients = testClients();
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

describe('data exposure: claim-checked payloads and dead-letter attributes', () => {
  let r: TestResources;
  beforeAll(async () => {
    r = await createTestResources(clients);
  });

  async function put(key: string, body: string): Promise<void> {
    await clients.s3.send(new PutObjectCommand({ Bucket: r.bucketName, Key: key, Body: body }));
  }

  function withRef(type: string, key: string, object: string, overrides: { size?: number; sha256?: string } = {}): TaskEnvelope {
    return {
      v: 1,
      id: newTaskId(),
      type,
      payloadRef: { bucket: r.bucketName, key, size: overrides.size ?? Buffer.byteLength(object), sha256: overrides.sha256 ?? sha256(object) },
      createdAt: new Date().toISOString(),
    };
  }

  it('no log line and no DLQ attribute contains a secret from a claim-checked payload, whatever happens to the task', async () => {
    const object = JSON.stringify({ card: SECRET, amount: 5 });
    const secretKey = `claims/${newTaskId()}`;
    await put(secretKey, object);
    const notJson = `claims/${newTaskId()}`;
    await put(notJson, `card=${SECRET}`);
    const ecOk = envelope('pay', { card: SECRET, amount: 1 });
    const ecFail = envelope('fail', { card: SECRET });
    await put(`claims/${ecOk.id}`, encodeEnvelope(ecOk));
    await put(`claims/${ecFail.id}`, encodeEnvelope(ecFail));
    const ecBadEnvelope = `claims/${newTaskId()}`;
    await put(ecBadEnvelope, JSON.stringify({ v: 1, id: 'x', type: 'pay', payload: { card: SECRET } }));

    const messages: { body: string; attributes?: Record<string, { DataType: string; StringValue: string }> }[] = [
      { body: encodeEnvelope(withRef('pay', secretKey, object)) }, // succeeds
      { body: encodeEnvelope(withRef('fail', secretKey, object)) }, // handler throws (retry)
      { body: encodeEnvelope(withRef('strict', secretKey, object)) }, // schema violation
      { body: encodeEnvelope(withRef('pay', secretKey, object, { size: 3 })) }, // claim-size-mismatch
      { body: encodeEnvelope(withRef('pay', secretKey, object, { sha256: sha256('other') })) }, // claim-digest-mismatch
      { body: encodeEnvelope(withRef('pay', notJson, `card=${SECRET}`)) }, // claim-unreadable
      { body: encodeEnvelope(withRef('nobody', secretKey, object)) }, // unknown-type
      { body: encodeExtendedClientPointer(r.bucketName, `claims/${ecOk.id}`), attributes: { [EXTENDED_CLIENT_SIZE_ATTRIBUTE]: { DataType: 'Number', StringValue: String(Buffer.byteLength(encodeEnvelope(ecOk))) } } },
      { body: encodeExtendedClientPointer(r.bucketName, `claims/${ecFail.id}`) },
      { body: encodeExtendedClientPointer(r.bucketName, ecBadEnvelope) }, // invalid-envelope, from S3
    ];
    for (const m of messages) await sendRaw(clients.sqs, r.queueUrl, m.body, m.attributes ?? {});

    const ran: string[] = [];
    const { handler, captured } = consumer(r, clients, {
      pay: { handler: (p: { card: string }) => void ran.push(p.card) },
      fail: { handler: () => { throw new Error('card processor declined'); } },
      strict: { handler: () => undefined, validate: () => false },
    });
    const event = await receiveEvent(clients.sqs, r, messages.length, 2);
    expect(event.Records).toHaveLength(messages.length);
    await handler(event, fakeContext());

    // The secret did reach the handler (so the test is about where else it went)...
    expect(ran).toEqual([SECRET, SECRET]);
    // ...and nowhere in the logs.
    expect(captured.logs.length).toBeGreaterThanOrEqual(messages.length);
    expect(captured.text()).not.toContain(SECRET);
    expect(captured.text()).not.toContain('4111111111111111');

    const dead = await receive(clients.sqs, r.deadLetterQueueUrl, 10, 2);
    const reasons = dead.map((m) => m.MessageAttributes?.[DEAD_LETTER_ATTRIBUTES.reason]?.StringValue).sort();
    expect(reasons).toEqual(['claim-digest-mismatch', 'claim-size-mismatch', 'claim-unreadable', 'invalid-envelope', 'schema-violation', 'unknown-type']);
    for (const m of dead) {
      expect(JSON.stringify(m.MessageAttributes)).not.toContain('4111111111111111');
      // A claim-checked message is dead-lettered as it came: the pointer, not the payload.
      if (!m.Body!.startsWith('[')) expect(JSON.parse(m.Body!)).toHaveProperty('payloadRef');
    }
    await clients.sqs.send(
      new DeleteMessageBatchCommand({ QueueUrl: r.deadLetterQueueUrl, Entries: dead.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })) }),
    );
  });

  it('dead-letter attributes of inline poison messages carry the reason, never the body', async () => {
    const bodies = [
      `{"v":1,"type":"pay","payload":{"card":"${SECRET}"}`, // malformed-json
      JSON.stringify({ v: 1, id: newTaskId(), type: 'pay', payload: { card: SECRET }, createdAt: 'not-a-time' }), // invalid-envelope
      JSON.stringify({ v: 2, id: newTaskId(), type: 'pay', payload: { card: SECRET }, createdAt: new Date().toISOString() }), // unsupported-version
      encodeEnvelope(envelope('nobody', { card: SECRET })), // unknown-type
    ];
    for (const body of bodies) await sendRaw(clients.sqs, r.queueUrl, body);
    const { handler, captured } = consumer(r, clients, { pay: { handler: () => undefined } });
    await handler(await receiveEvent(clients.sqs, r, bodies.length, 2), fakeContext());
    const dead = (await receive(clients.sqs, r.deadLetterQueueUrl, 10, 2)).filter((m) => bodies.includes(m.Body!));
    expect(dead).toHaveLength(bodies.length);
    for (const m of dead) {
      const attributes = JSON.stringify(m.MessageAttributes);
      expect(attributes).toContain(DEAD_LETTER_ATTRIBUTES.reason);
      expect(attributes).not.toContain('4111111111111111');
    }
    expect(captured.text()).not.toContain('4111111111111111');
  });
});
