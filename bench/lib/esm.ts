/**
 * A minimal, faithful stand-in for Lambda's SQS event source mapping, used identically for
 * every Lambda-shaped pipeline of the benchmark: `concurrency` pollers each ReceiveMessage up
 * to `batchSize` (≤ 10) messages, invoke the handler with a Lambda-shaped SQSEvent and Context,
 * then DeleteMessageBatch the records the response does not list in batchItemFailures
 * (ReportBatchItemFailures on). A handler that throws fails the whole batch: nothing is
 * deleted, and the messages come back after their visibility timeout.
 *
 * Each invocation's wall time is billed (rounded up to 1 ms) to `meter` as a Lambda
 * invocation. The CPU time around an invocation is the handler's own only when nothing else
 * runs in the process at the time (see throughput.ts for how it is measured).
 */
import { performance } from 'node:perf_hooks';
import { DeleteMessageBatchCommand, ReceiveMessageCommand, type Message, type SQSClient } from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { Meter } from './meter.ts';

export type SqsLambdaHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse | void> | SQSBatchResponse | void;

export interface InvocationReport {
  readonly records: readonly SQSRecord[];
  readonly failed: ReadonlySet<string>;
  readonly wallMs: number;
  /** CPU µs (user + system) of the process during the invocation; exact only when sequential. */
  readonly cpuMicros: number;
  /** Epoch ms when the handler returned (the records' completion time). */
  readonly endedAt: number;
}

export interface EsmOptions {
  readonly sqs: SQSClient;
  readonly queueUrl: string;
  readonly queueArn: string;
  readonly region: string;
  /** One handler per concurrency slot, as each Lambda instance has its own module state. */
  readonly handlerFor: (slot: number) => SqsLambdaHandler;
  readonly batchSize?: number;
  readonly concurrency: number;
  readonly waitTimeSeconds?: number;
  readonly memoryMb: number;
  readonly timeoutSeconds: number;
  readonly functionName?: string;
  /** Lambda invocations and billed duration go here. */
  readonly meter: Meter;
  readonly onInvocation?: (report: InvocationReport) => void;
}

export class EventSourceMappingSim {
  private running = false;
  private readonly abort = new AbortController();
  private workers: Promise<void>[] = [];
  invocations = 0;
  errors = 0;

  constructor(private readonly o: EsmOptions) {}

  start(): void {
    this.running = true;
    this.workers = Array.from({ length: this.o.concurrency }, (_, i) => this.work(i));
  }

  /** Stops polling; resolves when running invocations are settled. */
  async stop(): Promise<void> {
    this.running = false;
    this.abort.abort();
    await Promise.allSettled(this.workers);
  }

  private async work(slot: number): Promise<void> {
    const o = this.o;
    const handler = o.handlerFor(slot);
    while (this.running) {
      let messages: Message[];
      try {
        const out = await o.sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: o.queueUrl,
            MaxNumberOfMessages: o.batchSize ?? 10,
            WaitTimeSeconds: o.waitTimeSeconds ?? 1,
            MessageAttributeNames: ['All'],
            MessageSystemAttributeNames: ['All'],
          }),
          { abortSignal: this.abort.signal },
        );
        messages = out.Messages ?? [];
      } catch (error) {
        if (!this.running) return;
        this.errors += 1;
        await new Promise((r) => setTimeout(r, 100));
        continue;
      }
      if (messages.length === 0) continue;
      const records = messages.map((m) => toRecord(m, o.queueArn, o.region));
      const failed = await this.invoke(handler, records, slot);
      const toDelete = messages.filter((m) => !failed.has(m.MessageId!));
      for (let i = 0; i < toDelete.length; i += 10) {
        const chunk = toDelete.slice(i, i + 10);
        try {
          await o.sqs.send(
            new DeleteMessageBatchCommand({ QueueUrl: o.queueUrl, Entries: chunk.map((m, j) => ({ Id: String(j), ReceiptHandle: m.ReceiptHandle! })) }),
          );
        } catch {
          this.errors += 1;
        }
      }
    }
  }

  private async invoke(handler: SqsLambdaHandler, records: SQSRecord[], slot: number): Promise<Set<string>> {
    const o = this.o;
    const requestId = `bench-${slot}-${++this.invocations}`;
    const start = performance.now();
    const deadline = Date.now() + o.timeoutSeconds * 1000;
    const context = lambdaContext(o.functionName ?? 'bench-consumer', o.memoryMb, requestId, deadline);
    const cpu0 = process.cpuUsage();
    let failed: Set<string>;
    try {
      const response = await handler({ Records: records }, context);
      failed = failedIds(response, records);
    } catch {
      failed = new Set(records.map((r) => r.messageId));
    }
    const cpu = process.cpuUsage(cpu0);
    const wallMs = performance.now() - start;
    o.meter.invocation(wallMs, records.length);
    o.onInvocation?.({ records, failed, wallMs, cpuMicros: cpu.user + cpu.system, endedAt: Date.now() });
    return failed;
  }
}

/** Lambda's rules for a ReportBatchItemFailures response (an invalid one fails the whole batch). */
function failedIds(response: SQSBatchResponse | void, records: SQSRecord[]): Set<string> {
  const all = new Set(records.map((r) => r.messageId));
  if (response === undefined || response === null) return new Set();
  const list = (response as SQSBatchResponse).batchItemFailures;
  if (list === undefined || list === null) return new Set();
  if (!Array.isArray(list)) return all;
  const failed = new Set<string>();
  for (const item of list) {
    const id = item?.itemIdentifier;
    if (typeof id !== 'string' || !all.has(id)) return all;
    failed.add(id);
  }
  return failed;
}

export function lambdaContext(functionName: string, memoryMb: number, requestId: string, deadline: number): Context {
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:${functionName}`,
    memoryLimitInMB: String(memoryMb),
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'bench',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

export function toRecord(m: Message, queueArn: string, region: string): SQSRecord {
  const a = m.Attributes ?? {};
  const messageAttributes: SQSRecord['messageAttributes'] = {};
  for (const [name, v] of Object.entries(m.MessageAttributes ?? {})) {
    messageAttributes[name] = {
      dataType: v.DataType ?? 'String',
      ...(v.StringValue !== undefined ? { stringValue: v.StringValue } : {}),
      ...(v.BinaryValue !== undefined ? { binaryValue: Buffer.from(v.BinaryValue).toString('base64') } : {}),
      stringListValues: [],
      binaryListValues: [],
    };
  }
  return {
    messageId: m.MessageId!,
    receiptHandle: m.ReceiptHandle!,
    body: m.Body ?? '',
    attributes: {
      ApproximateReceiveCount: a.ApproximateReceiveCount ?? '1',
      SentTimestamp: a.SentTimestamp ?? String(Date.now()),
      SenderId: a.SenderId ?? 'BENCH',
      ApproximateFirstReceiveTimestamp: a.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
      ...(a.MessageGroupId ? { MessageGroupId: a.MessageGroupId } : {}),
      ...(a.MessageDeduplicationId ? { MessageDeduplicationId: a.MessageDeduplicationId } : {}),
      ...(a.SequenceNumber ? { SequenceNumber: a.SequenceNumber } : {}),
    },
    messageAttributes,
    md5OfBody: m.MD5OfBody ?? '',
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: region,
  };
}
