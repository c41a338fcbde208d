/**
 * Exactly-once effect under faults the emulators cannot produce on their own, injected at the
 * runtime's SDK wire (test/support/wire-faults.ts) while everything else is real: lost
 * responses of writes that were applied, item-level throttling that outlasts the retries,
 * non-retryable errors, access and KMS errors, and second deliveries of redriven copies.
 * Each test failed before the fix it pins (issue 10).
 */
import { describe, expect, it } from 'vitest';
import type { MessageAttributeValue } from '@aws-sdk/client-sqs';
import { COPY_ATTRIBUTES, DEAD_LETTER_ATTRIBUTES, MESSAGE_ATTRIBUTES, REDRIVE_ATTRIBUTES } from '../../../lib/protocol/attributes.ts';
import { encodeEnvelope } from '../../../lib/protocol/envelope.ts';
import { PermanentError } from '../../../lib/protocol/errors.ts';
import type { IdempotencyMode, RuntimeOptions, TaskDefinitions } from '../../../lib/runtime/config.ts';
import { createTestResources, testClients, type TestResources } from '../../support/aws.ts';
import { firstTimes, injectWireFaults, type FaultRule } from '../../support/wire-faults.ts';
import { consumer, envelope, fakeContext, receive, receiveEvent, sendRaw, sendTask, taskRecord } from './helpers.ts';

const clients = testClients();
const typeAttribute = (type: string): Record<string, MessageAttributeValue> => ({ [MESSAGE_ATTRIBUTES.taskType]: { DataType: 'String', StringValue: type } });

/** A consumer whose own clients carry the faults; the test's clients stay clean. */
function faultyConsumer(r: TestResources, tasks: TaskDefinitions, faults: { dynamo?: FaultRule; s3?: FaultRule; sqs?: FaultRule }, options: RuntimeOptions = {}) {
  const own = testClients();
  const injected = {
    dynamo: faults.dynamo ? injectWireFaults(own.dynamo, 'dynamodb', faults.dynamo) : [],
    s3: faults.s3 ? injectWireFaults(own.s3, 's3', faults.s3) : [],
    sqs: faults.sqs ? injectWireFaults(own.sqs, 'sqs', faults.sqs) : [],
  };
  return { ...consumer(r, own, tasks, options), injected };
}

const is = (name: string) => (commandName: string) => commandName === name;
const always = (match: (commandName: string) => boolean, fault: Parameters<typeof firstTimes>[2]): FaultRule => (name) => (match(name) ? fault : undefined);

