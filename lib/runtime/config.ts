/**
 * The consumer's configuration: task definitions, options with documented defaults, and
 * how options fall back to the environment the TaskQueue construct sets on the Lambda.
 */
import type { GroupResult } from '../protocol/group.ts';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { S3Client } from '@aws-sdk/client-s3';
import type { StandardSchemaV1 } from '@standard-schema/spec';
import type { TaskContract } from '../protocol/contract.ts';
import type { ConcurrencyOptions, RateLimitOptions } from '../protocol/flow-control.ts';
import { DEFAULTS, ENV } from '../protocol/resources.ts';
import { SQS_MAX_VISIBILITY_SECONDS } from '../protocol/limits.ts';
import { DEFAULT_BACKOFF, type BackoffOptions } from './backoff.ts';
import type { MetricsSink, RuntimeLogger } from './telemetry.ts';
import { laneRoutingFromEnv, type LaneRouting } from './lane-routing.ts';
import type { AwsTimeouts } from '../protocol/aws-timeouts.ts';

/**
 * How a task type is protected against duplicates:
 * - `lease` (default): a lease in the task table; a duplicate never runs while another copy
 *   runs or after one succeeded. 2 writes per task.
 * - `record`: a consistent read before, one write after; a duplicate arriving after the
 *   success is skipped, but two copies running at the same moment may both run. 1 write + 1 read.
 * - `off`: no table at all; the handler must be idempotent downstream. Attempts are counted
 *   by SQS's ApproximateReceiveCount.
 */
export type IdempotencyMode = 'lease' | 'record' | 'off';

/** What a handler gets besides its payload. */
export interface TaskContext {
  readonly taskId: string;
  readonly type: string;
  readonly idempotencyKey: string;
  /** 1 for the first execution. */
  readonly attempt: number;
  readonly maxAttempts: number;
  readonly messageId: string;
  /** ISO-8601 time the producer accepted the task. */
  readonly createdAt: string;
  /**
   * Aborted when the handler's time is up (timeoutMs or the invocation's deadline), or when a
   * producer cancels the task while it runs (reason: a TaskCancelledError, code CANCELLED) —
   * seen within RuntimeOptions.cancelCheckIntervalMs, or at once by checkCancelled(). A handler
   * that throws after a cancel ends the task CANCELLED; one that returns ends it SUCCEEDED.
   */
  readonly signal: AbortSignal;
  /**
   * Reads the task's record now (one consistent read): true, and `signal` aborted, when the
   * task was cancelled. Always false for idempotency 'off' (no record), and when the read fails
   * (logged; the periodic check goes on).
   */
  checkCancelled(): Promise<boolean>;
  /** Epoch ms by which the handler must finish. */
  readonly deadline: number;
  /** The group the task is a member of (producer.sendGroup). */
  readonly groupId?: string;
  /** A group's callback task (sendGroup's onComplete): the members' counts once all of them finished. */
  readonly groupResult?: GroupResult;
  readonly logger: RuntimeLogger;
}

/**
 * One task type. The payload type `P` comes from `schema` when there is one, else from the
 * handler's parameter: `handler: async (payload: { to: string }) => …`.
 */
export interface TaskDefinition<P = any, R = unknown> {
  /** Runs the task. The returned value, when its JSON is ≤ MAX_RESULT_BYTES, is stored for status polling. */
  handler(payload: P, context: TaskContext): Promise<R> | R;
  /**
   * A Standard Schema (zod ≥ 3.24, valibot ≥ 1, arktype ≥ 2, …; synchronous) the payload must
   * satisfy. The handler receives the schema's output, typed as `P`; a payload it rejects is
   * dead-lettered at once (schema-violation) with each issue's field path and message.
   * @default none
   */
  schema?: StandardSchemaV1<unknown, P>;
  /**
   * The task's contract (lib/protocol/contract.ts), shared with producers: its schema checks
   * the payload (as `schema` does — give one or the other), and its defaults (idempotency,
   * maxAttempts, timeoutMs) apply unless this definition sets them. Its type must be this
   * definition's key.
   * @default none
   */
  contract?: TaskContract<string, any, P>;
  /**
   * Checks the payload before the handler runs; throwing or returning false dead-letters the
   * task at once (schema-violation). Throw an Error whose message names the field
   * (`to: must be an e-mail address`): it becomes the dead letter's last error.
   * @default none
   */
  validate?(payload: unknown): boolean | void;
  /** Handler executions before the task is dead-lettered. @default RuntimeOptions.maxAttempts (5) */
  maxAttempts?: number;
  /** A run longer than this is a retryable failure. @default none (bounded by the invocation) */
  timeoutMs?: number;
  /** @default 'lease' */
  idempotency?: IdempotencyMode;
  /**
   * Tasks of this type per second over all consumers, per key (docs/FLOW-CONTROL.md). A task
   * refused goes back to the queue without using an attempt. Needs the task table.
   * @default the contract's, else none
   */
  rateLimit?: RateLimitOptions;
  /**
   * Handlers of this type running at once over all consumers, per key (docs/FLOW-CONTROL.md).
   * A task refused goes back to the queue without using an attempt. Needs the task table; not
   * on a FIFO queue (its message groups already serialise).
   * @default the contract's, else none
   */
  concurrency?: ConcurrencyOptions;
}

