/**
 * The pipelines the benchmark compares, each with a producer side and a Lambda-shaped
 * consumer side on the same emulators:
 *
 * - (a) this project: TaskProducer.sendBatch → queue → event source mapping (esm.ts) →
 *   defineTasks handler, in each idempotency mode (`lease`, `record`, `off`);
 * - (b) the seed's naive pattern (anchors/naive.ts);
 * - (c) sqs-producer → queue → event source mapping → Powertools BatchProcessor +
 *   makeIdempotent (anchors/powertools-consumer.ts).
 */
import { randomUUID } from 'node:crypto';
import { Producer } from 'sqs-producer';
import type { SQSBatchResponse, SQSEvent, Context } from 'aws-lambda';
import { TaskProducer } from '../../lib/client/index.ts';
import { defineTasks, EmfMetricsSink, JsonLogger, PermanentError, type IdempotencyMode } from '../../lib/runtime/index.ts';
import { SQS_BATCH_MAX_BYTES, SQS_BATCH_MAX_ENTRIES } from '../../lib/protocol/limits.ts';
import { createPowertoolsConsumer } from '../anchors/powertools-consumer.ts';
import { NaiveWorkers, naiveSend } from '../anchors/naive.ts';
import { EventSourceMappingSim, type InvocationReport, type SqsLambdaHandler } from './esm.ts';
import type { Clients, Resources } from './env.ts';
import type { Ledger } from './ledger.ts';
import type { Meter } from './meter.ts';
import { payloadOf, type BenchPayload, type WorkloadTask } from './workload.ts';

export type PipelineId = 'a-lease' | 'a-record' | 'a-off' | 'b-naive' | 'c-powertools';

export const PIPELINES: Record<PipelineId, { label: string; short: string }> = {
  'a-lease': { label: '(a) taskq, idempotency lease', short: 'a lease' },
  'a-record': { label: '(a) taskq, idempotency record', short: 'a record' },
  'a-off': { label: '(a) taskq, idempotency off', short: 'a off' },
  'b-naive': { label: '(b) naive: SendMessage / receive 1 / DeleteMessage', short: 'b naive' },
  'c-powertools': { label: '(c) sqs-producer + Powertools batch + idempotency', short: 'c powertools' },
};

export function modeOf(id: PipelineId): IdempotencyMode | undefined {
  return id === 'a-lease' ? 'lease' : id === 'a-record' ? 'record' : id === 'a-off' ? 'off' : undefined;
}

/** The message a task becomes, in send order: each task, then the duplicate copies (a producer retry). */
export function sendOrder(tasks: readonly WorkloadTask[]): WorkloadTask[] {
  return [...tasks, ...tasks.filter((t) => t.duplicate)];
}

/** Body of (b) and (c): the same envelope v1 fields this project sends. */
export function anchorBody(task: WorkloadTask, createdAt = new Date()): string {
  return JSON.stringify({ v: 1, id: task.key, type: task.type, payload: payloadOf(task), createdAt: createdAt.toISOString() });
}

export interface ProduceResult {
  sent: number;
  failed: number;
  /** Keys of the messages that could not be sent. */
  failedKeys: Set<string>;
  errors: string[];
  ms: number;
}

/** Sends `messages` with the pipeline's producer. */
export async function produce(id: PipelineId, clients: Clients, r: Resources, messages: readonly WorkloadTask[], options: { claimCheckThresholdBytes?: number } = {}): Promise<ProduceResult> {
  const start = performance.now();
  const errors: string[] = [];
  const failedKeys = new Set<string>();
  let failed = 0;
  if (id.startsWith('a-')) {
    const producer = new TaskProducer({
      queueUrl: r.queueUrl,
      sqs: clients.sqs,
      s3: clients.s3,
      bucketName: r.bucketName,
      ...(options.claimCheckThresholdBytes !== undefined ? { claimCheckThresholdBytes: options.claimCheckThresholdBytes } : {}),
    });
    // sendBatch in slices, so a 10,000-task run does not hold every payload string at once.
    for (let i = 0; i < messages.length; i += 500) {
      const slice = messages.slice(i, i + 500);
      const results = await producer.sendBatch(slice.map((t) => ({ type: t.type, payload: payloadOf(t), taskId: t.key })));
      for (const [j, res] of results.entries()) {
        if (!res.ok) {
          failed += 1;
          failedKeys.add(slice[j]!.key);
          if (errors.length < 5) errors.push(`${res.error.code}: ${res.error.message}`);
        }
      }
    }
    producer.destroy();
  } else if (id === 'b-naive') {
    let next = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < messages.length) {
          const t = messages[next++]!;
          try {
            await naiveSend(clients.sqs, r.queueUrl, anchorBody(t));
          } catch (error) {
            failed += 1;
            failedKeys.add(t.key);
            if (errors.length < 5) errors.push(String(error));
          }
        }
      }),
    );
  } else {
    // sqs-producer sends `batchSize` (10) messages per SendMessageBatch whatever their size; a
    // batch over 1 MiB is rejected by SQS. A user with large messages must split the calls:
    // consecutive groups of ≤ 10 messages and ≤ 1 MiB each, 8 send() calls in flight (the
    // same request concurrency as TaskProducer's default batchConcurrency).
    const producer = Producer.create({ queueUrl: r.queueUrl, sqs: clients.sqs, batchSize: SQS_BATCH_MAX_ENTRIES });
    const groups: { id: string; body: string; key: string }[][] = [];
    let group: { id: string; body: string; key: string }[] = [];
    let bytes = 0;
    for (const t of messages) {
      const body = anchorBody(t);
      const size = Buffer.byteLength(body);
      if (group.length === SQS_BATCH_MAX_ENTRIES || (group.length > 0 && bytes + size > SQS_BATCH_MAX_BYTES)) {
        groups.push(group);
        group = [];
        bytes = 0;
      }
      group.push({ id: randomUUID(), body, key: t.key });
      bytes += size;
    }
    if (group.length > 0) groups.push(group);
    let next = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < groups.length) {
          const g = groups[next++]!;
          try {
            await producer.send(g.map(({ id: messageId, body }) => ({ id: messageId, body })));
          } catch (error) {
            failed += g.length;
            for (const m of g) failedKeys.add(m.key);
            if (errors.length < 5) errors.push(String(error));
          }
        }
      }),
    );
  }
  return { sent: messages.length - failed, failed, failedKeys, errors, ms: performance.now() - start };
}

