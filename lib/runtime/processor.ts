/**
 * The testable core: one SQS batch in, the partial batch response out. No Lambda globals;
 * the entry point (define-tasks.ts) builds the dependencies once per container. Each
 * invocation runs in phases (batch/invocation.ts lists them), so that table and SQS calls
 * are made once per batch where the API allows it; then the metrics are flushed once.
 */
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { COPY_ATTRIBUTES } from '../protocol/attributes.ts';
import type { AwsClients } from './aws-clients.ts';
import { type Clock, type ResolvedConfig, type TaskDefinitions } from './config.ts';
import type { SqsActions } from './sqs-actions.ts';
import type { TaskStore } from './task-store.ts';
import { MetricsCollector, type MetricsSink, type RuntimeLogger } from './telemetry.ts';
import { Invocation } from './batch/invocation.ts';
import { errorText, type Work } from './batch/work.ts';
import type { ClaimPolicy } from './claim-check.ts';
import type { FlowControl } from './flow/gate.ts';
import type { GroupCounter } from './group-counter.ts';

export interface ProcessorDeps {
  readonly config: ResolvedConfig;
  readonly tasks: TaskDefinitions;
  readonly clients: AwsClients;
  /** Undefined when no table is configured. */
  readonly store: TaskStore | undefined;
  readonly sqs: SqsActions;
  readonly clock: Clock;
  readonly random: () => number;
  readonly logger: RuntimeLogger;
  readonly metrics: MetricsSink;
  /** Rate and concurrency limits (flow/gate.ts); undefined when no task type declares one. */
  readonly flow?: FlowControl;
  /** Group counting (group-counter.ts); undefined when no table is configured. */
  readonly groups?: GroupCounter;
}

export class BatchProcessor {
  private readonly claimPolicy: ClaimPolicy;
  private readonly ttl: number;

  constructor(private readonly deps: ProcessorDeps) {
    this.claimPolicy = { bucketName: deps.config.bucketName, claimPrefix: deps.config.claimPrefix };
    this.ttl = deps.config.recordTtlSeconds;
  }

  async process(event: SQSEvent, context: Pick<Context, 'getRemainingTimeInMillis'>): Promise<SQSBatchResponse> {
    const records = Array.isArray(event?.Records) ? event.Records : [];
    const ids = new Set(records.map((r) => r?.messageId).filter((id): id is string => typeof id === 'string' && id.length > 0));
    const metrics = new MetricsCollector();
    try {
      const works = records
        .filter((r) => r && typeof r.messageId === 'string' && r.messageId.length > 0)
        .map<Work>((record) => ({
          record,
          receiveCount: Number(record.attributes?.ApproximateReceiveCount) || 1,
          priorReceives: Math.max(0, Math.floor(Number(record.messageAttributes?.[COPY_ATTRIBUTES.priorReceives]?.stringValue) || 0)),
          maxAttempts: this.deps.config.maxAttempts,
          attempts: 0,
          ran: false,
        }));
      const run = new Invocation(this.deps, this.claimPolicy, this.ttl, works, context, metrics, records[0]?.eventSourceARN);
      const failed = await run.execute();
      return { batchItemFailures: [...failed].filter((id) => ids.has(id)).map((itemIdentifier) => ({ itemIdentifier })) };
    } catch (error) {
      // A bug, not a record's problem: fail the whole batch safely (idempotency absorbs the re-runs).
      this.deps.logger.error('batch processing failed unexpectedly; reporting every record as failed', { error: errorText(error) });
      return { batchItemFailures: [...ids].map((itemIdentifier) => ({ itemIdentifier })) };
    } finally {
      try {
        if (metrics.byTenant.size > 0) this.deps.metrics.flush(this.deps.config.metricsNamespace, metrics.byTaskType, this.deps.clock.now(), metrics.byTenant);
        else this.deps.metrics.flush(this.deps.config.metricsNamespace, metrics.byTaskType, this.deps.clock.now());
      } catch (error) {
        this.deps.logger.warn('metrics flush failed', { error: errorText(error) });
      }
    }
  }
}
