/**
 * Completion events end to end on the emulators: the real consumer runtime writes task records
 * to DynamoDB Local, DynamoDB Local's own stream carries them (read with the real Streams
 * client by the local stream mapping), the stream handler turns them into events and its real
 * EventBridge client puts them — over HTTP — on the local event bus (EventBridge has no
 * emulator; the bus only records what was put).
 *
 * IAM: the stream mapping's reads (DescribeStream, GetShardIterator, GetRecords), the function's
 * PutEvents and the on-failure destination's SendMessage are made as the completion-events
 * function's role of the harness's lanes variant (test/support/iam: that variant has
 * completionEvents) and evaluated against its synthesized policies.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DescribeTableCommand, GetItemCommand, PutItemCommand, UpdateTableCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { CreateQueueCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { TaskProducer } from '../../../lib/client/index.ts';
import { createStreamHandler } from '../../../lib/events/stream-handler.ts';
import { LOCAL_CREDENTIALS } from '../../../lib/local/emulators.ts';
import { LocalEventBus, type RecordedEvent } from '../../../lib/local/local-event-bus.ts';
import { StreamPoller, type LambdaStreamHandler } from '../../../lib/local/stream-poller.ts';
import { MESSAGE_ATTRIBUTES, REDRIVE_ATTRIBUTES } from '../../../lib/protocol/attributes.ts';
import { PermanentError } from '../../../lib/protocol/errors.ts';
import type { TaskCompletionEventDetail } from '../../../lib/protocol/completion-events.ts';
import { createTestResources, emulatorEndpoints, testClients, uniqueName, type TestResources } from '../../support/aws.ts';
import { enforceIam } from '../../support/iam/enforcement.ts';
import { actingAs, asPrincipal, asTestHarness } from '../../support/iam/principals.ts';
import { registerResources } from '../../support/iam/resource-roles.ts';
import { consumer, invokeLikeLambda, receive, receiveEvent, sendRaw } from '../runtime/helpers.ts';

const clients = testClients();
const SECRET = 'payload-never-in-events';

let r: TestResources;
let streamArn: string;
let bus: LocalEventBus;
let eventBridge: EventBridgeClient;
let streams: DynamoDBStreamsClient;
const handlerOf = () =>
  createStreamHandler({ eventBusName: 'default', source: 'taskq', sender: () => eventBridge, log: () => {} }) as unknown as LambdaStreamHandler;

beforeAll(async () => {
  const e = emulatorEndpoints();
  r = await createTestResources(clients);
  await asTestHarness(() => clients.dynamo.send(new UpdateTableCommand({ TableName: r.tableName, StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' } })));
  const table = await asTestHarness(() => clients.dynamo.send(new DescribeTableCommand({ TableName: r.tableName })));
  streamArn = table.Table!.LatestStreamArn!;
  bus = new LocalEventBus();
  await bus.start();
  eventBridge = enforceIam(new EventBridgeClient({ region: e.region, credentials: LOCAL_CREDENTIALS, endpoint: bus.endpoint }));
  streams = enforceIam(new DynamoDBStreamsClient({ region: e.region, credentials: LOCAL_CREDENTIALS, endpoint: e.dynamoEndpoint }));
  registerResources({ tableStreamArn: streamArn });
});

/** The stream mapping reads and the function puts events with the completion-events function's role. */
const drain = (poller: StreamPoller) => asPrincipal('completionEvents', () => poller.drain());

afterAll(async () => {
  eventBridge?.destroy();
  streams?.destroy();
  await bus?.stop();
});

const details = (events: readonly RecordedEvent[]) => events.map((e) => e.detail as TaskCompletionEventDetail);

