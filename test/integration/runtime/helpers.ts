/**
 * Helpers for the consumer runtime's integration tests: send real messages, receive them
 * as a Lambda-shaped SQS event, call the handler with a fake Lambda context, look at the
 * table, the queue and the DLQ — all over the wire on the emulators.
 */
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { DeleteMessageCommand, ReceiveMessageCommand, SendMessageCommand, type Message, type MessageAttributeValue, type SQSClient } from '@aws-sdk/client-sqs';
import { GetItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { S3Client } from '@aws-sdk/client-s3';
import { encodeEnvelope, type TaskEnvelope } from '../../../lib/protocol/envelope.ts';
import { newTaskId } from '../../../lib/protocol/ids.ts';
import { MESSAGE_ATTRIBUTES } from '../../../lib/protocol/attributes.ts';
import { defineTasks, type RuntimeOptions, type TaskDefinitions } from '../../../lib/runtime/index.ts';
import type { MetricsSink, RuntimeLogger, TaskTypeMetrics } from '../../../lib/runtime/telemetry.ts';
import type { TestResources } from '../../support/aws.ts';
import { asPrincipal, asTestHarness } from '../../support/iam/principals.ts';

export interface Clients {
  sqs: SQSClient;
  s3: S3Client;
  dynamo: DynamoDBClient;
}

export function envelope(type: string, payload: unknown, extra: Partial<TaskEnvelope> = {}): TaskEnvelope {
  return { v: 1, id: newTaskId(), type, payload, createdAt: new Date().toISOString(), ...extra };
}

export async function sendRaw(
  sqs: SQSClient,
  queueUrl: string,
  body: string,
  attributes: Record<string, MessageAttributeValue> = {},
  extra: { MessageGroupId?: string; MessageDeduplicationId?: string } = {},
): Promise<string> {
  const response = await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body, MessageAttributes: attributes, ...extra }));
  return response.MessageId!;
}

export async function sendTask(sqs: SQSClient, queueUrl: string, e: TaskEnvelope, extra: { MessageGroupId?: string; MessageDeduplicationId?: string } = {}): Promise<string> {
  return sendRaw(sqs, queueUrl, encodeEnvelope(e), { [MESSAGE_ATTRIBUTES.taskType]: { DataType: 'String', StringValue: e.type } }, extra);
}

export function toRecord(m: Message, queueArn: string): SQSRecord {
  const messageAttributes: SQSRecord['messageAttributes'] = {};
  for (const [name, a] of Object.entries(m.MessageAttributes ?? {})) {
    messageAttributes[name] = {
      dataType: a.DataType!,
      stringValue: a.StringValue,
      binaryValue: a.BinaryValue ? Buffer.from(a.BinaryValue).toString('base64') : undefined,
      stringListValues: [],
      binaryListValues: [],
    };
  }
  const attrs = m.Attributes ?? {};
  return {
    messageId: m.MessageId!,
    receiptHandle: m.ReceiptHandle!,
    body: m.Body ?? '',
    attributes: {
      ApproximateReceiveCount: attrs.ApproximateReceiveCount ?? '1',
      SentTimestamp: attrs.SentTimestamp ?? String(Date.now()),
      SenderId: attrs.SenderId ?? 'local',
      ApproximateFirstReceiveTimestamp: attrs.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
      ...(attrs.MessageGroupId ? { MessageGroupId: attrs.MessageGroupId } : {}),
      ...(attrs.MessageDeduplicationId ? { MessageDeduplicationId: attrs.MessageDeduplicationId } : {}),
      ...(attrs.SequenceNumber ? { SequenceNumber: attrs.SequenceNumber } : {}),
    },
    messageAttributes,
    md5OfBody: m.MD5OfBody ?? '',
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: 'us-east-1',
  };
}

/** Receives up to `max` messages (waiting up to `waitSeconds` for the first) as raw SQS messages. */
export async function receive(sqs: SQSClient, queueUrl: string, max = 10, waitSeconds = 1): Promise<Message[]> {
  const out: Message[] = [];
  const deadline = Date.now() + waitSeconds * 1000;
  while (out.length < max) {
    const response = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: Math.min(10, max - out.length),
        WaitTimeSeconds: out.length === 0 ? Math.max(0, Math.ceil((deadline - Date.now()) / 1000)) : 0,
        MessageAttributeNames: ['All'],
        MessageSystemAttributeNames: ['All'],
      }),
    );
    const messages = response.Messages ?? [];
    out.push(...messages);
    if (messages.length === 0 && (out.length > 0 || Date.now() >= deadline)) break;
  }
  return out;
}