export type TaskDefinitions = Record<string, TaskDefinition>;

export interface Clock {
  now(): number;
}

export interface RuntimeOptions {
  /** Injected SDK clients (tests, custom config). Default: DynamoDB created once per container; SQS and S3 loaded on first need. */
  clients?: { dynamo?: DynamoDBClient; sqs?: SQSClient; s3?: S3Client };
  /**
   * Bounds on each HTTP call of the clients the runtime creates (not injected ones): a call
   * on a silent connection fails with a TimeoutError and the SDK retries it on a new one,
   * instead of waiting past the function's timeout.
   * @default { connectionMs: 3000, requestMs: 5000, s3IdleMs: 10000 }
   */
  awsTimeouts?: AwsTimeouts;
  /** Task table. @default env TASKQ_TABLE_NAME (required unless every type uses idempotency 'off') */
  tableName?: string;
  /** Source queue, for visibility changes and delayed re-sends. @default env TASKQ_QUEUE_URL, else derived from the record's eventSourceARN */
  queueUrl?: string;
  /** Where the consumer dead-letters. @default env TASKQ_DLQ_URL (without it, dead-lettering fails and the redrive policy takes over) */
  deadLetterQueueUrl?: string;
  /** The only bucket claim checks are read from. @default env TASKQ_BUCKET_NAME */
  bucketName?: string;
  /** The only key prefix claim checks are read from. @default env TASKQ_CLAIM_PREFIX, else 'claims/' */
  claimPrefix?: string;
  /** Process records in order, stopping at the first failure. @default env TASKQ_FIFO === 'true', or the event source ARN ends with .fifo */
  fifo?: boolean;
  /** Records of a batch running at once. @default 10 */
  concurrency?: number;
  /** @default 5 */
  maxAttempts?: number;
  /** @default { baseSeconds: 10, capSeconds: 3600, jitter: 'equal' } */
  backoff?: Partial<BackoffOptions>;
  /** Task records' time to live after their last write. @default env TASKQ_RECORD_TTL_SECONDS, else 30 days (> 14 days retention + 14 days DLQ) */
  recordTtlSeconds?: number;
  /** The source queue's visibility timeout: caps leases. @default env TASKQ_VISIBILITY_TIMEOUT_SECONDS, else 12 h */
  visibilityTimeoutSeconds?: number;
  /** Time kept free at the end of an invocation for completion writes and SQS calls; records not started before it go back unattempted. @default 2000 */
  deadlineMarginMs?: number;
  /** Lease beyond the invocation's end (clock skew between instances). @default 5000 */
  leaseMarginMs?: number;
  /**
   * How long after a lease ended another copy may take the task over (a run that crashed, or
   * whose completion the table refused). The grace lets the outcome copy of a finished run be
   * recorded first, so a duplicate arriving just after the lease does not run the task again.
   * It does not delay crash recovery in practice: the crashed run's own message comes back
   * after the queue's visibility timeout (≥ 6 × the function timeout), well after lease + grace.
   * @default 60000
   */
  takeoverGraceMs?: number;
  /**
   * maxReceiveCount of the source queue's redrive policy. A record about to go back to the
   * queue (retry, re-delay, not started) whose ApproximateReceiveCount has reached it would be
   * moved to the DLQ by SQS on its next receive, without a reason: instead it is re-sent as a
   * fresh copy (delay ≤ 900 s) and acknowledged — or, on a FIFO queue and for idempotency
   * 'off', dead-lettered by the consumer with reason attempts-exhausted.
   * @default env TASKQ_MAX_RECEIVE_COUNT, else unknown (records always go back to the queue)
   */
  maxReceiveCount?: number;
  /** A not-yet-due task (notBefore) is re-delayed by visibility while its receive count is below this, else re-sent as a fresh copy. @default 3 */
  redelayReceiveBudget?: number;
  /**
   * The bound on returns to the queue that use no attempt (the task table unavailable, a
   * lease held by another copy, a claim object that cannot be fetched yet…): a task is
   * received at most `maxAttempts + maxNoAttemptReturns` times in all, counted across the
   * fresh copies the consumer re-sends; the receive that reaches it dead-letters the task
   * with the reason of what kept it from running (table-unavailable, claim-unavailable,
   * outcome-unrecorded, redeliveries-exhausted). Not counted against it: receives before a
   * notBefore is due on earlier copies, and records never started (deadline, FIFO group).
   * Such returns back off exponentially with their count, so the default spans hours.
   * @default 20
   */
  maxNoAttemptReturns?: number;
  /**
   * Delete a task's claim-check object (its payloadRef, which must state size and sha256) once
   * the task is SUCCEEDED and that completion write was acknowledged — batched, one S3
   * DeleteObjects per invocation; a failed delete is logged and left to the bucket's lifecycle
   * rule. Only for idempotency 'lease' and 'record' (a later copy of a SUCCEEDED task is then
   * acknowledged without fetching); never for 'off', never for a retried or dead-lettered task
   * (a redrive needs the object), never for AWS Extended Client pointers (their idempotency key
   * is only inside the object, so a duplicate must fetch it before it can be recognised).
   * @default true
   */
  deleteClaimsAfterSuccess?: boolean;
  /**
   * While handlers run, how often their records are re-read to see a cancel (one consistent
   * BatchGetItem per invocation and interval, 1 read unit per running task: a task running
   * one minute costs 12 reads, about $0.0000015). 0 turns the periodic check off
   * (ctx.checkCancelled() still reads at the handler's request). Idempotency 'off' is never checked.
   * @default 5000
   */
  cancelCheckIntervalMs?: number;
  /** @default { now: Date.now } */
  clock?: Clock;
  /** Jitter source. @default Math.random */
  random?: () => number;
  /** @default a JSON logger on stdout, level from POWERTOOLS_LOG_LEVEL / AWS_LAMBDA_LOG_LEVEL / LOG_LEVEL (INFO) */
  logger?: RuntimeLogger;
  /** @default EMF on stdout */
  metrics?: MetricsSink;
  /** @default env TASKQ_METRICS_NAMESPACE, else 'TaskQueue' */
  metricsNamespace?: string;
  /**
   * Also publish TasksProcessed, TasksFailed and EndToEndLatency per tenant (dimensions
   * TaskType + Tenant; the tenant is the message group id a standard queue's message carries,
   * `send(…, { tenantId })`). Opt-in: every tenant is a custom metric series CloudWatch bills.
   * @default false
   */
  metricsTenantDimension?: boolean;
  /** Service name in logs. @default env POWERTOOLS_SERVICE_NAME, else AWS_LAMBDA_FUNCTION_NAME, else 'taskq-consumer' */
  serviceName?: string;
}

