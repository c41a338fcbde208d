/**
 * The consumer over the wire: success, duplicates, concurrency, retries with backoff,
 * dead-lettering with reasons, status through the lifecycle.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { DEAD_LETTER_ATTRIBUTES, MESSAGE_ATTRIBUTES } from '../../../lib/protocol/attributes.ts';
import { PermanentError, RetryableError } from '../../../lib/protocol/errors.ts';
import { createTestResources, testClients, type TestResources } from '../../support/aws.ts';
import { consumer, envelope, fakeContext, receive, receiveEvent, sendRaw, sendTask, sleep, spy, taskRecord } from './helpers.ts';

const clients = testClients();

async function fresh(options?: Parameters<typeof createTestResources>[1]): Promise<TestResources> {
  return createTestResources(clients, options);
}

describe('consumer runtime: lifecycle', () => {
  let r: TestResources;
  beforeAll(async () => {
    r = await fresh();
  });

  it('runs a task once and records SUCCEEDED with its result', async () => {
    const seen: unknown[] = [];
    const { handler, captured } = consumer(r, clients, {
      greet: { handler: async (p: { name: string }, ctx) => (seen.push([p, ctx.attempt]), { hello: p.name }) },
    });
    const e = envelope('greet', { name: 'ada' });
    await sendTask(clients.sqs, r.queueUrl, e);
    const event = await receiveEvent(clients.sqs, r);
    const response = await handler(event, fakeContext());
    expect(response.batchItemFailures).toEqual([]);
    expect(seen).toEqual([[{ name: 'ada' }, 1]]);
    const record = await taskRecord(clients.dynamo, r.tableName, e.id);
    expect(record).toMatchObject({ status: 'SUCCEEDED', attempts: 1, taskId: e.id, type: 'greet', result: '{"hello":"ada"}', createdAt: e.createdAt });
    expect(record!.leaseUntil).toBeUndefined();
    expect(record!.expiresAt).toBeGreaterThan(Date.now() / 1000 + 29 * 24 * 3600);
    const m = captured.metrics[0]!.get('greet')!;
    expect(m.processed).toBe(1);
    expect(m.handlerDuration).toHaveLength(1);
    expect(m.endToEndLatency).toHaveLength(1);
  });

  it('the same task sent twice has one effect (keyed by the task, not the messageId)', async () => {
    let effects = 0;
    const { handler, captured } = consumer(r, clients, { count: { handler: () => void effects++ } });
    const e = envelope('count', {});
    await sendTask(clients.sqs, r.queueUrl, e);
    await handler(await receiveEvent(clients.sqs, r), fakeContext());
    await sendTask(clients.sqs, r.queueUrl, e);
    const second = await receiveEvent(clients.sqs, r);
    expect(second.Records).toHaveLength(1);
    const response = await handler(second, fakeContext());
    expect(response.batchItemFailures).toEqual([]);
    expect(effects).toBe(1);
    expect(captured.metrics[1]!.get('count')!.duplicatesSkipped).toBe(1);
    expect((await taskRecord(clients.dynamo, r.tableName, e.id))!.attempts).toBe(1);
  });

  it('two copies processed concurrently have one effect; the second is re-delayed without burning an attempt', async () => {
    let effects = 0;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const { handler } = consumer(r, clients, {
      slow: {
        handler: async () => {
          effects++;
          await gate;
        },
      },
    });
    const sqsCalls = spy(clients.sqs);
    const e = envelope('slow', {}, { idempotencyKey: `order-${Date.now()}` });
    await sendTask(clients.sqs, r.queueUrl, e);
    await sendTask(clients.sqs, r.queueUrl, e);
    const both = await receiveEvent(clients.sqs, r, 2);
    expect(both.Records).toHaveLength(2);
    const first = handler({ Records: [both.Records[0]!] }, fakeContext());
    // Wait until the first holds the lease and runs.
    for (let i = 0; i < 100 && effects === 0; i++) await sleep(10);
    expect((await taskRecord(clients.dynamo, r.tableName, e.idempotencyKey!))!.status).toBe('IN_PROGRESS');
    const second = await handler({ Records: [both.Records[1]!] }, fakeContext());
    expect(second.batchItemFailures).toEqual([{ itemIdentifier: both.Records[1]!.messageId }]);
    const change = sqsCalls.find((c) => c.name === 'ChangeMessageVisibilityBatchCommand');
    expect(change?.input.Entries[0].ReceiptHandle).toBe(both.Records[1]!.receiptHandle);
    expect(change?.input.Entries[0].VisibilityTimeout).toBeGreaterThan(20);
    release();
    expect((await first).batchItemFailures).toEqual([]);
    expect(effects).toBe(1);
    const record = await taskRecord(clients.dynamo, r.tableName, e.idempotencyKey!);
    expect(record).toMatchObject({ status: 'SUCCEEDED', attempts: 1 });
  });

  it('fails, retries with growing backoff, then succeeds; status RETRYING in between', async () => {
    const r2 = await fresh();
    let calls = 0;
    const { handler } = consumer(r2, clients, {
      flaky: {
        handler: async () => {
          calls++;
          if (calls < 3) throw new Error(`boom ${calls}`);
          return 'ok';
        },
      },
    });
    const sqsCalls = spy(clients.sqs);
    const e = envelope('flaky', {});
    await sendTask(clients.sqs, r2.queueUrl, e);

    const first = await receiveEvent(clients.sqs, r2);
    expect((await handler(first, fakeContext())).batchItemFailures).toEqual([{ itemIdentifier: first.Records[0]!.messageId }]);
    expect(await taskRecord(clients.dynamo, r2.tableName, e.id)).toMatchObject({ status: 'RETRYING', attempts: 1, lastError: 'boom 1' });
    // Invisible for the backoff (1 s), then back.
    expect(await receive(clients.sqs, r2.queueUrl, 1, 0)).toHaveLength(0);
    const second = await receiveEvent(clients.sqs, r2, 1, 3);
    expect(second.Records).toHaveLength(1);
    expect((await handler(second, fakeContext())).batchItemFailures).toHaveLength(1);
    expect(await taskRecord(clients.dynamo, r2.tableName, e.id)).toMatchObject({ status: 'RETRYING', attempts: 2, lastError: 'boom 2' });
    const third = await receiveEvent(clients.sqs, r2, 1, 4);
    expect((await handler(third, fakeContext())).batchItemFailures).toEqual([]);
    expect(await taskRecord(clients.dynamo, r2.tableName, e.id)).toMatchObject({ status: 'SUCCEEDED', attempts: 3, result: '"ok"' });
    const delays = sqsCalls.filter((c) => c.name === 'ChangeMessageVisibilityBatchCommand').map((c) => c.input.Entries[0].VisibilityTimeout);
    expect(delays).toEqual([1, 2]);
  });

  it('RetryableError.retryAfterSeconds overrides the backoff', async () => {
    const { handler } = consumer(r, clients, { later: { handler: () => { throw new RetryableError('429', 120); } } });
    const sqsCalls = spy(clients.sqs);
    const e = envelope('later', {});
    await sendTask(clients.sqs, r.queueUrl, e);
    await handler(await receiveEvent(clients.sqs, r), fakeContext());
    const change = sqsCalls.find((c) => c.name === 'ChangeMessageVisibilityBatchCommand');
    expect(change?.input.Entries[0].VisibilityTimeout).toBe(120);
  });

  it('attempts exhausted → DLQ with reason, attempts, last error, original messageId, taskType; status DEAD_LETTERED', async () => {
    const r2 = await fresh();
    const { handler } = consumer(r2, clients, { doomed: { maxAttempts: 2, handler: () => { throw new Error('still broken'); } } });
    const e = envelope('doomed', {});
    const messageId = await sendTask(clients.sqs, r2.queueUrl, e);
    const first = await receiveEvent(clients.sqs, r2);
    expect((await handler(first, fakeContext())).batchItemFailures).toHaveLength(1);
    const second = await receiveEvent(clients.sqs, r2, 1, 3);
    expect((await handler(second, fakeContext())).batchItemFailures).toEqual([]);
    const [dead] = await receive(clients.sqs, r2.deadLetterQueueUrl, 1, 1);
    expect(dead?.Body).toBe(first.Records[0]!.body);
    const a = dead!.MessageAttributes!;
    expect(a[DEAD_LETTER_ATTRIBUTES.reason]?.StringValue).toBe('attempts-exhausted');
    expect(a[DEAD_LETTER_ATTRIBUTES.attempts]?.StringValue).toBe('2');
    expect(a[DEAD_LETTER_ATTRIBUTES.lastError]?.StringValue).toBe('still broken');
    expect(a[DEAD_LETTER_ATTRIBUTES.originalMessageId]?.StringValue).toBe(messageId);
    expect(Date.parse(a[DEAD_LETTER_ATTRIBUTES.deadLetteredAt]!.StringValue!)).toBeGreaterThan(Date.now() - 60_000);
    expect(a[MESSAGE_ATTRIBUTES.taskType]?.StringValue).toBe('doomed');
    expect(await taskRecord(clients.dynamo, r2.tableName, e.id)).toMatchObject({ status: 'DEAD_LETTERED', attempts: 2, deadLetterReason: 'attempts-exhausted' });
    // Acknowledged: not on the source queue any more (after its visibility would have ended).
    expect(await receive(clients.sqs, r2.queueUrl, 1, 0)).toHaveLength(0);
  });

  it('a permanent error dead-letters at once; a task redriven from the DLQ runs again with fresh attempts', async () => {
    const r2 = await fresh();
    let fixed = false;
    const runs: number[] = [];
    const { handler } = consumer(r2, clients, {
      pay: {
        handler: (_p, ctx) => {
          runs.push(ctx.attempt);
          if (!fixed) throw new PermanentError('card declined');
        },
      },
    });
    const e = envelope('pay', {});
    await sendTask(clients.sqs, r2.queueUrl, e);
    expect((await handler(await receiveEvent(clients.sqs, r2), fakeContext())).batchItemFailures).toEqual([]);
    expect(await taskRecord(clients.dynamo, r2.tableName, e.id)).toMatchObject({ status: 'DEAD_LETTERED', attempts: 1, deadLetterReason: 'permanent-error', lastError: 'card declined' });
    const [dead] = await receive(clients.sqs, r2.deadLetterQueueUrl, 1, 1);
    expect(dead!.MessageAttributes![DEAD_LETTER_ATTRIBUTES.reason]?.StringValue).toBe('permanent-error');
    // Operator redrive: same body and attributes, new messageId.
    fixed = true;
    await sendRaw(clients.sqs, r2.queueUrl, dead!.Body!, dead!.MessageAttributes);
    expect((await handler(await receiveEvent(clients.sqs, r2), fakeContext())).batchItemFailures).toEqual([]);
    expect(runs).toEqual([1, 1]);
    expect(await taskRecord(clients.dynamo, r2.tableName, e.id)).toMatchObject({ status: 'SUCCEEDED', attempts: 1 });
  });

  it('bad JSON, unknown type, invalid envelope and schema violation go to the DLQ at once with their reasons', async () => {
    const r2 = await fresh();
    let ran = 0;
    const { handler } = consumer(r2, clients, { strict: { validate: (p) => typeof (p as { n?: unknown })?.n === 'number', handler: () => void ran++ } });
    await sendRaw(clients.sqs, r2.queueUrl, '{"v":1, oops');
    const unknown = envelope('nobody_home', {});
    await sendTask(clients.sqs, r2.queueUrl, unknown);
    await sendRaw(clients.sqs, r2.queueUrl, JSON.stringify({ v: 1, id: 'x', type: 'strict' }));
    const invalid = envelope('strict', { n: 'not a number' });
    await sendTask(clients.sqs, r2.queueUrl, invalid);
    const event = await receiveEvent(clients.sqs, r2, 4);
    expect(event.Records).toHaveLength(4);
    expect((await handler(event, fakeContext())).batchItemFailures).toEqual([]);
    expect(ran).toBe(0);
    const dead = await receive(clients.sqs, r2.deadLetterQueueUrl, 4, 1);
    const reasons = dead.map((m) => m.MessageAttributes![DEAD_LETTER_ATTRIBUTES.reason]!.StringValue).sort();
    expect(reasons).toEqual(['invalid-envelope', 'malformed-json', 'schema-violation', 'unknown-type']);
    expect(await taskRecord(clients.dynamo, r2.tableName, unknown.id)).toMatchObject({ status: 'DEAD_LETTERED', deadLetterReason: 'unknown-type', attempts: 0 });
    expect(await taskRecord(clients.dynamo, r2.tableName, invalid.id)).toMatchObject({ status: 'DEAD_LETTERED', deadLetterReason: 'schema-violation' });
    expect(await receive(clients.sqs, r2.queueUrl, 1, 0)).toHaveLength(0);
  });

  it('shows IN_PROGRESS during the handler', async () => {
    let during: unknown;
    const e = envelope('observe', {});
    const { handler } = consumer(r, clients, {
      observe: {
        handler: async () => {
          during = await taskRecord(clients.dynamo, r.tableName, e.id);
        },
      },
    });
    await sendTask(clients.sqs, r.queueUrl, e);
    await handler(await receiveEvent(clients.sqs, r), fakeContext());
    expect(during).toMatchObject({ status: 'IN_PROGRESS', attempts: 1 });
    expect((during as { leaseUntil: number }).leaseUntil).toBeGreaterThan(Date.now());
  });
});
