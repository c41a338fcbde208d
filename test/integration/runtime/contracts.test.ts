/**
 * Task contracts end to end on the emulators: the producer and the consumer import the same
 * contracts (test/fixtures/contracts.ts, zod); the producer refuses what breaks them before
 * sending anything, and the consumer dead-letters what reaches it anyway (a producer without
 * contracts, another language) with the issues' paths — never the values.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { TaskProducer, taskOf } from '../../../lib/client/index.ts';
import { DEAD_LETTER_ATTRIBUTES } from '../../../lib/protocol/attributes.ts';
import { TaskValidationError } from '../../../lib/protocol/errors.ts';
import { createTestResources, testClients, type TestResources } from '../../support/aws.ts';
import { actingAs } from '../../support/iam/principals.ts';
import { ChargeCard, SendEmail, all } from '../../fixtures/contracts.ts';
import { consumer, fakeContext, receive, receiveEvent, taskRecord } from './helpers.ts';

const clients = testClients();
let r: TestResources;

function producer(extra: Partial<ConstructorParameters<typeof TaskProducer>[0]> = {}) {
  return actingAs('producer', new TaskProducer({ queueUrl: r.queueUrl, sqs: clients.sqs, s3: clients.s3, dynamo: clients.dynamo, bucketName: r.bucketName, tableName: r.tableName, ...extra }));
}

beforeAll(async () => {
  r = await createTestResources(clients);
});

describe('task contracts: one declaration, checked on both sides', () => {
  it('round trip: a typed send, the handler gets the schema output, the contract defaults apply', async () => {
    const seen: unknown[] = [];
    const { handler } = consumer(r, clients, {
      send_email: { contract: SendEmail, handler: async (payload, ctx) => void seen.push([payload.to, ctx.maxAttempts]) },
      charge_card: { contract: ChargeCard, handler: async (payload) => ({ charged: payload.cents, currency: payload.currency }) },
    });
    const p = producer();
    const email = await p.send(SendEmail, { to: 'ada@example.com' });
    const charge = await p.send(ChargeCard, { orderId: 'o-7', cents: 1999 });
    expect((await handler(await receiveEvent(clients.sqs, r, 2), fakeContext())).batchItemFailures).toEqual([]);
    expect(seen).toEqual([['ada@example.com', 2]]); // maxAttempts from the contract
    expect(await taskRecord(clients.dynamo, r.tableName, email.taskId)).toMatchObject({ status: 'SUCCEEDED' });
    expect(await taskRecord(clients.dynamo, r.tableName, charge.taskId)).toMatchObject({ status: 'SUCCEEDED', result: '{"charged":1999,"currency":"EUR"}' });
  });

  it('a payload that breaks its contract is refused at send: the message names the path and the rule, nothing is sent', async () => {
    const p = producer();
    const error = await p.send(SendEmail, { to: 'not-an-address', subject: 'x'.repeat(300) }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TaskValidationError);
    expect(error).toMatchObject({ code: 'SCHEMA_VIOLATION', issues: [{ path: 'to' }, { path: 'subject' }] });
    expect((error as Error).message).toMatch(/^payload of send_email breaks its contract: to: .*email.*; subject: .*200/i);
    expect((error as Error).message).not.toContain('not-an-address');
    expect(await receive(clients.sqs, r.queueUrl, 10, 0)).toEqual([]);
  });

  it('a producer given the contracts refuses an unknown type and checks a known type named by string', async () => {
    const p = producer({ contracts: all });
    await expect(p.send('send_emial', { to: 'ada@example.com' })).rejects.toMatchObject({ code: 'UNKNOWN_TASK_TYPE', message: expect.stringContaining('charge_card, send_email') });
    await expect(p.send('charge_card', { orderId: '', cents: -1 })).rejects.toMatchObject({ code: 'SCHEMA_VIOLATION' });
    expect(await receive(clients.sqs, r.queueUrl, 10, 0)).toEqual([]);
  });

  it('sendBatch checks each entry: a broken one fails alone, the others are sent', async () => {
    const own = await createTestResources(clients);
    const p = actingAs('producer', new TaskProducer({ queueUrl: own.queueUrl, sqs: clients.sqs }));
    const results = await p.sendBatch([taskOf(SendEmail, { to: 'a@example.com' }), taskOf(ChargeCard, { orderId: 'o-1', cents: 0 }), taskOf(SendEmail, { to: 'b@example.com' })]);
    expect(results.map((x) => (x.ok ? 'ok' : x.error.code))).toEqual(['ok', 'SCHEMA_VIOLATION', 'ok']);
    expect(await receive(clients.sqs, own.queueUrl, 10, 1)).toHaveLength(2);
  });

  it('sent raw, a payload that breaks the contract is dead-lettered as schema-violation with the paths (no values) in taskq.lastError', async () => {
    const own = await createTestResources(clients);
    let ran = 0;
    const { handler } = consumer(own, clients, { send_email: { contract: SendEmail, handler: () => void ran++ } });
    // A producer without contracts (or in another language) sends what the contract refuses.
    await actingAs('producer', new TaskProducer({ queueUrl: own.queueUrl, sqs: clients.sqs })).send('send_email', { to: 'secret@@value', subject: 42 });
    expect((await handler(await receiveEvent(clients.sqs, own), fakeContext())).batchItemFailures).toEqual([]);
    expect(ran).toBe(0);
    const [dead] = await receive(clients.sqs, own.deadLetterQueueUrl, 1, 1);
    expect(dead!.MessageAttributes![DEAD_LETTER_ATTRIBUTES.reason]!.StringValue).toBe('schema-violation');
    const lastError = dead!.MessageAttributes![DEAD_LETTER_ATTRIBUTES.lastError]!.StringValue!;
    expect(lastError).toMatch(/to: .*email.*; subject: .*string/i);
    expect(lastError).not.toContain('secret@@value');
    expect(lastError).not.toContain('42');
  });

  it('the consumer refuses a contract under another type key, or a schema given twice', () => {
    expect(() => consumer(r, clients, { send_mail: { contract: SendEmail, handler: () => undefined } })).toThrow(/its contract is for "send_email"/);
    expect(() => consumer(r, clients, { send_email: { contract: SendEmail, schema: SendEmail.schema, handler: () => undefined } })).toThrow(/a contract or a schema, not both/);
  });
});
