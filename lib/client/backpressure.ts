/**
 * Backpressure: the queue's backlog read with GetQueueAttributes, at most once per cache
 * interval however many sends ask (concurrent callers share one in-flight request), and a
 * BackpressureError when it is above maxBacklog — the producer's "503, try again later".
 *
 * The backlog is ApproximateNumberOfMessages: messages visible and waiting for a consumer.
 * Delayed messages (scheduled work, including the 15-minute hops of long delays) and
 * in-flight messages (being processed) are not backlog the consumers are behind on.
 * The number is approximate and cached, so a burst can overshoot maxBacklog by about
 * (send rate × cache interval).
 *
 * When the backlog cannot be read, the check fails open (tasks go through) and the failure
 * is cached for the same interval, so a broken permission does not double every send's cost.
 */
import { GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { BackpressureError } from '../protocol/errors.ts';
import type { ResolvedProducerConfig } from './config.ts';

export type BackpressureSettings = NonNullable<ResolvedProducerConfig['backpressure']>;

export class BacklogMonitor {
  private value: number | undefined;
  private fetchedAt = Number.NEGATIVE_INFINITY;
  private inFlight: Promise<number | undefined> | undefined;

  constructor(
    private readonly sqs: SQSClient,
    private readonly queueUrl: string,
    private readonly settings: BackpressureSettings,
    private readonly now: () => number,
  ) {}

  /** The cached backlog, refreshed when older than the cache interval; undefined when unreadable. */
  backlog(): Promise<number | undefined> {
    if (this.now() - this.fetchedAt < this.settings.cacheMs) return Promise.resolve(this.value);
    this.inFlight ??= this.refresh().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  /** Throws BackpressureError when the backlog is above maxBacklog. */
  async check(): Promise<void> {
    const backlog = await this.backlog();
    if (backlog !== undefined && backlog > this.settings.maxBacklog) {
      throw new BackpressureError(backlog, this.settings.maxBacklog, this.settings.retryAfterSeconds);
    }
  }

  private async refresh(): Promise<number | undefined> {
    try {
      const out = await this.sqs.send(new GetQueueAttributesCommand({ QueueUrl: this.queueUrl, AttributeNames: ['ApproximateNumberOfMessages'] }));
      const n = Number(out.Attributes?.ApproximateNumberOfMessages);
      this.value = Number.isFinite(n) ? n : undefined;
    } catch (error) {
      this.value = undefined;
      this.settings.onError?.(error);
    }
    this.fetchedAt = this.now();
    return this.value;
  }
}
