/**
 * A local stand-in for Lambda's SQS event source mapping: it long-polls a queue, gathers
 * batches (batch size, batching window), invokes a handler with a Lambda-shaped SQSEvent and
 * Context (at most MaximumConcurrency invocations in flight), and deletes what the response
 * says succeeded — following the rules AWS documents for the SQS mapping:
 *
 * - A handler that throws, rejects, runs past the function timeout or returns a value JSON
 *   cannot serialise (the runtime reports an invocation error) fails the whole batch:
 *   nothing is deleted and every message returns when its visibility timeout ends.
 * - With ReportBatchItemFailures on, the response is serialised to JSON as the runtime would.
 *   A null/undefined/empty response or a null/empty `batchItemFailures` list is a complete
 *   success. A response that is not a JSON object, a `batchItemFailures` that is not a list,
 *   an entry whose `itemIdentifier` is missing, null, empty, not a string (a bad key name
 *   included), or names a messageId not in the batch fails the whole batch. Otherwise every
 *   record not listed is deleted.
 * - With ReportBatchItemFailures off the response is ignored: success deletes the whole batch.
 *
 * Knowingly simplified (see docs/LOCAL.md): the handler runs in this process, so a
 * timed-out handler's promise keeps running in the background (Lambda would freeze and reset
 * the sandbox); there are no cold starts, no scaling ramp (MaximumConcurrency slots are
 * available at once) and no throttling; the 6 MB invocation payload limit only stops gathering.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import {
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  type Message,
  type MessageAttributeValue,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { Context, SQSEvent, SQSMessageAttributes, SQSRecord } from 'aws-lambda';

export type LambdaSqsHandler = (event: SQSEvent, context: Context) => unknown;

export interface LocalFunctionConfig {
  /** Function name (the local name of the template's function). */
  readonly name: string;
  /** Function timeout, seconds (Lambda's default: 3). */
  readonly timeoutSeconds: number;
  /** MemorySize, MB (Lambda's default: 128). Reported in the context only. */
  readonly memoryMB?: number;
}

export interface EventSourcePollerOptions {
  readonly sqs: SQSClient;
  readonly queueUrl: string;
  readonly queueArn: string;
  readonly region: string;
  readonly handler: LambdaSqsHandler;
  readonly function: LocalFunctionConfig;
  /** BatchSize of the mapping. Lambda's default for SQS: 10. */
  readonly batchSize?: number;
  /** MaximumBatchingWindowInSeconds. Lambda's default for SQS: 0. */
  readonly maximumBatchingWindowInSeconds?: number;
  /**
   * ScalingConfig.MaximumConcurrency: invocations in flight at most. When the mapping sets
   * none, Lambda scales up to the function's (reserved or account) concurrency; locally we
   * use `defaultConcurrency`.
   */
  readonly maximumConcurrency?: number;
  /** Concurrency when the mapping sets no MaximumConcurrency. @default 5 (Lambda's initial pollers) */
  readonly defaultConcurrency?: number;
  /** FunctionResponseTypes includes ReportBatchItemFailures. */
  readonly reportBatchItemFailures?: boolean;
  /** Long-poll wait, seconds, 0–20. Lambda uses 20. Lower only to make shutdown quicker in tests. */
  readonly waitTimeSeconds?: number;
  /** Called when an invocation starts. */
  readonly onInvocationStart?: (requestId: string, records: readonly SQSRecord[]) => void;
  /** Called after each invocation has been settled (messages deleted or left to return). */
  readonly onInvocation?: (result: InvocationResult) => void;
  /** Called when polling or deleting fails (the poller keeps going, backing off). */
  readonly onError?: (error: unknown, during: 'receive' | 'delete') => void;
}

export type InvocationOutcome =
  /** Every record succeeded and was deleted. */
  | 'success'
  /** ReportBatchItemFailures listed some records: the others were deleted. */
  | 'partial'
  /** The handler threw or rejected: nothing deleted. */
  | 'error'
  /** The handler exceeded the function timeout: nothing deleted. */
  | 'timeout'
  /** ReportBatchItemFailures on and the response broke the rules: nothing deleted. */
  | 'invalid-response';

export interface InvocationResult {
  readonly requestId: string;
  readonly outcome: InvocationOutcome;
  readonly records: readonly SQSRecord[];
  /** messageIds deleted from the queue. */
  readonly deleted: readonly string[];
  /** messageIds left on the queue to return after their visibility timeout. */
  readonly failed: readonly string[];
  readonly startedAt: number;
  readonly durationMs: number;
  /** Why the batch failed (error, timeout, invalid response). */
  readonly error?: string;
}

/** Largest invocation payload of a synchronous Lambda invoke; gathering stops near it. */
const INVOCATION_PAYLOAD_LIMIT = 6 * 1024 * 1024;
const SQS_MAX_RECEIVE = 10;

