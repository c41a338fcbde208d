/**
 * The local event-source poller against fauxqs, rule by rule, with fake handlers.
 * Each test uses its own queue, so files and tests never see each other's messages.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { GetQueueAttributesCommand, SendMessageBatchCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import type { Context, SQSEvent } from 'aws-lambda';
import { EventSourcePoller, type EventSourcePollerOptions, type InvocationResult } from '../../../lib/local/event-source-poller.ts';
import { createTestResources, emulatorEndpoints, testClients, type TestResources } from '../../support/aws.ts';

const clients = testClients();
const pollers: EventSourcePoller[] = [];

afterEach(async () => {
  await Promise.all(pollers.splice(0).map((p) => p.stop()));
});

interface Harness {
  resources: TestResources;
  results: InvocationResult[];
  events: SQSEvent[];
  poller: EventSourcePoller;
}

async function setUp(
  handler: EventSourcePollerOptions['handler'],
  options: Partial<EventSourcePollerOptions> & { visibilityTimeout?: number; fifo?: boolean; start?: boolean } = {},
): Promise<Harness> {
  const resources = await createTestResources(clients, { visibilityTimeout: options.visibilityTimeout ?? 30, fifo: options.fifo ?? false, maxReceiveCount: 100 });
  const results: InvocationResult[] = [];
  const events: SQSEvent[] = [];
  const poller = new EventSourcePoller({
    sqs: clients.sqs,
    queueUrl: resources.queueUrl,
    queueArn: resources.queueArn,
    region: emulatorEndpoints().region,
    function: { name: 'consumer-test', timeoutSeconds: 5, memoryMB: 256 },
    reportBatchItemFailures: true,
    ...options,
    handler: (event, context) => {
      events.push(structuredClone(event));
      return handler(event, context);
    },
    onInvocation: (result) => results.push(result),
    onError: (error, during) => console.error(`poller ${during} error`, error),
  });
  pollers.push(poller);
  if (options.start !== false) poller.start();
  return { resources, results, events, poller };
}

async function send(queueUrl: string, bodies: string[]): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < bodies.length; i += 10) {
    const response = await clients.sqs.send(
      new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: bodies.slice(i, i + 10).map((body, j) => ({ Id: String(j), MessageBody: body })) }),
    );
    expect(response.Failed ?? []).toEqual([]);
    ids.push(...response.Successful!.map((s) => s.MessageId!));
  }
  return ids;
}

async function waitFor<T>(probe: () => T | undefined | false, timeoutMs = 10_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function queueCounts(queueUrl: string): Promise<{ visible: number; inFlight: number }> {
  const r = await clients.sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
  );
  return { visible: Number(r.Attributes!.ApproximateNumberOfMessages), inFlight: Number(r.Attributes!.ApproximateNumberOfMessagesNotVisible) };
}

/** Stops the poller, then counts what is left on the queue, visible or in flight. */
async function remainingAfterStop(h: Harness): Promise<{ visible: number; inFlight: number }> {
  await h.poller.stop();
  return queueCounts(h.resources.queueUrl);
}