const discard = (): void => undefined;

/** A Lambda handler of the pipeline (one per simulated Lambda instance). */
export function consumerHandler(id: PipelineId, clients: Clients, r: Resources, ledger: Ledger, settings: { visibilityTimeoutSeconds: number; noop?: boolean }): SqsLambdaHandler {
  const mode = modeOf(id);
  if (mode) {
    return defineTasks(
      {
        bench_task: {
          idempotency: mode,
          handler: (payload: BenchPayload, ctx) => {
            if (!settings.noop) ledger.run(ctx.idempotencyKey, payload.behaviour, (m) => new PermanentError(m));
          },
        },
      },
      {
        clients: { dynamo: clients.dynamo, sqs: clients.sqs, s3: clients.s3 },
        tableName: r.tableName,
        queueUrl: r.queueUrl,
        deadLetterQueueUrl: r.deadLetterQueueUrl,
        bucketName: r.bucketName,
        visibilityTimeoutSeconds: settings.visibilityTimeoutSeconds,
        // Retry delays shortened so a run does not wait minutes (default base 10 s); the
        // number of requests per retry does not depend on the delay.
        backoff: { baseSeconds: 1, capSeconds: 8 },
        // Logs and metrics are formatted as in Lambda (their CPU is counted) but not printed.
        logger: new JsonLogger('bench', 'INFO', discard),
        metrics: new EmfMetricsSink(discard),
      },
    );
  }
  if (id === 'c-powertools') {
    const handler = createPowertoolsConsumer({
      tableName: r.powertoolsTableName,
      dynamo: clients.dynamo,
      tasks: {
        bench_task: (payload, record) => {
          if (!settings.noop) ledger.run(JSON.parse(record.body).id as string, (payload as BenchPayload).behaviour);
        },
      },
    });
    return handler as (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;
  }
  throw new Error(`${id} has no Lambda handler`);
}

export interface Consumer {
  start(): void;
  stop(): Promise<void>;
}

export interface ConsumerSettings {
  concurrency: number;
  memoryMb: number;
  timeoutSeconds: number;
  visibilityTimeoutSeconds: number;
  waitTimeSeconds: number;
  noop?: boolean;
  onInvocation?: (report: InvocationReport) => void;
}

export function makeConsumer(id: PipelineId, clients: Clients, r: Resources, ledger: Ledger, meter: Meter, s: ConsumerSettings, region: string): Consumer {
  if (id === 'b-naive') {
    return new NaiveWorkers({
      sqs: clients.sqs,
      queueUrl: r.queueUrl,
      concurrency: s.concurrency,
      waitTimeSeconds: s.waitTimeSeconds,
      meter,
      handle: (body) => {
        const envelope = JSON.parse(body) as { id: string; payload: BenchPayload };
        if (!s.noop) ledger.run(envelope.id, envelope.payload.behaviour);
      },
    });
  }
  return new EventSourceMappingSim({
    sqs: clients.sqs,
    queueUrl: r.queueUrl,
    queueArn: r.queueArn,
    region,
    handlerFor: () => consumerHandler(id, clients, r, ledger, { visibilityTimeoutSeconds: s.visibilityTimeoutSeconds, ...(s.noop ? { noop: true } : {}) }),
    batchSize: 10,
    concurrency: s.concurrency,
    waitTimeSeconds: s.waitTimeSeconds,
    memoryMb: s.memoryMb,
    timeoutSeconds: s.timeoutSeconds,
    meter,
    ...(s.onInvocation ? { onInvocation: s.onInvocation } : {}),
  });
}
