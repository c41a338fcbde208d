/**
 * Payload checks that say what is wrong, on the emulators: a Standard Schema on a task type
 * (its output, typed, is what the handler gets; its issues name the fields in the dead
 * letter), and the example send_email's validate() — the README's own
 * `send_email {"to":"a@example.com"}` succeeds, a wrong field is named.
 */
import type { StandardSchemaV1 } from '@standard-schema/spec';
import { beforeAll, describe, expect, expectTypeOf, it } from 'vitest';
import { DEAD_LETTER_ATTRIBUTES } from '../../../lib/protocol/attributes.ts';
import { defineTasks, describeIssues, type TaskPayloads } from '../../../lib/runtime/index.ts';
import { sendEmail } from '../../../functions/tasks/send_email.ts';
import { createTestResources, testClients, type TestResources } from '../../support/aws.ts';
import { consumer, envelope, fakeContext, receive, receiveEvent, sendTask, taskRecord } from './helpers.ts';

const clients = testClients();

interface Signup {
  email: string;
  plan: 'free' | 'pro';
}

/** A small Standard Schema, as zod or valibot would provide: checks fields, applies a default. */
const signupSchema: StandardSchemaV1<unknown, Signup> = {
  '~standard': {
    version: 1,
    vendor: 'test',
    validate(value) {
      const issues: StandardSchemaV1.Issue[] = [];
      const v = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>;
      if (typeof v.email !== 'string' || !v.email.includes('@')) issues.push({ message: 'must be an e-mail address', path: ['email'] });
      if (v.plan !== undefined && v.plan !== 'free' && v.plan !== 'pro') issues.push({ message: "must be 'free' or 'pro'", path: [{ key: 'plan' }] });
      if (issues.length > 0) return { issues };
      return { value: { email: v.email as string, plan: (v.plan as Signup['plan'] | undefined) ?? 'free' } };
    },
  },
};

describe('task schemas', () => {
  let r: TestResources;
  beforeAll(async () => {
    r = await createTestResources(clients);
  });

  it('types the handler from the schema and hands it the schema output (defaults applied)', async () => {
    const seen: Signup[] = [];
    const handler = defineTasks(
      {
        signup: {
          schema: signupSchema,
          handler: async (payload) => {
            expectTypeOf(payload).toEqualTypeOf<Signup>();
            seen.push(payload);
          },
        },
        ping: { handler: async (payload: { at: number }) => payload.at },
      },
      { clients, tableName: r.tableName, queueUrl: r.queueUrl, deadLetterQueueUrl: r.deadLetterQueueUrl },
    );
    expectTypeOf<TaskPayloads<typeof handler>>().toEqualTypeOf<{ signup: Signup; ping: { at: number } }>();

    const e = envelope('signup', { email: 'ada@example.com' });
    await sendTask(clients.sqs, r.queueUrl, e);
    expect((await handler(await receiveEvent(clients.sqs, r), fakeContext())).batchItemFailures).toEqual([]);
    expect(seen).toEqual([{ email: 'ada@example.com', plan: 'free' }]);
    expect(await taskRecord(clients.dynamo, r.tableName, e.id)).toMatchObject({ status: 'SUCCEEDED' });
  });

  it('dead-letters a payload the schema rejects at once, naming each field in the last error', async () => {
    const fresh = await createTestResources(clients);
    let ran = 0;
    const { handler } = consumer(fresh, clients, {
      signup: {
        schema: signupSchema,
        handler: () => {
          ran++;
        },
      },
    });
    const e = envelope('signup', { email: 42, plan: 'gold' });
    await sendTask(clients.sqs, fresh.queueUrl, e);
    expect((await handler(await receiveEvent(clients.sqs, fresh), fakeContext())).batchItemFailures).toEqual([]);
    expect(ran).toBe(0);
    const [dead] = await receive(clients.sqs, fresh.deadLetterQueueUrl, 1, 2);
    expect(dead!.MessageAttributes![DEAD_LETTER_ATTRIBUTES.reason]!.StringValue).toBe('schema-violation');
    expect(dead!.MessageAttributes![DEAD_LETTER_ATTRIBUTES.lastError]!.StringValue).toBe(
      "payload rejected by schema: email: must be an e-mail address; plan: must be 'free' or 'pro'",
    );
    expect(await taskRecord(clients.dynamo, fresh.tableName, e.id)).toMatchObject({ status: 'DEAD_LETTERED', deadLetterReason: 'schema-violation' });
  });

  it('refuses a schema that is not a Standard Schema when the handler is defined', () => {
    expect(() => defineTasks({ t: { schema: {} as StandardSchemaV1<unknown, unknown>, handler: () => undefined } })).toThrow(/Standard Schema/);
  });

  it('describes nested paths', () => {
    expect(describeIssues([{ message: 'Required', path: ['items', 2, { key: 'sku' }] }, { message: 'bad' }])).toBe('items[2].sku: Required; bad');
  });
});

describe('the example send_email task (functions/tasks/send_email.ts)', () => {
  it('accepts the README example {"to":"a@example.com"} and names the field it rejects', async () => {
    const r = await createTestResources(clients);
    const { handler } = consumer(r, clients, { send_email: sendEmail });
    const good = envelope('send_email', { to: 'a@example.com' });
    const bad = envelope('send_email', { to: 'nobody', subject: 'Hi' });
    await sendTask(clients.sqs, r.queueUrl, good);
    await sendTask(clients.sqs, r.queueUrl, bad);
    expect((await handler(await receiveEvent(clients.sqs, r, 2), fakeContext())).batchItemFailures).toEqual([]);
    expect(await taskRecord(clients.dynamo, r.tableName, good.id)).toMatchObject({ status: 'SUCCEEDED' });
    const [dead] = await receive(clients.sqs, r.deadLetterQueueUrl, 1, 2);
    expect(dead!.MessageAttributes![DEAD_LETTER_ATTRIBUTES.lastError]!.StringValue).toBe('payload rejected by validate(): to: must be an e-mail address');
  });
});