export class EventSourcePoller {
  private readonly batchSize: number;
  private readonly windowMs: number;
  private readonly concurrency: number;
  private readonly waitTimeSeconds: number;
  private running = false;
  private readonly abort = new AbortController();
  private workers: Promise<void>[] = [];
  private inFlight = 0;
  private maxObservedInFlight = 0;

  constructor(private readonly options: EventSourcePollerOptions) {
    this.batchSize = options.batchSize ?? 10;
    if (!Number.isInteger(this.batchSize) || this.batchSize < 1 || this.batchSize > 10_000) {
      throw new Error(`BatchSize must be an integer 1–10000, got ${String(options.batchSize)}`);
    }
    const window = options.maximumBatchingWindowInSeconds ?? 0;
    if (window < 0 || window > 300) throw new Error(`MaximumBatchingWindowInSeconds must be 0–300, got ${window}`);
    if (this.batchSize > 10 && window < 1) {
      throw new Error('a BatchSize above 10 needs MaximumBatchingWindowInSeconds ≥ 1 (as Lambda requires)');
    }
    this.windowMs = window * 1000;
    this.concurrency = options.maximumConcurrency ?? options.defaultConcurrency ?? 5;
    if (!Number.isInteger(this.concurrency) || this.concurrency < 1) {
      throw new Error(`MaximumConcurrency must be a positive integer, got ${String(this.concurrency)}`);
    }
    this.waitTimeSeconds = Math.min(20, Math.max(0, options.waitTimeSeconds ?? 20));
    if (!(options.function.timeoutSeconds > 0)) throw new Error('function timeout must be > 0 seconds');
  }

  /** Invocations running now, and the most seen at once. */
  get stats(): { inFlight: number; maxInFlight: number; concurrency: number } {
    return { inFlight: this.inFlight, maxInFlight: this.maxObservedInFlight, concurrency: this.concurrency };
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    // One worker per concurrency slot: each gathers a batch, invokes, settles, repeats,
    // so invocations in flight never exceed MaximumConcurrency.
    this.workers = Array.from({ length: this.concurrency }, () => this.work());
  }

