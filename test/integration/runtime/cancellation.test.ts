/**
 * Cancellation over the wire (issue 14.2): the producer's cancel against the task table, and
 * consumers (two instances, as two Lambda containers) acknowledging, aborting or refusing —
 * on fauxqs and DynamoDB Local, every call evaluated against the synthesized policies.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { TaskProducer, TaskOutcomeError } from '../../../lib/client/index.ts';
import { encodeEnvelope } from '../../../lib/protocol/envelope.ts';
import { MESSAGE_ATTRIBUTES, REDRIVE_ATTRIBUTES } from '../../../lib/protocol/attributes.ts';
import { TaskCancelledError } from '../../../lib/protocol/errors.ts';
import type { TaskDefinitions } from '../../../lib/runtime/index.ts';
import { createTestResources, testClients, type TestResources } from '../../support/aws.ts';
import { actingAs, asTestHarness } from '../../support/iam/principals.ts';
import { consumer, envelope, fakeContext, invokeLikeLambda, receive, receiveEvent, sendRaw, sendTask, sleep, taskRecord } from './helpers.ts';

const clients = testClients();

function producerFor(r: TestResources, extra: Partial<ConstructorParameters<typeof TaskProducer>[0]> = {}): TaskProducer {
  return actingAs('producer', new TaskProducer({ queueUrl: r.queueUrl, sqs: clients.sqs, s3: clients.s3, dynamo: clients.dynamo, bucketName: r.bucketName, tableName: r.tableName, ...extra }));
}

/** Two consumer instances of the same task definitions (two containers taking batches side by side). */
function twoConsumers(r: TestResources, tasks: TaskDefinitions, options: Parameters<typeof consumer>[3] = {}) {
  return [consumer(r, clients, tasks, options), consumer(r, clients, tasks, options)] as const;
}