export async function receiveEvent(sqs: SQSClient, r: Pick<TestResources, 'queueUrl' | 'queueArn'>, max = 10, waitSeconds = 1): Promise<SQSEvent> {
  const messages = await receive(sqs, r.queueUrl, max, waitSeconds);
  return { Records: messages.map((m) => toRecord(m, r.queueArn)) };
}

export function fakeContext(remainingMs = 30_000): Context {
  const deadline = Date.now() + remainingMs;
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: 'consumer',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:consumer',
    memoryLimitInMB: '512',
    awsRequestId: 'req',
    logGroupName: '/aws/lambda/consumer',
    logStreamName: 'stream',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

export interface Captured {
  logs: { level: string; message: string; fields: Record<string, unknown> | undefined }[];
  metrics: Map<string, TaskTypeMetrics>[];
  logger: RuntimeLogger;
  sink: MetricsSink;
  text(): string;
}

export function capture(): Captured {
  const logs: Captured['logs'] = [];
  const metrics: Captured['metrics'] = [];
  const at = (level: string) => (message: string, fields?: Record<string, unknown>) => void logs.push({ level, message, fields });
  return {
    logs,
    metrics,
    logger: { debug: at('DEBUG'), info: at('INFO'), warn: at('WARN'), error: at('ERROR') },
    sink: { flush: (_ns, byType) => void metrics.push(new Map(byType)) },
    text: () => logs.map((l) => JSON.stringify(l)).join('\n'),
  };
}

/**
 * defineTasks wired to the test's resources and clients, with captured logs and metrics.
 * Each invocation runs as the consumer role: every AWS call it makes is evaluated against
 * the synthesized stack's policies (test/support/iam/).
 */
export function consumer(r: TestResources, clients: Clients, tasks: TaskDefinitions, options: RuntimeOptions = {}) {
  const captured = capture();
  const runtime = defineTasks(tasks, {
    clients,
    tableName: r.tableName,
    queueUrl: r.queueUrl,
    deadLetterQueueUrl: r.deadLetterQueueUrl,
    bucketName: r.bucketName,
    claimPrefix: 'claims/',
    backoff: { baseSeconds: 1, capSeconds: 60, jitter: 'none' },
    logger: captured.logger,
    metrics: captured.sink,
    ...options,
  });
  const handler = Object.assign((event: SQSEvent, context: Context) => asPrincipal('consumer', () => runtime(event, context)), {
    processor: runtime.processor,
  });
  return { handler, captured };
}

/** The task record as plain values (N → number, S → string, BOOL → boolean). A test probe: never evaluated as the consumer's call. */
export async function taskRecord(dynamo: DynamoDBClient, tableName: string, key: string): Promise<Record<string, unknown> | undefined> {
  const response = await asTestHarness(() => dynamo.send(new GetItemCommand({ TableName: tableName, Key: { pk: { S: key } }, ConsistentRead: true })));
  if (!response.Item) return undefined;
  const out: Record<string, unknown> = {};
  for (const [name, v] of Object.entries(response.Item)) out[name] = v.N !== undefined ? Number(v.N) : v.S ?? v.BOOL;
  return out;
}

/** Records every command a client sends (name and input). */
export function spy(client: { middlewareStack: { add: (...args: any[]) => void } }): { name: string; input: any }[] {
  const calls: { name: string; input: any }[] = [];
  client.middlewareStack.add(
    (next: (args: any) => Promise<any>, context: { commandName: string }) => async (args: { input: unknown }) => {
      calls.push({ name: context.commandName, input: args.input });
      return next(args);
    },
    { step: 'initialize', name: `spy-${Math.random()}` },
  );
  return calls;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Calls the handler as the Lambda event source mapping would: afterwards it deletes every
 * record the response did not name as a failure. Returns the response.
 */
export async function invokeLikeLambda(
  sqs: SQSClient,
  queueUrl: string,
  handler: (event: SQSEvent, context: Context) => Promise<{ batchItemFailures: { itemIdentifier: string }[] }>,
  event: SQSEvent,
  context: Context = fakeContext(),
): Promise<{ batchItemFailures: { itemIdentifier: string }[] }> {
  const response = await handler(event, context);
  const failed = new Set(response.batchItemFailures.map((f) => f.itemIdentifier));
  for (const record of event.Records) {
    if (!failed.has(record.messageId)) await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: record.receiptHandle }));
  }
  return response;
}