describe('event-source poller: event and context shape', () => {
  it('delivers Lambda-shaped records and a context counting down from the function timeout', async () => {
    let remainingAtStart = -1;
    let remainingLater = -1;
    let seenContext: Context | undefined;
    const h = await setUp(async (_event, context) => {
      seenContext = context;
      remainingAtStart = context.getRemainingTimeInMillis();
      await new Promise((r) => setTimeout(r, 120));
      remainingLater = context.getRemainingTimeInMillis();
      return { batchItemFailures: [] };
    });
    const sent = await clients.sqs.send(
      new SendMessageCommand({
        QueueUrl: h.resources.queueUrl,
        MessageBody: '{"hello":"world"}',
        MessageAttributes: {
          taskType: { DataType: 'String', StringValue: 'send_email' },
          size: { DataType: 'Number', StringValue: '42' },
          blob: { DataType: 'Binary', BinaryValue: Buffer.from([0, 1, 2, 250]) },
        },
      }),
    );
    await waitFor(() => h.results.length === 1, 10_000, 'one invocation');
    const record = h.events[0]!.Records[0]!;
    expect(record).toMatchObject({
      messageId: sent.MessageId,
      body: '{"hello":"world"}',
      md5OfBody: sent.MD5OfMessageBody,
      md5OfMessageAttributes: sent.MD5OfMessageAttributes,
      eventSource: 'aws:sqs',
      eventSourceARN: h.resources.queueArn,
      awsRegion: emulatorEndpoints().region,
    });
    expect(record.receiptHandle).toEqual(expect.any(String));
    expect(record.attributes.ApproximateReceiveCount).toBe('1');
    expect(Number(record.attributes.SentTimestamp)).toBeGreaterThan(Date.now() - 60_000);
    expect(Number(record.attributes.ApproximateFirstReceiveTimestamp)).toBeGreaterThanOrEqual(Number(record.attributes.SentTimestamp));
    expect(record.attributes.SenderId).toEqual(expect.any(String));
    expect(record.messageAttributes).toEqual({
      taskType: { stringValue: 'send_email', stringListValues: [], binaryListValues: [], dataType: 'String' },
      size: { stringValue: '42', stringListValues: [], binaryListValues: [], dataType: 'Number' },
      blob: { binaryValue: Buffer.from([0, 1, 2, 250]).toString('base64'), stringListValues: [], binaryListValues: [], dataType: 'Binary' },
    });
    expect(seenContext).toMatchObject({
      functionName: 'consumer-test',
      functionVersion: '$LATEST',
      memoryLimitInMB: '256',
      logGroupName: '/aws/lambda/consumer-test',
      invokedFunctionArn: `arn:aws:lambda:${emulatorEndpoints().region}:000000000000:function:consumer-test`,
    });
    expect(seenContext!.awsRequestId).toBe(h.results[0]!.requestId);
    expect(remainingAtStart).toBeGreaterThan(4_500);
    expect(remainingAtStart).toBeLessThanOrEqual(5_000);
    expect(remainingLater).toBeLessThanOrEqual(remainingAtStart - 100);
  });

  it('adds MessageGroupId, MessageDeduplicationId and SequenceNumber for a FIFO queue', async () => {
    const h = await setUp(async () => undefined, { fifo: true });
    await clients.sqs.send(
      new SendMessageCommand({ QueueUrl: h.resources.queueUrl, MessageBody: 'f', MessageGroupId: 'g1', MessageDeduplicationId: 'd1' }),
    );
    await waitFor(() => h.results.length === 1, 10_000, 'one invocation');
    const attributes = h.events[0]!.Records[0]!.attributes;
    expect(attributes.MessageGroupId).toBe('g1');
    expect(attributes.MessageDeduplicationId).toBe('d1');
    expect(attributes.SequenceNumber).toMatch(/^\d+$/);
  });
});