export interface ResolvedConfig {
  readonly tableName: string | undefined;
  readonly queueUrl: string | undefined;
  readonly deadLetterQueueUrl: string | undefined;
  readonly bucketName: string | undefined;
  readonly claimPrefix: string;
  readonly fifo: boolean | undefined;
  readonly concurrency: number;
  readonly maxAttempts: number;
  readonly backoff: BackoffOptions;
  readonly recordTtlSeconds: number;
  readonly visibilityTimeoutSeconds: number;
  readonly deadlineMarginMs: number;
  readonly leaseMarginMs: number;
  readonly redelayReceiveBudget: number;
  readonly maxNoAttemptReturns: number;
  readonly takeoverGraceMs: number;
  /** The queue's visibility timeout was given (option or environment), not assumed. */
  readonly visibilityKnown: boolean;
  readonly maxReceiveCount: number | undefined;
  readonly deleteClaimsAfterSuccess: boolean;
  readonly cancelCheckIntervalMs: number;
  readonly metricsNamespace: string;
  readonly metricsTenantDimension: boolean;
  readonly serviceName: string;
  /** With lanes: this consumer's lane and the stack's routing table (lane-routing.ts). */
  readonly lanes: LaneRouting | undefined;
}

export const RUNTIME_DEFAULTS = {
  concurrency: 10,
  maxAttempts: 5,
  recordTtlSeconds: 30 * 24 * 3600,
  deadlineMarginMs: 2000,
  leaseMarginMs: 5000,
  redelayReceiveBudget: 3,
  maxNoAttemptReturns: 20,
  takeoverGraceMs: 60_000,
  cancelCheckIntervalMs: 5000,
} as const;