describe('task table stream → EventBridge events', () => {
  it('one event per final state, with id, type, key, attempts, duration and result or reason — never the payload', async () => {
    const tasks = {
      ok: { handler: (p: { n: number }) => ({ doubled: p.n * 2 }) },
      large: { handler: () => ({ text: 'x'.repeat(2000) }) },
      bad: {
        handler: () => {
          throw new PermanentError('no such account');
        },
      },
      slow: { handler: () => 'never runs' },
    };
    const runtime = consumer(r, clients, tasks);
    const producer = actingAs('producer', new TaskProducer({ queueUrl: r.queueUrl, sqs: clients.sqs, s3: clients.s3, dynamo: clients.dynamo, bucketName: r.bucketName, tableName: r.tableName }));
    const ok = await producer.send('ok', { n: 21, secret: SECRET }, { idempotencyKey: `order-${Date.now()}` });
    const large = await producer.send('large', { secret: SECRET });
    const bad = await producer.send('bad', { secret: SECRET });
    const cancelled = await producer.send('slow', { secret: SECRET });
    await producer.cancel(cancelled.taskId);

    const event = await receiveEvent(clients.sqs, r, 10, 2);
    expect(event.Records).toHaveLength(4);
    await invokeLikeLambda(clients.sqs, r.queueUrl, runtime.handler, event);

    const poller = new StreamPoller({ streams, streamArn, handler: handlerOf(), functionArn: 'arn:aws:lambda:us-east-1:000000000000:function:events' });
    await drain(poller);

    const byTask = new Map(details(bus.events).map((d) => [d.taskId, d]));
    expect(bus.events).toHaveLength(4);
    expect(new Set(details(bus.events).map((d) => d.eventId)).size).toBe(4);
    expect(bus.events.every((e) => e.source === 'taskq' && e.eventBusName === 'default')).toBe(true);
    expect(JSON.stringify(bus.events)).not.toContain(SECRET);

    const okEvent = bus.events.find((e) => (e.detail as TaskCompletionEventDetail).taskId === ok.taskId)!;
    expect(okEvent.detailType).toBe('TaskSucceeded');
    const okDetail = byTask.get(ok.taskId)!;
    expect(okDetail).toMatchObject({ eventId: `${ok.taskId}:SUCCEEDED`, status: 'SUCCEEDED', type: 'ok', idempotencyKey: ok.idempotencyKey, attempts: 1, result: { doubled: 42 } });
    expect(okDetail.durationMs).toBeGreaterThanOrEqual(0);
    expect(Date.parse(okDetail.finishedAt!)).toBeGreaterThanOrEqual(Date.parse(okDetail.createdAt!));
    expect(okEvent.time).toBe(new Date(Math.floor(Date.parse(okDetail.finishedAt!) / 1000) * 1000).toISOString());

    expect(byTask.get(large.taskId)).toMatchObject({ status: 'SUCCEEDED', resultRef: { bucket: r.bucketName, key: `results/${large.taskId}.json` } });
    expect(byTask.get(large.taskId)!.result).toBeUndefined();
    expect(bus.events.find((e) => (e.detail as TaskCompletionEventDetail).taskId === bad.taskId)!.detailType).toBe('TaskDeadLettered');
    expect(byTask.get(bad.taskId)).toMatchObject({ eventId: `${bad.taskId}:DEAD_LETTERED`, status: 'DEAD_LETTERED', type: 'bad', attempts: 1, deadLetterReason: 'permanent-error' });
    expect(bus.events.find((e) => (e.detail as TaskCompletionEventDetail).taskId === cancelled.taskId)!.detailType).toBe('TaskCancelled');
    expect(byTask.get(cancelled.taskId)).toMatchObject({ eventId: `${cancelled.taskId}:CANCELLED`, status: 'CANCELLED', attempts: 0 });
    expect(byTask.get(cancelled.taskId)!.finishedAt).toBeDefined();

    // Leases (IN_PROGRESS) went through the stream too, and published nothing: reading on finds nothing new.
    await drain(poller);
    expect(bus.events).toHaveLength(4);

    // Rewriting a final state (an outcome copy recording SUCCEEDED again) is no transition: no event.
    const record = await asTestHarness(() => clients.dynamo.send(new GetItemCommand({ TableName: r.tableName, Key: { pk: { S: ok.idempotencyKey } }, ConsistentRead: true })));
    await asTestHarness(() => clients.dynamo.send(new PutItemCommand({ TableName: r.tableName, Item: { ...record.Item!, updatedAt: { S: new Date().toISOString() } } })));
    await drain(poller);
    expect(bus.events).toHaveLength(4);

    // A redriven task that dead-letters again is a new transition: a second event, a new id.
    const [dead] = await receive(clients.sqs, r.deadLetterQueueUrl, 1, 2);
    expect(dead).toBeDefined();
    await sendRaw(clients.sqs, r.queueUrl, dead!.Body!, {
      [MESSAGE_ATTRIBUTES.taskType]: { DataType: 'String', StringValue: 'bad' },
      [REDRIVE_ATTRIBUTES.redrivenAt]: { DataType: 'String', StringValue: new Date().toISOString() },
    });
    await invokeLikeLambda(clients.sqs, r.queueUrl, runtime.handler, await receiveEvent(clients.sqs, r, 1, 2));
    await drain(poller);
    const badEvents = details(bus.events).filter((d) => d.taskId === bad.taskId);
    expect(badEvents).toHaveLength(2);
    expect(badEvents[1]!.eventId).toMatch(new RegExp(`^${bad.taskId}:DEAD_LETTERED:.+`));
    expect(badEvents[1]!.eventId).not.toBe(badEvents[0]!.eventId);
  });

  it('a stream record delivered again publishes the same event again, with the same event id (at least once)', async () => {
    const runtime = consumer(r, clients, { ok: { handler: () => 'done' } });
    const producer = actingAs('producer', new TaskProducer({ queueUrl: r.queueUrl, sqs: clients.sqs, dynamo: clients.dynamo, tableName: r.tableName }));
    const sent = await producer.send('ok', {});
    await invokeLikeLambda(clients.sqs, r.queueUrl, runtime.handler, await receiveEvent(clients.sqs, r, 1, 2));

    // Capture the batches the mapping delivers, then hand the same batch to the function again (a retried batch).
    const batches: { Records: unknown[] }[] = [];
    const inner = handlerOf();
    const poller = new StreamPoller({
      streams,
      streamArn,
      startingPosition: 'TRIM_HORIZON',
      functionArn: 'arn:aws:lambda:us-east-1:000000000000:function:events',
      handler: async (event) => {
        batches.push(event);
        return inner(event);
      },
    });
    const before = bus.events.length;
    await drain(poller);
    const mine = () => details(bus.events.slice(before)).filter((d) => d.taskId === sent.taskId);
    expect(mine()).toHaveLength(1);
    const batch = batches.find((b) => JSON.stringify(b).includes(sent.taskId))!;
    await inner(batch);
    expect(mine()).toHaveLength(2);
    expect(mine()[1]!.eventId).toBe(mine()[0]!.eventId);
    expect(mine()[0]!.eventId).toBe(`${sent.taskId}:SUCCEEDED`);
  });

  it('a batch that keeps failing is retried from the reported record, then described on the on-failure destination', async () => {
    const runtime = consumer(r, clients, { ok: { handler: () => 'done' } });
    const producer = actingAs('producer', new TaskProducer({ queueUrl: r.queueUrl, sqs: clients.sqs, dynamo: clients.dynamo, tableName: r.tableName }));
    const a = await producer.send('ok', {});
    await invokeLikeLambda(clients.sqs, r.queueUrl, runtime.handler, await receiveEvent(clients.sqs, r, 1, 2));

    // A bus that refuses every entry of task a: the handler names a's record; the poller retries from there, twice, then gives up.
    const invocations: string[][] = [];
    const failures: unknown[] = [];
    // The on-failure destination: a queue the mapping sends to with the function's role.
    const failureQueueUrl = (await asTestHarness(() => clients.sqs.send(new CreateQueueCommand({ QueueName: uniqueName('events-failures') })))).QueueUrl!;
    registerResources({ completionEventsFailureQueueUrl: failureQueueUrl });
    const refusing = createStreamHandler({
      eventBusName: 'default',
      source: 'taskq',
      maxAttempts: 1,
      log: () => {},
      sender: () => ({
        send: async (command) => ({
          FailedEntryCount: 1,
          Entries: command.input.Entries!.map((e) => (e.Detail!.includes(a.taskId) ? { ErrorCode: 'InternalFailure' } : { EventId: 'x' })),
        }),
      }),
    }) as unknown as LambdaStreamHandler;
    const poller = new StreamPoller({
      streams,
      streamArn,
      functionArn: 'arn:aws:lambda:us-east-1:000000000000:function:events',
      maximumRetryAttempts: 2,
      handler: async (event) => {
        invocations.push((event.Records as { dynamodb: { SequenceNumber: string } }[]).map((x) => x.dynamodb.SequenceNumber));
        return refusing(event);
      },
      onFailure: async (failure) => {
        failures.push(failure);
        await clients.sqs.send(new SendMessageCommand({ QueueUrl: failureQueueUrl, MessageBody: JSON.stringify(failure) }));
      },
    });
    await drain(poller);
    expect(failures).toHaveLength(1);
    expect((await receive(clients.sqs, failureQueueUrl, 10, 1)).map((m) => JSON.parse(m.Body!))).toEqual(failures);
    const failure = failures[0] as { requestContext: { condition: string; approximateInvokeCount: number }; DDBStreamBatchInfo: { startSequenceNumber: string; streamArn: string } };
    expect(failure.requestContext).toMatchObject({ condition: 'RetryAttemptsExhausted', approximateInvokeCount: 3 });
    expect(failure.DDBStreamBatchInfo.streamArn).toBe(streamArn);
    // The first invocation held the failing record; both retries start at it (not at the batch's start).
    const start = failure.DDBStreamBatchInfo.startSequenceNumber;
    expect(invocations.filter((batch) => batch[0] === start)).toHaveLength(2);
    expect(invocations.findIndex((batch) => batch.includes(start) && batch[0] !== start)).toBeGreaterThanOrEqual(0);
  });
});