describe('event-source poller: what gets deleted', () => {
  it('deletes the whole batch when the handler succeeds', async () => {
    const h = await setUp(async () => ({ batchItemFailures: [] }));
    await send(h.resources.queueUrl, ['a', 'b', 'c']);
    await waitFor(() => h.results.flatMap((r) => r.deleted).length === 3, 10_000, 'three deletions');
    expect(h.results.every((r) => r.outcome === 'success')).toBe(true);
    expect(await remainingAfterStop(h)).toEqual({ visible: 0, inFlight: 0 });
  });

  it('with ReportBatchItemFailures deletes only the records not reported, and the reported ones return', async () => {
    let calls = 0;
    const h = await setUp(async (event) => {
      calls++;
      return calls === 1 ? { batchItemFailures: event.Records.filter((r) => r.body.startsWith('bad')).map((r) => ({ itemIdentifier: r.messageId })) } : {};
    }, { maximumConcurrency: 1, visibilityTimeout: 1, start: false });
    const ids = await send(h.resources.queueUrl, ['good-1', 'bad-1', 'good-2', 'bad-2']);
    h.poller.start();
    await waitFor(() => h.results.length >= 1, 10_000, 'first invocation');
    const first = h.results[0]!;
    expect(first.outcome).toBe('partial');
    expect(new Set(first.deleted)).toEqual(new Set([ids[0], ids[2]]));
    expect(new Set(first.failed)).toEqual(new Set([ids[1], ids[3]]));
    // The failed ones come back after the 1 s visibility timeout, received a second time.
    await waitFor(() => h.results.flatMap((r) => r.deleted).length === 4, 10_000, 'the failed records to return and succeed');
    const retried = h.events.slice(1).flatMap((e) => e.Records);
    expect(new Set(retried.map((r) => r.messageId))).toEqual(new Set([ids[1], ids[3]]));
    expect(retried.every((r) => r.attributes.ApproximateReceiveCount === '2')).toBe(true);
  });

  it('fails the whole batch when the handler throws: nothing deleted, all return', async () => {
    const h = await setUp(async () => {
      throw new Error('boom');
    }, { maximumBatchingWindowInSeconds: 1, visibilityTimeout: 30 });
    const ids = await send(h.resources.queueUrl, ['x', 'y']);
    await waitFor(() => h.results.length >= 1, 10_000, 'an invocation');
    expect(h.results[0]).toMatchObject({ outcome: 'error', deleted: [], error: 'Error: boom' });
    expect(new Set(h.results[0]!.failed)).toEqual(new Set(ids));
    await h.poller.stop();
    expect(await queueCounts(h.resources.queueUrl)).toEqual({ visible: 0, inFlight: 2 });
  });

  it('fails the whole batch when the handler runs past the function timeout', async () => {
    const h = await setUp(() => new Promise((resolve) => setTimeout(() => resolve({}), 3_000)), {
      function: { name: 'slow', timeoutSeconds: 1 },
      visibilityTimeout: 2,
    });
    const [id] = await send(h.resources.queueUrl, ['slow']);
    await waitFor(() => h.results.length >= 1, 10_000, 'an invocation');
    const result = h.results[0]!;
    expect(result.outcome).toBe('timeout');
    expect(result.deleted).toEqual([]);
    expect(result.error).toBe('Task timed out after 1.00 seconds');
    expect(result.durationMs).toBeGreaterThanOrEqual(990);
    expect(result.durationMs).toBeLessThan(2_500);
    // Returns on its visibility timeout and is received again.
    await waitFor(() => h.events.length >= 2, 10_000, 'the message to return');
    expect(h.events[1]!.Records[0]!.messageId).toBe(id);
    expect(h.events[1]!.Records[0]!.attributes.ApproximateReceiveCount).toBe('2');
  });

  const invalidResponses: [string, (event: SQSEvent) => unknown][] = [
    ['an empty itemIdentifier', () => ({ batchItemFailures: [{ itemIdentifier: '' }] })],
    ['a null itemIdentifier', () => ({ batchItemFailures: [{ itemIdentifier: null }] })],
    ['a missing itemIdentifier (bad key name)', (e) => ({ batchItemFailures: [{ ItemIdentifier: e.Records[0]!.messageId }] })],
    ['an itemIdentifier not in the batch', () => ({ batchItemFailures: [{ itemIdentifier: '00000000-0000-0000-0000-000000000000' }] })],
    ['a non-string itemIdentifier', () => ({ batchItemFailures: [{ itemIdentifier: 7 }] })],
    ['batchItemFailures that is not a list', (e) => ({ batchItemFailures: { itemIdentifier: e.Records[0]!.messageId } })],
    ['a failure entry that is not an object', (e) => ({ batchItemFailures: [e.Records[0]!.messageId] })],
    ['a string response', () => 'ok'],
    ['an array response', () => []],
  ];
  it.each(invalidResponses)('with ReportBatchItemFailures fails the whole batch on %s', async (_name, respond) => {
    const h = await setUp(async (event) => respond(event), { maximumConcurrency: 1, start: false });
    const ids = await send(h.resources.queueUrl, ['p', 'q']);
    h.poller.start();
    await waitFor(() => h.results.length >= 1, 10_000, 'an invocation');
    expect(h.results[0]!.outcome).toBe('invalid-response');
    expect(h.results[0]!.deleted).toEqual([]);
    expect(new Set(h.results[0]!.failed)).toEqual(new Set(ids));
    await h.poller.stop();
    expect(await queueCounts(h.resources.queueUrl)).toEqual({ visible: 0, inFlight: 2 });
  });

  it.each([true, false])('fails the whole batch as an invocation error when the response cannot be serialised (ReportBatchItemFailures %s)', async (rbif) => {
    const h = await setUp(async () => ({ batchItemFailures: [], n: 10n }), { reportBatchItemFailures: rbif, maximumConcurrency: 1, start: false });
    const ids = await send(h.resources.queueUrl, ['p', 'q']);
    h.poller.start();
    await waitFor(() => h.results.length >= 1, 10_000, 'an invocation');
    expect(h.results[0]).toMatchObject({ outcome: 'error', deleted: [], error: 'Runtime error: unable to serialise the response to JSON' });
    expect(new Set(h.results[0]!.failed)).toEqual(new Set(ids));
    expect(await remainingAfterStop(h)).toEqual({ visible: 0, inFlight: 2 });
  });

  const successResponses: [string, unknown][] = [
    ['undefined', undefined],
    ['null', null],
    ['an empty object', {}],
    ['a null list', { batchItemFailures: null }],
    ['an empty list', { batchItemFailures: [] }],
  ];
  it.each(successResponses)('with ReportBatchItemFailures treats %s as complete success', async (_name, response) => {
    const h = await setUp(async () => response, { maximumConcurrency: 1, start: false });
    await send(h.resources.queueUrl, ['s', 't']);
    h.poller.start();
    await waitFor(() => h.results.flatMap((r) => r.deleted).length === 2, 10_000, 'two deletions');
    expect(h.results.every((r) => r.outcome === 'success')).toBe(true);
    expect(await remainingAfterStop(h)).toEqual({ visible: 0, inFlight: 0 });
  });

  it('without ReportBatchItemFailures ignores reported failures and deletes the whole batch', async () => {
    const h = await setUp(async (event) => ({ batchItemFailures: event.Records.map((r) => ({ itemIdentifier: r.messageId })) }), {
      reportBatchItemFailures: false,
      maximumConcurrency: 1,
      start: false,
    });
    await send(h.resources.queueUrl, ['u', 'v']);
    h.poller.start();
    await waitFor(() => h.results.flatMap((r) => r.deleted).length === 2, 10_000, 'two deletions');
    expect(h.results.every((r) => r.outcome === 'success')).toBe(true);
    expect(await remainingAfterStop(h)).toEqual({ visible: 0, inFlight: 0 });
  });

  it('without ReportBatchItemFailures does not read the response, even an invalid one', async () => {
    const h = await setUp(async () => ({ batchItemFailures: [{ itemIdentifier: '' }] }), { reportBatchItemFailures: false });
    await send(h.resources.queueUrl, ['w']);
    await waitFor(() => h.results.length === 1, 10_000, 'an invocation');
    expect(h.results[0]!.outcome).toBe('success');
    expect(await remainingAfterStop(h)).toEqual({ visible: 0, inFlight: 0 });
  });
});