describe('a success is acknowledged only once SUCCEEDED is durable (the table, or an outcome copy)', () => {
  it.each(['lease', 'record'] as IdempotencyMode[])('%s: completion writes unprocessed past every retry → an outcome copy carries SUCCEEDED; a later duplicate never runs', async (mode) => {
    const r = await createTestResources(clients);
    let runs = 0;
    const tasks = { charge: { idempotency: mode, handler: () => void runs++ } };
    const faulty = faultyConsumer(r, tasks, { dynamo: always(is('BatchWriteItemCommand'), { kind: 'unprocessed' }) });
    const e = envelope('charge', { cents: 100 });
    await sendTask(clients.sqs, r.queueUrl, e);
    expect((await faulty.handler(await receiveEvent(clients.sqs, r), fakeContext(5000))).batchItemFailures).toEqual([]);
    expect(runs).toBe(1);
    expect(faulty.injected.dynamo.length).toBeGreaterThan(1);
    // Not in the table yet…
    expect((await taskRecord(clients.dynamo, r.tableName, e.id))?.status).not.toBe('SUCCEEDED');
    // …but in the outcome copy, which a healthy consumer records without running the task.
    const [copy] = await receive(clients.sqs, r.queueUrl, 10, 1);
    expect(copy!.MessageAttributes![COPY_ATTRIBUTES.outcome]!.StringValue).toContain('SUCCEEDED');
    const healthy = consumer(r, clients, tasks);
    await sendRaw(clients.sqs, r.queueUrl, copy!.Body!, copy!.MessageAttributes);
    expect((await healthy.handler(await receiveEvent(clients.sqs, r), fakeContext())).batchItemFailures).toEqual([]);
    expect(await taskRecord(clients.dynamo, r.tableName, e.id)).toMatchObject({ status: 'SUCCEEDED', attempts: 1 });
    expect(runs).toBe(1);
    // A duplicate of the task now (after the lease would have ended): acknowledged, not run.
    await sendTask(clients.sqs, r.queueUrl, e);
    const dup = await receiveEvent(clients.sqs, r);
    dup.Records[0]!.attributes.ApproximateReceiveCount = '2';
    expect((await healthy.handler(dup, fakeContext())).batchItemFailures).toEqual([]);
    expect(runs).toBe(1);
  });

  it('a duplicate arriving just after the refused run\'s lease ended waits out the takeover grace: the outcome copy is recorded first', async () => {
    const r = await createTestResources(clients);
    let runs = 0;
    let now = Date.now();
    const clock = { now: () => now };
    const tasks = { charge: { handler: () => void runs++ } };
    const faulty = faultyConsumer(r, tasks, { dynamo: always(is('BatchWriteItemCommand'), { kind: 'unprocessed' }) }, { clock });
    const e = envelope('charge', {});
    await sendTask(clients.sqs, r.queueUrl, e);
    expect((await faulty.handler(await receiveEvent(clients.sqs, r), fakeContext(5000))).batchItemFailures).toEqual([]);
    const [copy] = await receive(clients.sqs, r.queueUrl, 1, 1);
    // 20 s later the lease (≈ 5 s of invocation + 5 s margin) has ended; a duplicate arrives first.
    now += 20_000;
    const healthy = consumer(r, clients, tasks, { clock });
    await sendTask(clients.sqs, r.queueUrl, e);
    const dup = await receiveEvent(clients.sqs, r);
    expect((await healthy.handler(dup, fakeContext())).batchItemFailures).toEqual([{ itemIdentifier: dup.Records[0]!.messageId }]);
    expect(runs).toBe(1);
    expect(healthy.captured.logs.find((l) => /re-delayed/.test(l.message))?.fields).toMatchObject({ why: 'another copy holds the lease' });
    // The outcome copy is recorded; the duplicate, back again, is acknowledged without running.
    await sendRaw(clients.sqs, r.queueUrl, copy!.Body!, copy!.MessageAttributes);
    expect((await healthy.handler(await receiveEvent(clients.sqs, r), fakeContext())).batchItemFailures).toEqual([]);
    expect((await healthy.handler(dup, fakeContext())).batchItemFailures).toEqual([]);
    expect(runs).toBe(1);
    expect(await taskRecord(clients.dynamo, r.tableName, e.id)).toMatchObject({ status: 'SUCCEEDED', attempts: 1 });
  });

  it('a non-retryable error on the completion write takes the same path; the outcome copy is idempotent', async () => {
    const r = await createTestResources(clients);
    let runs = 0;
    const tasks = { charge: { handler: () => void runs++ } };
    const faulty = faultyConsumer(r, tasks, { dynamo: always(is('BatchWriteItemCommand'), { kind: 'error', status: 400, code: 'ValidationException' }) });
    const e = envelope('charge', {});
    await sendTask(clients.sqs, r.queueUrl, e);
    expect((await faulty.handler(await receiveEvent(clients.sqs, r), fakeContext())).batchItemFailures).toEqual([]);
    const [copy] = await receive(clients.sqs, r.queueUrl, 10, 1);
    const healthy = consumer(r, clients, tasks);
    // Delivered twice (SQS at least once): recorded once, acknowledged both times.
    for (let i = 0; i < 2; i++) {
      await sendRaw(clients.sqs, r.queueUrl, copy!.Body!, copy!.MessageAttributes);
      expect((await healthy.handler(await receiveEvent(clients.sqs, r), fakeContext())).batchItemFailures).toEqual([]);
    }
    expect(await taskRecord(clients.dynamo, r.tableName, e.id)).toMatchObject({ status: 'SUCCEEDED', attempts: 1 });
    expect(runs).toBe(1);
  });

  it('when the outcome copy cannot be sent either, the record is not acknowledged', async () => {
    const r = await createTestResources(clients);
    const faulty = faultyConsumer(
      r,
      { charge: { handler: () => undefined } },
      { dynamo: always(is('BatchWriteItemCommand'), { kind: 'unprocessed' }), sqs: always(is('SendMessageCommand'), { kind: 'error', status: 400, code: 'AccessDenied' }) },
    );
    await sendTask(clients.sqs, r.queueUrl, envelope('charge', {}));
    const event = await receiveEvent(clients.sqs, r);
    expect((await faulty.handler(event, fakeContext(5000))).batchItemFailures).toEqual([{ itemIdentifier: event.Records[0]!.messageId }]);
  });

  it('a DEAD_LETTERED write the table refuses travels in an outcome copy; a redrive of it then runs with fresh attempts', async () => {
    const r = await createTestResources(clients);
    const attempts: number[] = [];
    let fixed = false;
    const tasks = {
      pay: {
        maxAttempts: 2,
        handler: (_p: unknown, ctx: { attempt: number }) => {
          attempts.push(ctx.attempt);
          if (!fixed) throw new PermanentError('card declined');
        },
      },
    };
    const faulty = faultyConsumer(r, tasks, { dynamo: always(is('BatchWriteItemCommand'), { kind: 'unprocessed' }) });
    const e = envelope('pay', {});
    await sendTask(clients.sqs, r.queueUrl, e);
    expect((await faulty.handler(await receiveEvent(clients.sqs, r), fakeContext(5000))).batchItemFailures).toEqual([]);
    const [dead] = await receive(clients.sqs, r.deadLetterQueueUrl, 1, 1);
    const deadLetterId = dead!.MessageAttributes![DEAD_LETTER_ATTRIBUTES.deadLetterId]!.StringValue!;
    const healthy = consumer(r, clients, tasks);
    expect((await healthy.handler(await receiveEvent(clients.sqs, r), fakeContext())).batchItemFailures).toEqual([]);
    expect(await taskRecord(clients.dynamo, r.tableName, e.id)).toMatchObject({ status: 'DEAD_LETTERED', deadLetterId, attempts: 1 });
    fixed = true;
    await sendRaw(clients.sqs, r.queueUrl, dead!.Body!, dead!.MessageAttributes);
    expect((await healthy.handler(await receiveEvent(clients.sqs, r), fakeContext())).batchItemFailures).toEqual([]);
    expect(attempts).toEqual([1, 1]);
    expect(await taskRecord(clients.dynamo, r.tableName, e.id)).toMatchObject({ status: 'SUCCEEDED', attempts: 1, redriveId: deadLetterId });
  });

  it('the batch write retries a connection reset the SDK gave up on (an error named Error with code ECONNRESET)', async () => {
    const r = await createTestResources(clients);
    // More resets than the SDK's own tries per call: the SDK gives up, the runtime's own retry then succeeds.
    const faulty = faultyConsumer(r, { charge: { handler: () => undefined } }, { dynamo: firstTimes(6, is('BatchWriteItemCommand'), { kind: 'reset' }) });
    const e = envelope('charge', {});
    await sendTask(clients.sqs, r.queueUrl, e);
    expect((await faulty.handler(await receiveEvent(clients.sqs, r), fakeContext())).batchItemFailures).toEqual([]);
    expect(faulty.injected.dynamo).toHaveLength(6);
    expect(await taskRecord(clients.dynamo, r.tableName, e.id)).toMatchObject({ status: 'SUCCEEDED' });
    expect(await receive(clients.sqs, r.queueUrl, 10, 0)).toEqual([]); // no outcome copy was needed
  });
});

