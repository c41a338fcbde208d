/** Batches over the wire: FIFO order, deadlines, long delays, idempotency modes, expired leases, logs. */
import { beforeEach, describe, expect, it } from 'vitest';
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import type { SQSEvent } from 'aws-lambda';
import { createTestResources, testClients, type TestResources } from '../../support/aws.ts';
import { consumer, envelope, fakeContext, receive, receiveEvent, sendTask, sleep, spy, taskRecord } from './helpers.ts';

const clients = testClients();

describe('consumer runtime: batches', () => {
  let r: TestResources;
  // A queue per test: a message one test leaves to retry (backoff base 1 s) or in flight must
  // never join another test's batch and its counted calls.
  beforeEach(async () => {
    r = await createTestResources(clients);
  });

  it('FIFO: runs each message group in order; a failure holds back only the later records of its own group', async () => {
    const f = await createTestResources(clients, { fifo: true });
    const order: number[] = [];
    const { handler, captured } = consumer(f, clients, {
      step: {
        handler: (p: { n: number }) => {
          order.push(p.n);
          if (p.n === 2) throw new Error('step 2 failed');
        },
      },
    });
    const tasks = [1, 2, 3, 4, 5].map((n) => envelope('step', { n }));
    // fauxqs hands out one in-flight message per group (real SQS several): receive five groups,
    // then give the records the groups a real batch would have — g1: 1, 2, 3; g2: 4, 5.
    for (const [i, t] of tasks.entries()) await sendTask(clients.sqs, f.queueUrl, t, { MessageGroupId: `g${i}`, MessageDeduplicationId: `d${i}` });
    const event = await receiveEvent(clients.sqs, f, 5);
    expect(event.Records).toHaveLength(5);
    expect(event.Records[0]!.eventSourceARN.endsWith('.fifo')).toBe(true);
    const byN = (n: number) => event.Records.find((r) => JSON.parse(r.body).payload.n === n)!;
    const ordered = [1, 4, 2, 5, 3].map(byN); // the groups interleaved, each in its own order
    for (const n of [1, 2, 3]) byN(n).attributes.MessageGroupId = 'g1';
    for (const n of [4, 5]) byN(n).attributes.MessageGroupId = 'g2';
    const response = await handler({ Records: ordered }, fakeContext());
    expect(order).toEqual([1, 4, 2, 5]);
    // The failed record and the one behind it in its group go back; group g2 is not held back.
    expect(new Set(response.batchItemFailures.map((x) => x.itemIdentifier))).toEqual(new Set([byN(2).messageId, byN(3).messageId]));
    // Not run → no attempt counted, no record left behind, and never dead-lettered for another record's failure.
    expect(await taskRecord(clients.dynamo, f.tableName, tasks[2]!.id)).toBeUndefined();
    expect(await taskRecord(clients.dynamo, f.tableName, tasks[1]!.id)).toMatchObject({ status: 'RETRYING', attempts: 1 });
    expect(await taskRecord(clients.dynamo, f.tableName, tasks[4]!.id)).toMatchObject({ status: 'SUCCEEDED' });
    expect(captured.logs.find((l) => /FIFO message group/.test(l.message))?.fields).toMatchObject({ blockedBy: byN(2).messageId });
  });

  it('FIFO: a record held back by its group on its last receive goes back, never to the DLQ; a FIFO invocation with no time left dead-letters nothing', async () => {
    const f = await createTestResources(clients, { fifo: true });
    const { handler } = consumer(f, clients, { step: { handler: (p: { n: number }) => { if (p.n === 1) throw new Error('head fails'); } } }, { maxReceiveCount: 5 });
    const tasks = [1, 2].map((n) => envelope('step', { n }));
    for (const [i, t] of tasks.entries()) await sendTask(clients.sqs, f.queueUrl, t, { MessageGroupId: `h${i}`, MessageDeduplicationId: `h${i}` });
    const event = await receiveEvent(clients.sqs, f, 2);
    const [head, behind] = [1, 2].map((n) => event.Records.find((r) => JSON.parse(r.body).payload.n === n)!);
    head!.attributes.MessageGroupId = behind!.attributes.MessageGroupId = 'h';
    behind!.attributes.ApproximateReceiveCount = '5'; // its last receive; the head's is 1
    const response = await handler({ Records: [head!, behind!] }, fakeContext());
    expect(new Set(response.batchItemFailures.map((x) => x.itemIdentifier))).toEqual(new Set([head!.messageId, behind!.messageId]));
    expect(await receive(clients.sqs, f.deadLetterQueueUrl, 10, 0)).toEqual([]);
    // No time left at all: nothing parsed, nothing dead-lettered, everything goes back.
    for (const r of [head!, behind!]) r.attributes.ApproximateReceiveCount = '5';
    const late = await handler({ Records: [head!, behind!] }, fakeContext(1000));
    expect(late.batchItemFailures).toHaveLength(2);
    expect(await receive(clients.sqs, f.deadLetterQueueUrl, 10, 0)).toEqual([]);
  });

  it('records not started before the deadline go back without an attempt', async () => {
    const started: number[] = [];
    let remaining = 60_000;
    const context = { ...fakeContext(), getRemainingTimeInMillis: () => remaining };
    const { handler } = consumer(r, clients, {
      tick: {
        handler: async (p: { n: number }) => {
          started.push(p.n);
          // The invocation's time runs out while the first record runs.
          remaining = 1500;
        },
      },
    }, { concurrency: 1, deadlineMarginMs: 2000 });
    const tasks = [1, 2, 3].map((n) => envelope('tick', { n }));
    for (const t of tasks) await sendTask(clients.sqs, r.queueUrl, t);
    const event = await receiveEvent(clients.sqs, r, 3);
    expect(event.Records).toHaveLength(3);
    const response = await handler(event, context);
    expect(started).toHaveLength(1);
    expect(response.batchItemFailures).toHaveLength(2);
    const notRun = tasks.filter((t) => !started.includes((t.payload as { n: number }).n));
    // No attempt counted: the acquired leases were released (the fresh items removed).
    for (const t of notRun) expect(await taskRecord(clients.dynamo, r.tableName, t.id)).toBeUndefined();
    const ran = tasks.find((t) => started.includes((t.payload as { n: number }).n))!;
    expect(await taskRecord(clients.dynamo, r.tableName, ran.id)).toMatchObject({ status: 'SUCCEEDED', attempts: 1 });
  });

  it('with no time left at all, nothing is acquired or run', async () => {
    let ran = 0;
    const dynamoCalls = spy(clients.dynamo);
    const { handler } = consumer(r, clients, { tock: { handler: () => void ran++ } }, { deadlineMarginMs: 2000 });
    await sendTask(clients.sqs, r.queueUrl, envelope('tock', {}));
    const event = await receiveEvent(clients.sqs, r);
    const response = await handler(event, { ...fakeContext(), getRemainingTimeInMillis: () => 1000 });
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: event.Records[0]!.messageId }]);
    expect(ran).toBe(0);
    expect(dynamoCalls).toHaveLength(0);
  });

  it('a handler exceeding timeoutMs is a retryable failure (attempt counted)', async () => {
    // Its own queue: the retry comes back after a second and must not reach the next tests.
    const own = await createTestResources(clients);
    const { handler } = consumer(own, clients, { sleepy: { timeoutMs: 100, handler: () => sleep(2000) } });
    const e = envelope('sleepy', {});
    await sendTask(clients.sqs, own.queueUrl, e);
    const response = await handler(await receiveEvent(clients.sqs, own), fakeContext());
    expect(response.batchItemFailures).toHaveLength(1);
    expect(await taskRecord(clients.dynamo, own.tableName, e.id)).toMatchObject({ status: 'RETRYING', attempts: 1, lastError: 'HandlerTimeout: handler timed out after 100 ms' });
  });

  it('a delay beyond 15 minutes (notBefore) is re-delayed without running, by visibility hops then fresh copies', async () => {
    let ran = 0;
    let now = Date.parse('2030-01-01T00:00:00.000Z');
    const clock = { now: () => now };
    const { handler } = consumer(r, clients, { later: { handler: () => void ran++ } }, { clock });
    const sqsCalls = spy(clients.sqs);
    const e = envelope('later', {}, { notBefore: new Date(now + 2 * 3600_000).toISOString() });
    await sendTask(clients.sqs, r.queueUrl, e);
    const event = await receiveEvent(clients.sqs, r);
    const response = await handler(event, fakeContext());
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: event.Records[0]!.messageId }]);
    expect(ran).toBe(0);
    expect(sqsCalls.find((c) => c.name === 'ChangeMessageVisibilityBatchCommand')?.input.Entries[0].VisibilityTimeout).toBe(7200);
    expect(await taskRecord(clients.dynamo, r.tableName, e.id)).toBeUndefined();

    // A message already received many times is re-sent as a fresh copy (receive count 0), ≤ 900 s delay.
    const worn = { Records: [{ ...event.Records[0]!, attributes: { ...event.Records[0]!.attributes, ApproximateReceiveCount: '3' } }] };
    const second = await handler(worn, fakeContext());
    expect(second.batchItemFailures).toEqual([]);
    const resend = sqsCalls.find((c) => c.name === 'SendMessageCommand' && c.input.DelaySeconds !== undefined);
    expect(resend?.input.DelaySeconds).toBe(900);
    expect(resend?.input.MessageBody).toBe(event.Records[0]!.body);

    // Once due, it runs.
    now += 2 * 3600_000 + 1;
    expect((await handler(event, fakeContext())).batchItemFailures).toEqual([]);
    expect(ran).toBe(1);
  });

  it("lease mode: a re-sent copy of a finished task costs its failed INSERT and one read — no second write", async () => {
    let effects = 0;
    const { handler } = consumer(r, clients, { once: { handler: () => void effects++ } });
    const e = envelope('once', {});
    await sendTask(clients.sqs, r.queueUrl, e);
    expect((await handler(await receiveEvent(clients.sqs, r), fakeContext())).batchItemFailures).toEqual([]);
    const dynamoCalls = spy(clients.dynamo);
    await sendTask(clients.sqs, r.queueUrl, e);
    expect((await handler(await receiveEvent(clients.sqs, r), fakeContext())).batchItemFailures).toEqual([]);
    expect(effects).toBe(1);
    expect(dynamoCalls.map((c) => c.name)).toEqual(['BatchExecuteStatementCommand', 'BatchGetItemCommand']);
  });

  it("idempotency 'record': one write on success, later duplicates skipped", async () => {
    let effects = 0;
    const { handler } = consumer(r, clients, { rec: { idempotency: 'record', handler: () => void effects++ } });
    const dynamoCalls = spy(clients.dynamo);
    const e = envelope('rec', {});
    await sendTask(clients.sqs, r.queueUrl, e);
    await handler(await receiveEvent(clients.sqs, r), fakeContext());
    const writes = dynamoCalls.filter((c) => /Put|Update|Write|Execute/.test(c.name));
    expect(writes.map((c) => c.name)).toEqual(['BatchWriteItemCommand']);
    expect(await taskRecord(clients.dynamo, r.tableName, e.id)).toMatchObject({ status: 'SUCCEEDED', attempts: 1 });
    await sendTask(clients.sqs, r.queueUrl, e);
    await handler(await receiveEvent(clients.sqs, r), fakeContext());
    expect(effects).toBe(1);
  });

  it("idempotency 'record': a copy that fails after a concurrent copy succeeded never overwrites SUCCEEDED", async () => {
    const own = await createTestResources(clients);
    let effects = 0;
    let first = true;
    let copyA: SQSEvent | undefined;
    // Copy B runs first; while it runs, copy A runs to success; then B fails (retryable).
    const { handler } = consumer(own, clients, {
      rec: {
        idempotency: 'record',
        handler: async () => {
          if (first) {
            first = false;
            await handler(copyA!, fakeContext());
            throw new Error('downstream down');
          }
          effects += 1;
        },
      },
    });
    const e = envelope('rec', {});
    await sendTask(clients.sqs, own.queueUrl, e);
    await sendTask(clients.sqs, own.queueUrl, e);
    const both = await receiveEvent(clients.sqs, own, 2);
    expect(both.Records).toHaveLength(2);
    copyA = { Records: [both.Records[1]!] };
    const b = await handler({ Records: [both.Records[0]!] }, fakeContext());
    expect(b.batchItemFailures).toHaveLength(1);
    expect(effects).toBe(1);
    expect(await taskRecord(clients.dynamo, own.tableName, e.id)).toMatchObject({ status: 'SUCCEEDED' });
    // B's retry is a duplicate of a succeeded task now: skipped.
    await handler({ Records: [both.Records[0]!] }, fakeContext());
    expect(effects).toBe(1);
  });

  it("idempotency 'off': no table calls at all; attempts from the receive count", async () => {
    let attempt = 0;
    const { handler } = consumer(r, clients, { free: { idempotency: 'off', handler: (_p, ctx) => void (attempt = ctx.attempt) } });
    const dynamoCalls = spy(clients.dynamo);
    const e = envelope('free', {});
    await sendTask(clients.sqs, r.queueUrl, e);
    expect((await handler(await receiveEvent(clients.sqs, r), fakeContext())).batchItemFailures).toEqual([]);
    expect(dynamoCalls).toHaveLength(0);
    expect(attempt).toBe(1);
    expect(await taskRecord(clients.dynamo, r.tableName, e.id)).toBeUndefined();
  });

  it('a lease found expired counts as a failed attempt', async () => {
    const attempts: number[] = [];
    const { handler, captured } = consumer(r, clients, { crashy: { maxAttempts: 3, handler: (_p, ctx) => void attempts.push(ctx.attempt) } });
    const e = envelope('crashy', {});
    // A previous run crashed: IN_PROGRESS with a lease that has run out.
    await clients.dynamo.send(
      new PutItemCommand({
        TableName: r.tableName,
        Item: {
          pk: { S: e.id }, taskId: { S: e.id }, type: { S: 'crashy' }, status: { S: 'IN_PROGRESS' }, attempts: { N: '1' },
          leaseUntil: { N: String(Date.now() - 120_000) }, createdAt: { S: e.createdAt }, updatedAt: { S: e.createdAt }, expiresAt: { N: '9999999999' },
        },
      }),
    );
    await sendTask(clients.sqs, r.queueUrl, e);
    const event = await receiveEvent(clients.sqs, r);
    expect((await handler(event, fakeContext())).batchItemFailures).toEqual([]);
    expect(attempts).toEqual([2]);
    expect(await taskRecord(clients.dynamo, r.tableName, e.id)).toMatchObject({ status: 'SUCCEEDED', attempts: 2 });
    expect(captured.logs.some((l) => l.message.includes('lost its lease'))).toBe(true);
  });

  it('an expired lease at the last attempt dead-letters without running (attempts-exhausted)', async () => {
    let ran = 0;
    const { handler } = consumer(r, clients, { crashy2: { maxAttempts: 2, handler: () => void ran++ } });
    const e = envelope('crashy2', {});
    await clients.dynamo.send(
      new PutItemCommand({
        TableName: r.tableName,
        Item: {
          pk: { S: e.id }, taskId: { S: e.id }, type: { S: 'crashy2' }, status: { S: 'IN_PROGRESS' }, attempts: { N: '2' },
          leaseUntil: { N: String(Date.now() - 120_000) }, createdAt: { S: e.createdAt }, updatedAt: { S: e.createdAt }, expiresAt: { N: '9999999999' },
        },
      }),
    );
    await sendTask(clients.sqs, r.queueUrl, e);
    expect((await handler(await receiveEvent(clients.sqs, r), fakeContext())).batchItemFailures).toEqual([]);
    expect(ran).toBe(0);
    expect(await taskRecord(clients.dynamo, r.tableName, e.id)).toMatchObject({ status: 'DEAD_LETTERED', attempts: 2, deadLetterReason: 'attempts-exhausted' });
    const dead = await receive(clients.sqs, r.deadLetterQueueUrl, 10, 1);
    expect(dead.some((m) => m.Body!.includes(e.id))).toBe(true);
  });

  it('logs carry ids, type and attempt — never the payload', async () => {
    const secret = 'card-4111111111111111';
    const { handler, captured } = consumer(r, clients, {
      leaky: { handler: () => { throw new Error('failed'); } },
      fine: { handler: () => undefined },
    });
    await sendTask(clients.sqs, r.queueUrl, envelope('leaky', { secret }));
    await sendTask(clients.sqs, r.queueUrl, envelope('fine', { secret }));
    await sendTask(clients.sqs, r.queueUrl, envelope('nobody', { secret }));
    const event = await receiveEvent(clients.sqs, r, 3);
    await handler({ Records: [...event.Records, { ...event.Records[0]!, messageId: 'broken', body: `{"secret":"${secret}"` }] }, fakeContext());
    expect(captured.logs.length).toBeGreaterThanOrEqual(4);
    expect(captured.text()).not.toContain(secret);
    expect(captured.logs.find((l) => l.message === 'task succeeded')?.fields).toMatchObject({ taskType: 'fine', attempt: 1 });
  });

  it('answers only with messageIds of the batch, once each', async () => {
    const { handler } = consumer(r, clients, { nope: { handler: () => { throw new Error('x'); } } });
    const e = envelope('nope', {});
    await sendTask(clients.sqs, r.queueUrl, e);
    const event = await receiveEvent(clients.sqs, r);
    const response = await handler({ Records: [...event.Records, { ...event.Records[0]!, messageId: '' }] }, fakeContext());
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: event.Records[0]!.messageId }]);
  });
});
