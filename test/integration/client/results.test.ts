/**
 * Results over the wire (issue 14.3): a handler's return value stored in the record or, when
 * larger than MAX_RESULT_BYTES, in S3; waitForResult / sendAndWait polling the record with
 * backoff; the typed rejections. Producer calls run as the producer role (grantSend +
 * grantStatusRead + grantCancel), the consumer's as the consumer role.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { TaskOutcomeError, TaskProducer } from '../../../lib/client/index.ts';
import { MAX_RESULT_BYTES } from '../../../lib/protocol/task-record.ts';
import { createTestResources, testClients, type TestResources } from '../../support/aws.ts';
import { actingAs, asTestHarness } from '../../support/iam/principals.ts';
import { consumer, invokeLikeLambda, receiveEvent, sleep, spy } from '../runtime/helpers.ts';

const clients = testClients();

describe('results', () => {
  let r: TestResources;
  let producer: TaskProducer;
  beforeAll(async () => {
    r = await createTestResources(clients);
    producer = actingAs('producer', new TaskProducer({ queueUrl: r.queueUrl, sqs: clients.sqs, s3: clients.s3, dynamo: clients.dynamo, bucketName: r.bucketName, tableName: r.tableName }));
  });

  const tasks = {
    add: { handler: (p: { a: number; b: number }) => ({ sum: p.a + p.b }) },
    report: { handler: (p: { rows: number }) => ({ rows: Array.from({ length: p.rows }, (_, i) => ({ i, label: `row ${i}` })) }) },
    broken: { maxAttempts: 1, handler: () => Promise.reject(new Error('boom')) },
  };

  /** One consumer pass over what is on the queue (as the event source mapping would). */
  async function consumeOnce(): Promise<void> {
    const { handler } = consumer(r, clients, tasks);
    const event = await receiveEvent(clients.sqs, r, 10, 2);
    if (event.Records.length > 0) await invokeLikeLambda(clients.sqs, r.queueUrl, handler, event);
  }

  it('sendAndWait resolves with a small result, kept in the record', async () => {
    const waiting = producer.sendAndWait<{ sum: number }>('add', { a: 2, b: 3 });
    await consumeOnce();
    expect(await waiting).toEqual({ sum: 5 });
  });

  it('a result larger than the record limit goes to S3 (results/<taskId>.json); status shows the reference, waitForResult reads it', async () => {
    const { taskId } = await producer.send('report', { rows: 100 });
    await consumeOnce();
    const status = await producer.getTaskStatus(taskId);
    expect(status.status).toBe('SUCCEEDED');
    expect(status.result).toBeUndefined();
    expect(status.resultRef).toMatchObject({ bucket: r.bucketName, key: `results/${taskId}.json` });
    expect(status.resultRef!.size).toBeGreaterThan(MAX_RESULT_BYTES);
    const result = await producer.waitForResult<{ rows: { i: number }[] }>(taskId);
    expect(result.rows).toHaveLength(100);
    expect(result.rows[99]).toEqual({ i: 99, label: 'row 99' });
    const stored = await asTestHarness(() => clients.s3.send(new GetObjectCommand({ Bucket: r.bucketName, Key: `results/${taskId}.json` })));
    expect(JSON.parse(await stored.Body!.transformToString())).toEqual(result);
  });

  it('rejects with TASK_DEAD_LETTERED (with the reason) and TASK_CANCELLED', async () => {
    const dead = await producer.send('broken', {});
    await consumeOnce();
    await expect(producer.waitForResult(dead.taskId)).rejects.toMatchObject({ code: 'TASK_DEAD_LETTERED', details: { deadLetterReason: 'attempts-exhausted' } });
    const cancelled = await producer.send('add', { a: 1, b: 1 });
    await producer.cancel(cancelled.taskId);
    const error = await producer.waitForResult(cancelled.taskId).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TaskOutcomeError);
    expect(error).toMatchObject({ code: 'TASK_CANCELLED', details: { status: 'CANCELLED' } });
    await consumeOnce(); // leave the queue empty for the next test
  });

  it('polls with backoff, not in a busy loop: a 3 s timeout takes a handful of reads, then WAIT_TIMEOUT', async () => {
    const calls = spy(clients.dynamo);
    const { taskId } = await producer.send('add', { a: 0, b: 0 });
    const started = Date.now();
    const error = await producer.waitForResult(taskId, { timeout: 3000 }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'WAIT_TIMEOUT', details: { status: 'PENDING' } });
    expect(Date.now() - started).toBeGreaterThanOrEqual(2900);
    const reads = calls.filter((c) => c.name === 'GetItemCommand' && c.input.Key.pk.S === taskId).length;
    // 0, 250, 625, 1188, 2031, 3000 ms: 6 reads (a busy loop would make hundreds).
    expect(reads).toBeGreaterThanOrEqual(5);
    expect(reads).toBeLessThanOrEqual(7);
  });

  it("the caller's signal stops the wait (WAIT_ABORTED); bad options are refused before any read", async () => {
    const { taskId } = await producer.send('add', { a: 0, b: 1 });
    const controller = new AbortController();
    const waiting = producer.waitForResult(taskId, { signal: controller.signal, timeout: 30_000 });
    await sleep(300);
    controller.abort();
    await expect(waiting).rejects.toMatchObject({ code: 'WAIT_ABORTED' });
    await expect(producer.waitForResult(taskId, { timeout: -1 })).rejects.toMatchObject({ code: 'INVALID_OPTIONS' });
    await consumeOnce();
    expect(await producer.waitForResult(taskId)).toEqual({ sum: 1 });
  });
});