function positiveNumber(value: unknown, name: string): number | undefined {
  if (value === undefined || value === '') return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number, got ${String(value)}`);
  return n;
}

function wholeNumber(n: number | undefined): number | undefined {
  return n === undefined ? undefined : Math.floor(n);
}

export function resolveConfig(options: RuntimeOptions, env: NodeJS.ProcessEnv = process.env): ResolvedConfig {
  const fifoEnv = env[ENV.fifo];
  const backoff = { ...DEFAULT_BACKOFF, ...options.backoff };
  const visibility =
    positiveNumber(options.visibilityTimeoutSeconds, 'visibilityTimeoutSeconds') ?? positiveNumber(env[ENV.visibilityTimeoutSeconds], ENV.visibilityTimeoutSeconds);
  if (!(backoff.baseSeconds > 0) || !(backoff.capSeconds > 0)) throw new Error('backoff baseSeconds and capSeconds must be positive');
  return {
    tableName: options.tableName ?? (env[ENV.tableName] || undefined),
    queueUrl: options.queueUrl ?? (env[ENV.queueUrl] || undefined),
    deadLetterQueueUrl: options.deadLetterQueueUrl ?? (env[ENV.deadLetterQueueUrl] || undefined),
    bucketName: options.bucketName ?? (env[ENV.bucketName] || undefined),
    claimPrefix: options.claimPrefix ?? (env[ENV.claimPrefix] || DEFAULTS.claimPrefix),
    fifo: options.fifo ?? (fifoEnv ? fifoEnv === 'true' : undefined),
    concurrency: Math.floor(positiveNumber(options.concurrency, 'concurrency') ?? RUNTIME_DEFAULTS.concurrency),
    maxAttempts: Math.floor(positiveNumber(options.maxAttempts, 'maxAttempts') ?? RUNTIME_DEFAULTS.maxAttempts),
    backoff,
    recordTtlSeconds:
      positiveNumber(options.recordTtlSeconds, 'recordTtlSeconds') ??
      positiveNumber(env[ENV.recordTtlSeconds], ENV.recordTtlSeconds) ??
      RUNTIME_DEFAULTS.recordTtlSeconds,
    visibilityTimeoutSeconds: Math.min(SQS_MAX_VISIBILITY_SECONDS, visibility ?? SQS_MAX_VISIBILITY_SECONDS),
    visibilityKnown: visibility !== undefined,
    deadlineMarginMs: options.deadlineMarginMs ?? RUNTIME_DEFAULTS.deadlineMarginMs,
    leaseMarginMs: options.leaseMarginMs ?? RUNTIME_DEFAULTS.leaseMarginMs,
    redelayReceiveBudget: options.redelayReceiveBudget ?? RUNTIME_DEFAULTS.redelayReceiveBudget,
    takeoverGraceMs: options.takeoverGraceMs ?? RUNTIME_DEFAULTS.takeoverGraceMs,
    maxNoAttemptReturns: Math.floor(positiveNumber(options.maxNoAttemptReturns, 'maxNoAttemptReturns') ?? RUNTIME_DEFAULTS.maxNoAttemptReturns),
    maxReceiveCount: wholeNumber(positiveNumber(options.maxReceiveCount, 'maxReceiveCount') ?? positiveNumber(env[ENV.maxReceiveCount], ENV.maxReceiveCount)),
    deleteClaimsAfterSuccess: options.deleteClaimsAfterSuccess ?? true,
    cancelCheckIntervalMs: cancelInterval(options.cancelCheckIntervalMs),
    metricsNamespace: options.metricsNamespace ?? (env[ENV.metricsNamespace] || DEFAULTS.metricsNamespace),
    metricsTenantDimension: options.metricsTenantDimension === true,
    serviceName: options.serviceName ?? (env.POWERTOOLS_SERVICE_NAME || env.AWS_LAMBDA_FUNCTION_NAME || 'taskq-consumer'),
    lanes: laneRoutingFromEnv(env),
  };
}

function cancelInterval(value: number | undefined): number {
  if (value === undefined) return RUNTIME_DEFAULTS.cancelCheckIntervalMs;
  if (!Number.isFinite(value) || value < 0) throw new Error(`cancelCheckIntervalMs must be 0 (off) or a positive number of milliseconds, got ${String(value)}`);
  return value;
}

/** https://sqs.<region>.amazonaws.com/<account>/<name> from arn:aws:sqs:<region>:<account>:<name>. */
export function queueUrlFromArn(arn: string): string | undefined {
  const parts = arn.split(':');
  if (parts.length !== 6 || parts[2] !== 'sqs') return undefined;
  const [, partition, , region, account, name] = parts;
  const domain = partition === 'aws-cn' ? 'amazonaws.com.cn' : 'amazonaws.com';
  return `https://sqs.${region}.${domain}/${account}/${name}`;
}