describe('a lease-taking write whose response was lost is recognised as our own lease', () => {
  it('the batched INSERT: the handler runs (maxAttempts 1 is not spent on a phantom crash)', async () => {
    const r = await createTestResources(clients);
    let runs = 0;
    const tasks = { once: { maxAttempts: 1, handler: () => void runs++ } };
    const faulty = faultyConsumer(r, tasks, { dynamo: firstTimes(1, is('BatchExecuteStatementCommand'), { kind: 'lose-response' }) });
    const e = envelope('once', {});
    await sendTask(clients.sqs, r.queueUrl, e);
    expect((await faulty.handler(await receiveEvent(clients.sqs, r), fakeContext())).batchItemFailures).toEqual([]);
    expect(faulty.injected.dynamo).toEqual([{ commandName: 'BatchExecuteStatementCommand', fault: 'lose-response' }]);
    expect(runs).toBe(1);
    expect(await taskRecord(clients.dynamo, r.tableName, e.id)).toMatchObject({ status: 'SUCCEEDED', attempts: 1 });
  });

  it('the conditional UpdateItem of a redelivery', async () => {
    const r = await createTestResources(clients);
    let runs = 0;
    const tasks = { once: { maxAttempts: 1, handler: () => void runs++ } };
    const faulty = faultyConsumer(r, tasks, { dynamo: firstTimes(1, is('UpdateItemCommand'), { kind: 'lose-response' }) });
    const e = envelope('once', {});
    await sendTask(clients.sqs, r.queueUrl, e);
    const event = await receiveEvent(clients.sqs, r);
    event.Records[0]!.attributes.ApproximateReceiveCount = '2'; // a redelivery takes the UpdateItem path
    expect((await faulty.handler(event, fakeContext())).batchItemFailures).toEqual([]);
    expect(faulty.injected.dynamo).toHaveLength(1);
    expect(runs).toBe(1);
    expect(await taskRecord(clients.dynamo, r.tableName, e.id)).toMatchObject({ status: 'SUCCEEDED', attempts: 1 });
  });

  it('the reset of a redrive', async () => {
    const r = await createTestResources(clients);
    const attempts: number[] = [];
    let fixed = false;
    const tasks = {
      pay: {
        maxAttempts: 1,
        handler: (_p: unknown, ctx: { attempt: number }) => {
          attempts.push(ctx.attempt);
          if (!fixed) throw new PermanentError('declined');
        },
      },
    };
    const e = envelope('pay', {});
    await sendTask(clients.sqs, r.queueUrl, e);
    await consumer(r, clients, tasks).handler(await receiveEvent(clients.sqs, r), fakeContext());
    const [dead] = await receive(clients.sqs, r.deadLetterQueueUrl, 1, 1);
    fixed = true;
    // The write that resets the task (attempts back to 1) is applied, and its response lost.
    const resets = (name: string, input: { UpdateExpression?: string }) => name === 'UpdateItemCommand' && /#a = :one/.test(input.UpdateExpression ?? '');
    const faulty = faultyConsumer(r, tasks, { dynamo: firstTimes(1, resets, { kind: 'lose-response' }) });
    await sendRaw(clients.sqs, r.queueUrl, dead!.Body!, dead!.MessageAttributes);
    expect((await faulty.handler(await receiveEvent(clients.sqs, r), fakeContext())).batchItemFailures).toEqual([]);
    expect(faulty.injected.dynamo).toHaveLength(1);
    expect(attempts).toEqual([1, 1]);
    expect(await taskRecord(clients.dynamo, r.tableName, e.id)).toMatchObject({ status: 'SUCCEEDED', attempts: 1 });
  });
});

