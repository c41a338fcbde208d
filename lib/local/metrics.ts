/**
 * Local observations, named like the CloudWatch metrics the template's alarms read, so the
 * alarms can be evaluated on the laptop:
 *
 * - AWS/SQS (dimension QueueName), sampled from GetQueueAttributes every `sampleIntervalMs`:
 *   ApproximateNumberOfMessagesVisible / NotVisible / Delayed, and ApproximateAgeOfOldestMessage
 *   — SQS's API does not report that age, so it is computed from the SentTimestamp of the
 *   messages the emulator holds (fauxqs in-process inspection; visible and in flight, not
 *   delayed), and is absent when no inspector is available. NumberOfMessagesDeleted and
 *   NumberOfMessagesReceived count what the local poller deleted and received, with a 0 each
 *   sample like SQS's per-minute publishing (deletes by other clients, e.g. the CLI, are not seen).
 * - AWS/Lambda (dimension FunctionName), from the poller's invocations: Invocations, Errors
 *   (a throw or a timeout; an invalid partial-batch response is not a function error), Duration,
 *   ConcurrentExecutions. Like Lambda, nothing is published for a function not invoked.
 *   Throttles is always 0 locally: the poller never exceeds its concurrency.
 *
 * Plus what the status panel shows: messages deleted (/s), records returned to the queue, p50/p99
 * invocation duration and message sent → deleted time.
 */
import { GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { InvocationResult } from './event-source-poller.ts';

export interface MetricId {
  readonly namespace: string;
  readonly metricName: string;
  readonly dimensions: Readonly<Record<string, string>>;
}

export function metricKey(id: MetricId): string {
  const dims = Object.entries(id.dimensions)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  return `${id.namespace}|${id.metricName}|${dims}`;
}

interface Datapoint {
  readonly t: number;
  readonly v: number;
}

/** Raw datapoints per metric, aggregated on read with a CloudWatch statistic. */
export class MetricStore {
  private readonly series = new Map<string, Datapoint[]>();

  constructor(private readonly retentionMs = 15 * 60_000) {}

  record(id: MetricId, value: number, t = Date.now()): void {
    const key = metricKey(id);
    let points = this.series.get(key);
    if (!points) this.series.set(key, (points = []));
    points.push({ t, v: value });
    if (points.length > 0 && points[0]!.t < t - this.retentionMs) {
      const keepFrom = points.findIndex((p) => p.t >= t - this.retentionMs);
      points.splice(0, keepFrom < 0 ? points.length : keepFrom);
    }
  }

  /** Values recorded in [from, to). */
  values(id: MetricId, from: number, to: number): number[] {
    return (this.series.get(metricKey(id)) ?? []).filter((p) => p.t >= from && p.t < to).map((p) => p.v);
  }

  /** The statistic over [from, to), or undefined when no datapoint fell in it (missing data). */
  statistic(id: MetricId, stat: string, from: number, to: number): number | undefined {
    const values = this.values(id, from, to);
    return aggregate(values, stat);
  }
}

/** CloudWatch statistics: Sum, Average, Minimum, Maximum, SampleCount, pNN(.N). */
export function aggregate(values: readonly number[], stat: string): number | undefined {
  if (values.length === 0) return undefined;
  switch (stat) {
    case 'Sum':
      return values.reduce((a, b) => a + b, 0);
    case 'Average':
      return values.reduce((a, b) => a + b, 0) / values.length;
    case 'Minimum':
      return Math.min(...values);
    case 'Maximum':
      return Math.max(...values);
    case 'SampleCount':
      return values.length;
    default: {
      const match = /^p(\d{1,2}(?:\.\d+)?|100)$/.exec(stat);
      if (!match) throw new Error(`statistic ${stat} is not supported locally (Sum, Average, Minimum, Maximum, SampleCount, pNN)`);
      return percentile(values, Number(match[1]));
    }
  }
}

export function percentile(values: readonly number[], p: number): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

export interface ObservedQueue {
  readonly name: string;
  readonly url: string;
}

export interface MetricsSnapshot {
  /** Source queue: visible, in flight, delayed. */
  readonly visible: number;
  readonly inFlight: number;
  readonly delayed: number;
  readonly deadLetterVisible: number;
  /** Seconds, or undefined when it cannot be observed. */
  readonly oldestAgeSeconds: number | undefined;
  /**
   * Messages the poller deleted from the source queue, i.e. records the consumer acknowledged:
   * succeeded tasks, and also tasks it dead-lettered itself, duplicates it skipped and records
   * it re-sent as fresh copies — not a count of successes.
   */
  readonly deleted: number;
  /** `deleted` per second over the last `rateWindowMs`. */
  readonly deletedPerSecond: number;
  /** Records returned to the queue (reported failures, failed or timed-out batches). */
  readonly returned: number;
  readonly invocations: number;
  readonly errors: number;
  readonly throttles: number;
  readonly invalidResponses: number;
  /** Duration of a whole invocation (a batch of records), ms, over the recent invocations. */
  readonly invocationP50: number | undefined;
  readonly invocationP99: number | undefined;
  /** SentTimestamp → deleted, ms, over the recently deleted messages. */
  readonly sentToDeletedP50: number | undefined;
  readonly sentToDeletedP99: number | undefined;
  readonly concurrency: number;
}

export interface LocalMetricsOptions {
  readonly sqs: SQSClient;
  readonly source: ObservedQueue;
  readonly deadLetter?: ObservedQueue;
  /** More queues whose AWS/SQS depth metrics the template's alarms read (the schedules' dead-letter queue). */
  readonly otherQueues?: readonly ObservedQueue[];
  readonly functionName: string;
  /** Epoch ms of the oldest message a queue holds (visible or in flight), when inspectable. */
  readonly oldestMessageSentAt?: (queueName: string) => number | undefined;
  readonly sampleIntervalMs?: number;
  readonly rateWindowMs?: number;
  readonly store?: MetricStore;
  readonly onError?: (error: unknown) => void;
}

const LATENCY_SAMPLES = 1000;

export class LocalMetrics {
  readonly store: MetricStore;
  private timer: NodeJS.Timeout | undefined;
  private sampling: Promise<void> | undefined;
  private last = { visible: 0, inFlight: 0, delayed: 0, dlq: 0, oldest: undefined as number | undefined };
  private deleted = 0;
  private returned = 0;
  private invocations = 0;
  private errors = 0;
  private invalidResponses = 0;
  private running = 0;
  private readonly deletions: number[] = [];
  private readonly durations: number[] = [];
  private readonly endToEnd: number[] = [];

  constructor(private readonly options: LocalMetricsOptions) {
    this.store = options.store ?? new MetricStore();
  }

  private sqsMetric(metricName: string, queueName: string): MetricId {
    return { namespace: 'AWS/SQS', metricName, dimensions: { QueueName: queueName } };
  }

  private lambdaMetric(metricName: string): MetricId {
    return { namespace: 'AWS/Lambda', metricName, dimensions: { FunctionName: this.options.functionName } };
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.sample(), this.options.sampleIntervalMs ?? 500);
    void this.sample();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.sampling;
  }

  /** Reads the queues' attributes once and records the SQS metrics. */
  sample(): Promise<void> {
    if (this.sampling) return this.sampling;
    this.sampling = (async () => {
      try {
        const now = Date.now();
        const source = await this.readQueue(this.options.source, now);
        this.last = { ...this.last, ...source };
        if (this.options.deadLetter) {
          const dlq = await this.readQueue(this.options.deadLetter, now);
          this.last.dlq = dlq.visible;
        }
        for (const queue of this.options.otherQueues ?? []) await this.readQueue(queue, now);
        for (const name of ['NumberOfMessagesDeleted', 'NumberOfMessagesReceived']) {
          this.store.record(this.sqsMetric(name, this.options.source.name), 0, now);
        }
      } catch (error) {
        this.options.onError?.(error);
      } finally {
        this.sampling = undefined;
      }
    })();
    return this.sampling;
  }

  private async readQueue(queue: ObservedQueue, now: number) {
    const r = await this.options.sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: queue.url,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed'],
      }),
    );
    const visible = Number(r.Attributes?.ApproximateNumberOfMessages ?? 0);
    const inFlight = Number(r.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0);
    const delayed = Number(r.Attributes?.ApproximateNumberOfMessagesDelayed ?? 0);
    this.store.record(this.sqsMetric('ApproximateNumberOfMessagesVisible', queue.name), visible, now);
    this.store.record(this.sqsMetric('ApproximateNumberOfMessagesNotVisible', queue.name), inFlight, now);
    this.store.record(this.sqsMetric('ApproximateNumberOfMessagesDelayed', queue.name), delayed, now);
    let oldest: number | undefined;
    if (this.options.oldestMessageSentAt) {
      const sentAt = this.options.oldestMessageSentAt(queue.name);
      oldest = sentAt === undefined ? 0 : Math.max(0, Math.floor((now - sentAt) / 1000));
      this.store.record(this.sqsMetric('ApproximateAgeOfOldestMessage', queue.name), oldest, now);
    }
    return { visible, inFlight, delayed, oldest };
  }

  /** Marks an invocation as started (ConcurrentExecutions). */
  invocationStarted(): void {
    this.running++;
    this.store.record(this.lambdaMetric('ConcurrentExecutions'), this.running);
  }

  /** Records a settled invocation of the local poller. */
  invocationSettled(result: InvocationResult): void {
    const now = Date.now();
    this.running = Math.max(0, this.running - 1);
    this.invocations++;
    this.store.record(this.lambdaMetric('Invocations'), 1, now);
    this.store.record(this.lambdaMetric('Duration'), result.durationMs, now);
    const functionError = result.outcome === 'error' || result.outcome === 'timeout';
    this.store.record(this.lambdaMetric('Errors'), functionError ? 1 : 0, now);
    this.store.record(this.lambdaMetric('Throttles'), 0, now);
    if (functionError) this.errors++;
    if (result.outcome === 'invalid-response') this.invalidResponses++;
    const source = this.options.source.name;
    this.store.record(this.sqsMetric('NumberOfMessagesReceived', source), result.records.length, now);
    this.store.record(this.sqsMetric('NumberOfMessagesDeleted', source), result.deleted.length, now);
    this.deleted += result.deleted.length;
    this.returned += result.failed.length;
    for (let i = 0; i < result.deleted.length; i++) this.deletions.push(now);
    pushBounded(this.durations, result.durationMs);
    const deleted = new Set(result.deleted);
    for (const record of result.records) {
      if (deleted.has(record.messageId)) pushBounded(this.endToEnd, now - Number(record.attributes.SentTimestamp));
    }
  }

  snapshot(concurrency = 0): MetricsSnapshot {
    const now = Date.now();
    const windowMs = this.options.rateWindowMs ?? 5000;
    while (this.deletions.length > 0 && this.deletions[0]! < now - windowMs) this.deletions.shift();
    return {
      visible: this.last.visible,
      inFlight: this.last.inFlight,
      delayed: this.last.delayed,
      deadLetterVisible: this.last.dlq,
      oldestAgeSeconds: this.last.oldest,
      deleted: this.deleted,
      deletedPerSecond: this.deletions.length / (windowMs / 1000),
      returned: this.returned,
      invocations: this.invocations,
      errors: this.errors,
      throttles: 0,
      invalidResponses: this.invalidResponses,
      invocationP50: percentile(this.durations, 50),
      invocationP99: percentile(this.durations, 99),
      sentToDeletedP50: percentile(this.endToEnd, 50),
      sentToDeletedP99: percentile(this.endToEnd, 99),
      concurrency,
    };
  }
}

function pushBounded(list: number[], value: number): void {
  list.push(value);
  if (list.length > LATENCY_SAMPLES) list.shift();
}