  /**
   * Stops polling and drains: open long polls are cancelled, a batch being gathered is
   * invoked with what it holds, and running invocations are settled before this resolves.
   */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.abort.abort();
    await Promise.all(this.workers);
  }

  private async work(): Promise<void> {
    let backoffMs = 100;
    while (this.running) {
      let messages: Message[];
      try {
        messages = await this.gather();
        backoffMs = 100;
      } catch (error) {
        if (!this.running) break;
        this.options.onError?.(error, 'receive');
        await sleep(backoffMs, this.abort.signal);
        backoffMs = Math.min(backoffMs * 2, 5000);
        continue;
      }
      if (messages.length > 0) await this.invoke(messages);
    }
  }

  /** Receives up to BatchSize messages, waiting at most the batching window once the first arrives. */
  private async gather(): Promise<Message[]> {
    const batch: Message[] = [];
    let bytes = 0;
    let deadline = Number.POSITIVE_INFINITY;
    while (this.running && batch.length < this.batchSize && bytes < INVOCATION_PAYLOAD_LIMIT) {
      const now = Date.now();
      if (batch.length > 0 && now >= deadline) break;
      // Before the first message: a full long poll. Afterwards: only what is left of the window.
      const wait = batch.length === 0 ? this.waitTimeSeconds : Math.min(this.waitTimeSeconds, Math.floor((deadline - now) / 1000));
      let received: Message[];
      try {
        const response = await this.options.sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: this.options.queueUrl,
            MaxNumberOfMessages: Math.min(SQS_MAX_RECEIVE, this.batchSize - batch.length),
            WaitTimeSeconds: wait,
            MessageSystemAttributeNames: ['All'],
            MessageAttributeNames: ['All'],
          }),
          { abortSignal: this.abort.signal },
        );
        received = response.Messages ?? [];
      } catch (error) {
        // Stopping cancels the long poll; invoke what has been gathered so nothing is stranded.
        if (!this.running && batch.length > 0) return batch;
        if (batch.length > 0) {
          this.options.onError?.(error, 'receive');
          return batch;
        }
        throw error;
      }
      for (const message of received) {
        batch.push(message);
        bytes += Buffer.byteLength(message.Body ?? '');
      }
      if (batch.length > 0 && deadline === Number.POSITIVE_INFINITY) deadline = Date.now() + this.windowMs;
      if (this.windowMs === 0 && batch.length > 0) break;
      if (received.length === 0 && wait === 0 && batch.length > 0) {
        // Less than a second of window left and nothing came: wait it out briefly, then try once more.
        await sleep(Math.min(100, Math.max(0, deadline - Date.now())), this.abort.signal);
      }
    }
    return batch;
  }

  private async invoke(messages: Message[]): Promise<void> {
    const records = messages.map((m) => toLambdaRecord(m, this.options.queueArn, this.options.region));
    const requestId = randomUUID();
    const timeoutMs = this.options.function.timeoutSeconds * 1000;
    const startedAt = Date.now();
    const context = lambdaContext(this.options.function, this.options.region, requestId, startedAt + timeoutMs);
    this.inFlight++;
    this.maxObservedInFlight = Math.max(this.maxObservedInFlight, this.inFlight);
    this.options.onInvocationStart?.(requestId, records);
    let outcome: InvocationOutcome;
    let toDelete: string[] = [];
    let error: string | undefined;
    try {
      const settled = await runWithTimeout(() => this.options.handler({ Records: records }, context), timeoutMs);
      if (settled.kind === 'timeout') {
        outcome = 'timeout';
        error = `Task timed out after ${this.options.function.timeoutSeconds.toFixed(2)} seconds`;
      } else if (settled.kind === 'error') {
        outcome = 'error';
        error = describeError(settled.error);
      } else if (!serialisable(settled.value)) {
        // The runtime cannot send the response back: an invocation error, whatever the mapping's settings.
        outcome = 'error';
        error = 'Runtime error: unable to serialise the response to JSON';
      } else if (!this.options.reportBatchItemFailures) {
        outcome = 'success';
        toDelete = records.map((r) => r.messageId);
      } else {
        const verdict = interpretBatchResponse(settled.value, records);
        if (verdict.valid) {
          const failed = new Set(verdict.failedIds);
          toDelete = records.map((r) => r.messageId).filter((id) => !failed.has(id));
          outcome = failed.size === 0 ? 'success' : 'partial';
        } else {
          outcome = 'invalid-response';
          error = verdict.reason;
        }
      }
    } finally {
      this.inFlight--;
    }
    const deleted = toDelete.length > 0 ? await this.deleteMessages(messages, new Set(toDelete)) : [];
    const deletedSet = new Set(deleted);
    this.options.onInvocation?.({
      requestId,
      outcome,
      records,
      deleted,
      failed: records.map((r) => r.messageId).filter((id) => !deletedSet.has(id)),
      startedAt,
      durationMs: Date.now() - startedAt,
      ...(error === undefined ? {} : { error }),
    });
  }

  /** DeleteMessageBatch in chunks of 10; returns the messageIds actually deleted. */
  private async deleteMessages(messages: Message[], ids: Set<string>): Promise<string[]> {
    const targets = messages.filter((m) => ids.has(m.MessageId!));
    const deleted: string[] = [];
    for (let i = 0; i < targets.length; i += SQS_MAX_RECEIVE) {
      const chunk = targets.slice(i, i + SQS_MAX_RECEIVE);
      try {
        const response = await this.options.sqs.send(
          new DeleteMessageBatchCommand({
            QueueUrl: this.options.queueUrl,
            Entries: chunk.map((m, index) => ({ Id: String(index), ReceiptHandle: m.ReceiptHandle! })),
          }),
        );
        for (const ok of response.Successful ?? []) deleted.push(chunk[Number(ok.Id)]!.MessageId!);
        if (response.Failed && response.Failed.length > 0) {
          this.options.onError?.(
            new Error(`DeleteMessageBatch failed for ${response.Failed.length} message(s): ${response.Failed.map((f) => f.Message ?? f.Code).join('; ')}`),
            'delete',
          );
        }
      } catch (error) {
        this.options.onError?.(error, 'delete');
      }
    }
    return deleted;
  }
}

/** The verdict on a handler's response under ReportBatchItemFailures. */
export type BatchResponseVerdict = { valid: true; failedIds: string[] } | { valid: false; reason: string };

/**
 * Applies Lambda's rules for an SQS partial batch response. The value is first passed
 * through JSON as the Node.js runtime serialises a handler's return value.
 */