describe('event-source poller: batching and concurrency', () => {
  it('never puts more than BatchSize records in one invocation', async () => {
    const h = await setUp(async () => ({}), { batchSize: 3, maximumBatchingWindowInSeconds: 1, maximumConcurrency: 2 });
    await send(h.resources.queueUrl, ['1', '2', '3', '4', '5', '6', '7']);
    await waitFor(() => h.results.flatMap((r) => r.deleted).length === 7, 10_000, 'seven deletions');
    expect(Math.max(...h.events.map((e) => e.Records.length))).toBe(3);
    expect(h.events.every((e) => e.Records.length >= 1 && e.Records.length <= 3)).toBe(true);
  });

  it('gathers more than 10 records with several receives when BatchSize > 10 and a window is set', async () => {
    const h = await setUp(async () => ({}), { batchSize: 25, maximumBatchingWindowInSeconds: 2, maximumConcurrency: 2, start: false });
    await send(h.resources.queueUrl, Array.from({ length: 25 }, (_, i) => `m${i}`));
    h.poller.start();
    await waitFor(() => h.results.flatMap((r) => r.deleted).length === 25, 10_000, '25 deletions');
    expect(Math.max(...h.events.map((e) => e.Records.length))).toBeGreaterThan(10);
  });

  it('with a batching window waits for more records before invoking', async () => {
    const h = await setUp(async () => ({}), { batchSize: 10, maximumBatchingWindowInSeconds: 2, maximumConcurrency: 1 });
    const sentAt = Date.now();
    await send(h.resources.queueUrl, ['first']);
    await new Promise((r) => setTimeout(r, 600));
    await send(h.resources.queueUrl, ['second']);
    await waitFor(() => h.results.length >= 1, 10_000, 'an invocation');
    expect(h.events[0]!.Records.map((r) => r.body)).toEqual(['first', 'second']);
    // Invoked when the window elapsed, not as soon as a record arrived.
    expect(h.results[0]!.startedAt - sentAt).toBeGreaterThanOrEqual(1_800);
  });

  it('without a batching window invokes as soon as records arrive', async () => {
    const h = await setUp(async () => ({}), { batchSize: 10, maximumConcurrency: 1 });
    const sentAt = Date.now();
    await send(h.resources.queueUrl, ['first']);
    await waitFor(() => h.results.length >= 1, 10_000, 'an invocation');
    expect(h.results[0]!.startedAt - sentAt).toBeLessThan(1_000);
    await send(h.resources.queueUrl, ['second']);
    await waitFor(() => h.results.length >= 2, 10_000, 'a second invocation');
    expect(h.events.map((e) => e.Records.map((r) => r.body))).toEqual([['first'], ['second']]);
  });

  it('keeps invocations in flight at or below MaximumConcurrency', async () => {
    let running = 0;
    let peak = 0;
    const h = await setUp(
      async () => {
        running++;
        peak = Math.max(peak, running);
        await new Promise((r) => setTimeout(r, 250));
        running--;
        return {};
      },
      { batchSize: 1, maximumConcurrency: 2 },
    );
    await send(h.resources.queueUrl, ['1', '2', '3', '4', '5', '6']);
    await waitFor(() => h.results.flatMap((r) => r.deleted).length === 6, 10_000, 'six deletions');
    expect(peak).toBe(2);
    expect(h.poller.stats.maxInFlight).toBe(2);
  });
});

describe('event-source poller: stopping', () => {
  it('drains: stop() waits for the running invocation and deletes its records', async () => {
    let release!: () => void;
    const h = await setUp(() => new Promise((resolve) => (release = () => resolve({}))));
    await send(h.resources.queueUrl, ['late']);
    await waitFor(() => h.events.length === 1, 10_000, 'an invocation');
    const stopped = h.poller.stop();
    let done = false;
    void stopped.then(() => (done = true));
    await new Promise((r) => setTimeout(r, 200));
    expect(done).toBe(false);
    release();
    await stopped;
    expect(h.results[0]!.outcome).toBe('success');
    expect(await queueCounts(h.resources.queueUrl)).toEqual({ visible: 0, inFlight: 0 });
  });

  it('stops promptly while long polling an empty queue', async () => {
    const h = await setUp(async () => ({}));
    await new Promise((r) => setTimeout(r, 200));
    const started = Date.now();
    await h.poller.stop();
    expect(Date.now() - started).toBeLessThan(1_000);
  });
});