describe('cancellation', () => {
  let r: TestResources;
  beforeAll(async () => {
    r = await createTestResources(clients, { visibilityTimeout: 2 });
  });

  it('a task cancelled before it started never runs: its copies, a duplicate and a redrive are acknowledged by concurrent consumers', async () => {
    let runs = 0;
    const [a, b] = twoConsumers(r, { work: { handler: () => void runs++ } });
    const producer = producerFor(r);
    const { taskId } = await producer.send('work', { n: 1 });
    const cancelled = await producer.cancel(taskId);
    expect(cancelled).toEqual({ taskId, idempotencyKey: taskId, status: 'CANCELLED', wasRunning: false, alreadyCancelled: false });
    expect(await producer.getTaskStatus(taskId)).toMatchObject({ taskId, status: 'CANCELLED', cancelledAt: expect.any(String) });

    // The queue holds the sent copy; add an SQS-style duplicate and a redriven copy of the same task.
    const [sent] = await receive(clients.sqs, r.queueUrl, 1, 2);
    const body = sent!.Body!;
    await sendRaw(clients.sqs, r.queueUrl, body, { [MESSAGE_ATTRIBUTES.taskType]: { DataType: 'String', StringValue: 'work' } });
    await sendRaw(clients.sqs, r.queueUrl, body, {
      [MESSAGE_ATTRIBUTES.taskType]: { DataType: 'String', StringValue: 'work' },
      [REDRIVE_ATTRIBUTES.redrivenAt]: { DataType: 'String', StringValue: new Date().toISOString() },
    });
    await sleep(2200); // the received copy becomes visible again
    const event = await receiveEvent(clients.sqs, r, 3, 2);
    expect(event.Records).toHaveLength(3);
    // Each copy in its own invocation, side by side (copies of one task in one batch wait for each other).
    const responses = await Promise.all(event.Records.map((record, i) => invokeLikeLambda(clients.sqs, r.queueUrl, (i % 2 === 0 ? a : b).handler, { Records: [record] })));
    expect(responses.flatMap((x) => x.batchItemFailures)).toEqual([]);
    expect(runs).toBe(0);
    expect(await receive(clients.sqs, r.queueUrl, 10, 3)).toHaveLength(0);
    expect(await taskRecord(clients.dynamo, r.tableName, taskId)).toMatchObject({ status: 'CANCELLED', attempts: 0 });
    expect(a.captured.text() + b.captured.text()).toContain('copy of a cancelled task acknowledged without running');
  });

  it('cancel is idempotent, works by idempotency key, and refuses a task that finished (TASK_FINISHED, with the status)', async () => {
    const producer = producerFor(r);
    const { taskId, idempotencyKey } = await producer.send('work', {}, { idempotencyKey: `order-${Date.now()}` });
    await producer.cancel(taskId, { idempotencyKey });
    expect(await producer.cancel(taskId, { idempotencyKey })).toMatchObject({ status: 'CANCELLED', alreadyCancelled: true, idempotencyKey });

    const { handler } = consumer(r, clients, { done: { handler: () => ({ ok: true }) }, bad: { handler: () => Promise.reject(new Error('no')), maxAttempts: 1 } });
    const ok = await producer.send('done', {});
    const dead = await producer.send('bad', {});
    await invokeLikeLambda(clients.sqs, r.queueUrl, handler, await receiveEvent(clients.sqs, r, 3, 2));
    for (const [id, status] of [
      [ok.taskId, 'SUCCEEDED'],
      [dead.taskId, 'DEAD_LETTERED'],
    ] as const) {
      const error = await producer.cancel(id).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TaskOutcomeError);
      expect(error).toMatchObject({ code: 'TASK_FINISHED', details: { taskId: id, status } });
      expect((await taskRecord(clients.dynamo, r.tableName, id))!.status).toBe(status);
    }
  });

  it('a running task sees ctx.signal abort at the next periodic check, ends CANCELLED, and a later copy never runs it again', async () => {
    let runs = 0;
    let reason: unknown;
    const tasks: TaskDefinitions = {
      long: {
        handler: (_p, ctx) =>
          new Promise((_, reject) => {
            runs++;
            ctx.signal.addEventListener('abort', () => {
              reason = ctx.signal.reason;
              reject(ctx.signal.reason as Error);
            });
          }),
      },
    };
    const [a, b] = twoConsumers(r, tasks, { cancelCheckIntervalMs: 200 });
    const producer = producerFor(r);
    const { taskId } = await producer.send('long', {});
    const running = invokeLikeLambda(clients.sqs, r.queueUrl, a.handler, await receiveEvent(clients.sqs, r, 1, 2), fakeContext(20_000));
    for (let i = 0; i < 200 && runs === 0; i++) await sleep(10);
    const started = Date.now();
    const result = await producer.cancel(taskId);
    expect(result.wasRunning).toBe(true);
    const response = await running;
    expect(Date.now() - started).toBeLessThan(2000);
    expect(response.batchItemFailures).toEqual([]); // acknowledged, not retried
    expect(reason).toBeInstanceOf(TaskCancelledError);
    expect(await taskRecord(clients.dynamo, r.tableName, taskId)).toMatchObject({ status: 'CANCELLED', attempts: 1 });
    // A duplicate delivered to the other consumer is acknowledged unrun.
    const e = { v: 1, id: taskId, type: 'long', payload: {}, createdAt: new Date().toISOString() } as const;
    await sendRaw(clients.sqs, r.queueUrl, encodeEnvelope(e), { [MESSAGE_ATTRIBUTES.taskType]: { DataType: 'String', StringValue: 'long' } });
    expect((await invokeLikeLambda(clients.sqs, r.queueUrl, b.handler, await receiveEvent(clients.sqs, r, 1, 2))).batchItemFailures).toEqual([]);
    expect(runs).toBe(1);
  });

  it('ctx.checkCancelled() reads the record at the handler\'s request (periodic check off)', async () => {
    const producer = producerFor(r);
    const seen: boolean[] = [];
    const { handler } = consumer(
      r,
      clients,
      {
        steps: {
          handler: async (p: { cancelFirst: boolean }, ctx) => {
            seen.push(await ctx.checkCancelled());
            if (p.cancelFirst) await producer.cancel(ctx.taskId);
            const now = await ctx.checkCancelled();
            seen.push(now, ctx.signal.aborted);
            if (now) throw ctx.signal.reason;
            return 'done';
          },
        },
      },
      { cancelCheckIntervalMs: 0 },
    );
    const e = envelope('steps', { cancelFirst: true });
    await sendTask(clients.sqs, r.queueUrl, e);
    expect((await invokeLikeLambda(clients.sqs, r.queueUrl, handler, await receiveEvent(clients.sqs, r, 1, 2))).batchItemFailures).toEqual([]);
    expect(seen).toEqual([false, true, true]);
    expect((await taskRecord(clients.dynamo, r.tableName, e.id))!.status).toBe('CANCELLED');
  });

  it('a cancel that lands after the handler failed, before its RETRYING write, is not overwritten: the retry never runs', async () => {
    const producer = producerFor(r);
    let runs = 0;
    const tasks: TaskDefinitions = {
      flaky: {
        handler: async (_p, ctx) => {
          runs++;
          // The cancel arrives while the handler is failing; the periodic check is off, so the
          // runtime does not see it before it writes the outcome.
          await producer.cancel(ctx.taskId);
          throw new Error('transient');
        },
      },
    };
    const { handler } = consumer(r, clients, tasks, { cancelCheckIntervalMs: 0 });
    const e = envelope('flaky', {});
    await sendTask(clients.sqs, r.queueUrl, e);
    const first = await invokeLikeLambda(clients.sqs, r.queueUrl, handler, await receiveEvent(clients.sqs, r, 1, 2));
    expect(first.batchItemFailures).toHaveLength(1); // a retry, as the handler failed
    expect((await taskRecord(clients.dynamo, r.tableName, e.id))!.status).toBe('CANCELLED');
    // The retry comes back after its backoff (1 s): acknowledged without running.
    const again = await receiveEvent(clients.sqs, r, 1, 5);
    expect(again.Records).toHaveLength(1);
    expect((await invokeLikeLambda(clients.sqs, r.queueUrl, handler, again)).batchItemFailures).toEqual([]);
    expect(runs).toBe(1);
  });

  it('a handler that ignores the signal and returns ends SUCCEEDED (the documented window)', async () => {
    const producer = producerFor(r);
    const { handler } = consumer(
      r,
      clients,
      {
        stubborn: {
          handler: async (_p, ctx) => {
            await producer.cancel(ctx.taskId);
            await ctx.checkCancelled();
            return { finished: true };
          },
        },
      },
      { cancelCheckIntervalMs: 0 },
    );
    const e = envelope('stubborn', {});
    await sendTask(clients.sqs, r.queueUrl, e);
    expect((await invokeLikeLambda(clients.sqs, r.queueUrl, handler, await receiveEvent(clients.sqs, r, 1, 2))).batchItemFailures).toEqual([]);
    expect(await taskRecord(clients.dynamo, r.tableName, e.id)).toMatchObject({ status: 'SUCCEEDED', result: '{"finished":true}' });
  });

  it('the claim object of a cancelled task is deleted by the copy that acknowledges it (after verifying it is its own)', async () => {
    const producer = producerFor(r, { claimCheckThresholdBytes: 1024 });
    const { handler } = consumer(r, clients, { big: { handler: () => undefined } });
    const { taskId } = await producer.send('big', { blob: 'x'.repeat(4000) });
    await producer.cancel(taskId);
    const event = await receiveEvent(clients.sqs, r, 1, 2);
    expect(event.Records).toHaveLength(1);
    const body = JSON.parse(event.Records[0]!.body) as { id: string; payloadRef: { key: string } };
    expect(body.id).toBe(taskId);
    const key = body.payloadRef.key;
    const head = () => asTestHarness(() => clients.s3.send(new HeadObjectCommand({ Bucket: r.bucketName, Key: key })));
    await expect(head()).resolves.toBeDefined();
    expect((await invokeLikeLambda(clients.sqs, r.queueUrl, handler, event)).batchItemFailures).toEqual([]);
    await expect(head()).rejects.toThrow();
  });
});