describe('a redrive is consumed once', () => {
  async function deadLetteredOnce(r: TestResources, handler: ReturnType<typeof consumer>['handler']) {
    const e = envelope('pay', {});
    await sendTask(clients.sqs, r.queueUrl, e);
    await handler(await receiveEvent(clients.sqs, r), fakeContext());
    const [dead] = await receive(clients.sqs, r.deadLetterQueueUrl, 1, 1);
    return { e, dead: dead! };
  }

  it.each(['lease', 'record'] as IdempotencyMode[])('%s: an SQS duplicate of a redriven copy, after the redriven run was dead-lettered again, is a leftover', async (mode) => {
    const r = await createTestResources(clients);
    const attempts: number[] = [];
    const tasks = { pay: { idempotency: mode, handler: (_p: unknown, ctx: { attempt: number }) => { attempts.push(ctx.attempt); throw new PermanentError('declined'); } } };
    const { handler } = consumer(r, clients, tasks);
    const { e, dead } = await deadLetteredOnce(r, handler);
    // The operator redrives (as StartMessageMoveTask: attributes kept); SQS delivers that copy twice.
    for (let i = 0; i < 2; i++) {
      await sendRaw(clients.sqs, r.queueUrl, dead.Body!, dead.MessageAttributes);
      expect((await handler(await receiveEvent(clients.sqs, r), fakeContext())).batchItemFailures).toEqual([]);
    }
    expect(attempts).toEqual([1, 1]);
    expect(await receive(clients.sqs, r.deadLetterQueueUrl, 10, 1)).toHaveLength(1); // the redriven run's dead letter only
    expect(await taskRecord(clients.dynamo, r.tableName, e.id)).toMatchObject({ status: 'DEAD_LETTERED' });
  });

  it('a move task carrying two DLQ copies of one dead-lettering resets the task once', async () => {
    const r = await createTestResources(clients);
    let runs = 0;
    const { handler } = consumer(r, clients, { pay: { handler: () => { runs++; throw new PermanentError('declined'); } } });
    const { e, dead } = await deadLetteredOnce(r, handler);
    // Two copies in the DLQ with the same dead-letter id (a send the SDK retried), both moved back.
    await sendRaw(clients.sqs, r.queueUrl, dead.Body!, dead.MessageAttributes);
    await sendRaw(clients.sqs, r.queueUrl, dead.Body!, dead.MessageAttributes);
    const both = await receiveEvent(clients.sqs, r, 2);
    expect(both.Records).toHaveLength(2);
    for (const record of both.Records) expect((await handler({ Records: [record] }, fakeContext())).batchItemFailures).toEqual([]);
    // The first copy ran (and was dead-lettered again); the second is a leftover of the same redrive.
    expect(runs).toBe(2);
    expect(await receive(clients.sqs, r.deadLetterQueueUrl, 10, 1)).toHaveLength(1);
    expect(await taskRecord(clients.dynamo, r.tableName, e.id)).toMatchObject({ status: 'DEAD_LETTERED' });
  });

  it('a CLI redrive (taskq.redriveId) of the same dead-lettering counts as the same redrive', async () => {
    const r = await createTestResources(clients);
    const attempts: number[] = [];
    const { handler } = consumer(r, clients, { pay: { handler: (_p: unknown, ctx: { attempt: number }) => { attempts.push(ctx.attempt); throw new PermanentError('declined'); } } });
    const { dead } = await deadLetteredOnce(r, handler);
    const id = dead.MessageAttributes![DEAD_LETTER_ATTRIBUTES.deadLetterId]!.StringValue!;
    const byCli = { ...typeAttribute('pay'), [REDRIVE_ATTRIBUTES.redriveId]: { DataType: 'String', StringValue: id }, [REDRIVE_ATTRIBUTES.redrivenAt]: { DataType: 'String', StringValue: new Date().toISOString() } };
    await sendRaw(clients.sqs, r.queueUrl, dead.Body!, byCli);
    await handler(await receiveEvent(clients.sqs, r), fakeContext());
    // The same dead-lettering moved back again by a move task: already consumed.
    await sendRaw(clients.sqs, r.queueUrl, dead.Body!, dead.MessageAttributes);
    await handler(await receiveEvent(clients.sqs, r), fakeContext());
    expect(attempts).toEqual([1, 1]);
  });
});