export function interpretBatchResponse(value: unknown, records: readonly Pick<SQSRecord, 'messageId'>[]): BatchResponseVerdict {
  let json: unknown;
  try {
    const text = JSON.stringify(value);
    json = text === undefined ? null : JSON.parse(text);
  } catch (error) {
    return { valid: false, reason: `response is not serialisable to JSON: ${(error as Error).message}` };
  }
  if (json === null) return { valid: true, failedIds: [] };
  if (typeof json !== 'object' || Array.isArray(json)) {
    return { valid: false, reason: `response is not a JSON object (got ${Array.isArray(json) ? 'an array' : typeof json})` };
  }
  const failures = (json as Record<string, unknown>).batchItemFailures;
  if (failures === undefined || failures === null) return { valid: true, failedIds: [] };
  if (!Array.isArray(failures)) return { valid: false, reason: 'batchItemFailures is not a list' };
  const ids = new Set(records.map((r) => r.messageId));
  const failedIds: string[] = [];
  for (const [index, entry] of failures.entries()) {
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
      return { valid: false, reason: `batchItemFailures[${index}] is not an object` };
    }
    const id = (entry as Record<string, unknown>).itemIdentifier;
    if (id === undefined || id === null) return { valid: false, reason: `batchItemFailures[${index}] has no itemIdentifier` };
    if (typeof id !== 'string') return { valid: false, reason: `batchItemFailures[${index}].itemIdentifier is not a string` };
    if (id === '') return { valid: false, reason: `batchItemFailures[${index}].itemIdentifier is empty` };
    if (!ids.has(id)) return { valid: false, reason: `batchItemFailures[${index}].itemIdentifier ${JSON.stringify(id)} is not a messageId of this batch` };
    failedIds.push(id);
  }
  return { valid: true, failedIds };
}

/** An SQS message as Lambda presents it in an SQSEvent record. */
export function toLambdaRecord(message: Message, queueArn: string, region: string): SQSRecord {
  const a = message.Attributes ?? {};
  const attributes: SQSRecord['attributes'] = {
    ApproximateReceiveCount: a.ApproximateReceiveCount ?? '1',
    SentTimestamp: a.SentTimestamp ?? String(Date.now()),
    SenderId: a.SenderId ?? '000000000000',
    ApproximateFirstReceiveTimestamp: a.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
  };
  if (a.AWSTraceHeader !== undefined) attributes.AWSTraceHeader = a.AWSTraceHeader;
  if (a.SequenceNumber !== undefined) attributes.SequenceNumber = a.SequenceNumber;
  if (a.MessageGroupId !== undefined) attributes.MessageGroupId = a.MessageGroupId;
  if (a.MessageDeduplicationId !== undefined) attributes.MessageDeduplicationId = a.MessageDeduplicationId;
  if (a.DeadLetterQueueSourceArn !== undefined) attributes.DeadLetterQueueSourceArn = a.DeadLetterQueueSourceArn;
  const record: SQSRecord = {
    messageId: message.MessageId!,
    receiptHandle: message.ReceiptHandle!,
    body: message.Body ?? '',
    attributes,
    messageAttributes: toLambdaMessageAttributes(message.MessageAttributes),
    md5OfBody: message.MD5OfBody!,
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: region,
  };
  if (message.MD5OfMessageAttributes !== undefined) record.md5OfMessageAttributes = message.MD5OfMessageAttributes;
  return record;
}

/** Lambda's camel-cased attribute shape: binary values base64, list fields always present and empty. */
export function toLambdaMessageAttributes(attributes: Record<string, MessageAttributeValue> | undefined): SQSMessageAttributes {
  const result: SQSMessageAttributes = {};
  for (const [name, value] of Object.entries(attributes ?? {})) {
    const attribute: SQSMessageAttributes[string] = { stringListValues: [], binaryListValues: [], dataType: value.DataType ?? 'String' };
    if (value.StringValue !== undefined) attribute.stringValue = value.StringValue;
    if (value.BinaryValue !== undefined) attribute.binaryValue = Buffer.from(value.BinaryValue).toString('base64');
    result[name] = attribute;
  }
  return result;
}

/** A Lambda context whose remaining time counts down to `deadline`. */
export function lambdaContext(fn: LocalFunctionConfig, region: string, requestId: string, deadline: number): Context {
  const day = new Date().toISOString().slice(0, 10).replace(/-/g, '/');
  const unsupported = (name: string) => () => {
    throw new Error(`context.${name}() is not supported: return a value or a promise from the handler`);
  };
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: fn.name,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${region}:000000000000:function:${fn.name}`,
    memoryLimitInMB: String(fn.memoryMB ?? 128),
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${fn.name}`,
    logStreamName: `${day}/[$LATEST]${randomBytes(16).toString('hex')}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: unsupported('done'),
    fail: unsupported('fail'),
    succeed: unsupported('succeed'),
  };
}

type Settled = { kind: 'value'; value: unknown } | { kind: 'error'; error: unknown } | { kind: 'timeout' };

async function runWithTimeout(run: () => unknown, timeoutMs: number): Promise<Settled> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<Settled>((resolve) => {
    timer = setTimeout(() => resolve({ kind: 'timeout' }), timeoutMs);
  });
  const execution = (async (): Promise<Settled> => {
    try {
      return { kind: 'value', value: await run() };
    } catch (error) {
      return { kind: 'error', error };
    }
  })();
  try {
    return await Promise.race([execution, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function serialisable(value: unknown): boolean {
  try {
    JSON.stringify(value);
    return true;
  } catch {
    return false;
  }
}

function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