describe('errors that retrying cannot fix end in the DLQ with their reason; returns without an attempt are bounded', () => {
  it('S3 AccessDenied or a KMS error on an Extended Client pointer → claim-unreadable at once, no re-delay', async () => {
    const r = await createTestResources(clients);
    for (const code of ['AccessDenied', 'KMS.DisabledException']) {
      const faulty = faultyConsumer(r, { ext: { handler: () => undefined } }, { s3: always(is('GetObjectCommand'), { kind: 'error', status: 403, code }) });
      const pointer = JSON.stringify(['software.amazon.payloadoffloading.PayloadS3Pointer', { s3BucketName: r.bucketName, s3Key: `claims/${code}.json` }]);
      await sendRaw(clients.sqs, r.queueUrl, pointer, { ExtendedPayloadSize: { DataType: 'Number', StringValue: '10' } });
      expect((await faulty.handler(await receiveEvent(clients.sqs, r), fakeContext())).batchItemFailures).toEqual([]);
      const [dead] = await receive(clients.sqs, r.deadLetterQueueUrl, 1, 1);
      expect(dead!.MessageAttributes![DEAD_LETTER_ATTRIBUTES.reason]!.StringValue).toBe('claim-unreadable');
      expect(dead!.MessageAttributes![DEAD_LETTER_ATTRIBUTES.lastError]!.StringValue).toContain(code);
    }
  });

  it('S3 AccessDenied on a payloadRef → claim-unreadable on the first attempt, not attempts-exhausted after five', async () => {
    const r = await createTestResources(clients);
    const faulty = faultyConsumer(r, { big: { handler: () => undefined } }, { s3: always(is('GetObjectCommand'), { kind: 'error', status: 403, code: 'AccessDenied' }) });
    const e = envelope('big', undefined);
    delete (e as { payload?: unknown }).payload;
    const withRef = { ...e, payloadRef: { bucket: r.bucketName, key: `claims/${e.id}.json`, size: 2, sha256: 'a'.repeat(64), exclusive: true } };
    await sendRaw(clients.sqs, r.queueUrl, encodeEnvelope(withRef), typeAttribute('big'));
    expect((await faulty.handler(await receiveEvent(clients.sqs, r), fakeContext())).batchItemFailures).toEqual([]);
    const [dead] = await receive(clients.sqs, r.deadLetterQueueUrl, 1, 1);
    expect(dead!.MessageAttributes![DEAD_LETTER_ATTRIBUTES.reason]!.StringValue).toBe('claim-unreadable');
    expect(dead!.MessageAttributes![DEAD_LETTER_ATTRIBUTES.attempts]!.StringValue).toBe('1');
  });

  it('a table that denies access: re-sent copies carry the receives so far, and the bound dead-letters the task as table-unavailable', async () => {
    const r = await createTestResources(clients);
    let runs = 0;
    const denied = always((name) => name !== '', { kind: 'error', status: 400, code: 'AccessDeniedException', message: 'not authorized to perform dynamodb:PartiQLInsert' });
    const faulty = faultyConsumer(r, { t: { maxAttempts: 2, handler: () => void runs++ } }, { dynamo: denied }, {
      maxReceiveCount: 3,
      maxNoAttemptReturns: 4,
      backoff: { baseSeconds: 1, capSeconds: 1, jitter: 'none' },
    });
    const e = envelope('t', {});
    await sendTask(clients.sqs, r.queueUrl, e);
    // Last receive of the first copy: re-sent as a fresh copy that carries its 3 receives.
    const first = await receiveEvent(clients.sqs, r);
    first.Records[0]!.attributes.ApproximateReceiveCount = '3';
    expect((await faulty.handler(first, fakeContext())).batchItemFailures).toEqual([]);
    const [copy] = await receive(clients.sqs, r.queueUrl, 1, 4);
    expect(copy!.MessageAttributes![COPY_ATTRIBUTES.priorReceives]!.StringValue).toBe('3');
    // Its third receive makes 6 = maxAttempts 2 + maxNoAttemptReturns 4: dead-lettered with the cause.
    await sendRaw(clients.sqs, r.queueUrl, copy!.Body!, copy!.MessageAttributes);
    const last = await receiveEvent(clients.sqs, r);
    last.Records[0]!.attributes.ApproximateReceiveCount = '3';
    expect((await faulty.handler(last, fakeContext())).batchItemFailures).toEqual([]);
    const [dead] = await receive(clients.sqs, r.deadLetterQueueUrl, 1, 1);
    expect(dead!.MessageAttributes![DEAD_LETTER_ATTRIBUTES.reason]!.StringValue).toBe('table-unavailable');
    expect(dead!.MessageAttributes![DEAD_LETTER_ATTRIBUTES.lastError]!.StringValue).toMatch(/received 6 times.*AccessDeniedException/);
    expect(runs).toBe(0);
  });

  it('a task that keeps coming back is measured from its createdAt (UnfinishedTaskAge), not from the fresh copy', async () => {
    const r = await createTestResources(clients);
    const faulty = faultyConsumer(r, { t: { handler: () => undefined } }, { dynamo: always(() => true, { kind: 'error', status: 400, code: 'AccessDeniedException' }) });
    const twoHoursAgo = new Date(Date.now() - 2 * 3600_000).toISOString();
    await sendTask(clients.sqs, r.queueUrl, envelope('t', {}, { createdAt: twoHoursAgo }));
    await faulty.handler(await receiveEvent(clients.sqs, r), fakeContext());
    const ages = faulty.captured.metrics.flatMap((m) => m.get('t')?.unfinishedTaskAge ?? []);
    expect(ages).toHaveLength(1);
    expect(ages[0]).toBeGreaterThanOrEqual(7200);
    expect(ages[0]).toBeLessThan(7300);
  });

  it('below the bound, a table error is a re-delay that uses no attempt and backs off with the receives', async () => {
    const r = await createTestResources(clients);
    const faulty = faultyConsumer(r, { t: { handler: () => undefined } }, { dynamo: always(() => true, { kind: 'error', status: 400, code: 'AccessDeniedException' }) });
    await sendTask(clients.sqs, r.queueUrl, envelope('t', {}));
    const event = await receiveEvent(clients.sqs, r);
    expect((await faulty.handler(event, fakeContext())).batchItemFailures).toHaveLength(1);
    expect(await receive(clients.sqs, r.deadLetterQueueUrl, 10, 0)).toEqual([]);
  });
});
