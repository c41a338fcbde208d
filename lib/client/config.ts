/**
 * TaskProducer configuration: one object, every field documented with its default.
 * `resolveProducerConfig` validates it once (TaskValidationError `CONFIGURATION`) and fills
 * in the defaults, so the send path never re-checks configuration.
 */
import type { SQSClient, SQSClientConfig } from '@aws-sdk/client-sqs';
import type { S3Client } from '@aws-sdk/client-s3';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { TaskContract } from '../protocol/contract.ts';
import { TaskValidationError } from '../protocol/errors.ts';
import { DEAD_LETTER_HEADROOM_BYTES, DEFAULT_CLAIM_CHECK_THRESHOLD_BYTES, DEFAULT_MAX_PAYLOAD_BYTES, SQS_MAX_MESSAGE_BYTES } from '../protocol/limits.ts';
import { DEFAULTS } from '../protocol/resources.ts';
import { ROUTING_DEFAULTS, type RoutingOptions } from './routing.ts';
import type { AwsTimeouts } from '../protocol/aws-timeouts.ts';

/** How a claim-checked task is written. */
export type ClaimCheckFormat =
  /** Our envelope with `payloadRef` (the S3 object is the payload's JSON). Metadata stays readable in the message. */
  | 'envelope'
  /** The AWS SQS Extended Client pointer body; the S3 object is the whole envelope. For consumers using the official Java/Python library. */
  | 'extended-client';

export interface RetryConfig {
  /** Tries per request or batch entry, the first included. @default 3 */
  readonly maxAttempts?: number;
  /** Backoff before try n+1 is a random delay in [0, min(maxDelayMs, baseDelayMs · 2^(n−1))] (full jitter). @default 100 */
  readonly baseDelayMs?: number;
  /** @default 2000 */
  readonly maxDelayMs?: number;
}

export interface TaskProducerConfig {
  /** URL of the task queue. Required. */
  readonly queueUrl: string;
  /**
   * SQS client. @default a new SQSClient({ region, endpoint, credentials }) with the SDK's own
   * retries off (`maxAttempts: 1`): the producer's `retry` policy retries instead, so attempts are
   * not multiplied. A client you pass keeps its retry strategy, which runs inside each of ours.
   */
  readonly sqs?: SQSClient;
  /** Region for the clients the producer creates. @default the SDK's default chain (AWS_REGION…) */
  readonly region?: string;
  /**
   * Endpoint for all clients the producer creates (emulators serving SQS, S3 and DynamoDB on one
   * port). Without it the SDK's own settings apply, including AWS_ENDPOINT_URL_SQS / _S3 /
   * _DYNAMODB. With any custom S3 endpoint, S3 uses path-style URLs.
   */
  readonly endpoint?: string;
  /** Credentials for the clients the producer creates. @default the SDK's default chain */
  readonly credentials?: SQSClientConfig['credentials'];
  /**
   * Bounds on each HTTP call of the clients the producer creates (not of clients you pass): a
   * send on a connection that went silent fails with a TimeoutError after `requestMs`, and the
   * `retry` policy tries again on a new connection — where the SDK's own default would hold
   * your request for up to 15 minutes.
   * @default { connectionMs: 3000, requestMs: 5000, s3IdleMs: 10000 }
   */
  readonly awsTimeouts?: AwsTimeouts;
  /** Whether the queue is FIFO. @default true when queueUrl ends with `.fifo` */
  readonly fifo?: boolean;

  /** Claim-check bucket. Without it, claim checks are off and a message above maxMessageBytes is PAYLOAD_TOO_LARGE. */
  readonly bucketName?: string;
  /** S3 client for claim checks. @default created (lazily, on the first claim check) from region/endpoint/credentials */
  readonly s3?: S3Client;
  /** Key prefix of claim objects; keys are `${claimPrefix}YYYY-MM-DD/<random uuid>`. @default DEFAULTS.claimPrefix ('claims/') */
  readonly claimPrefix?: string;
  /**
   * A task whose message (body + attributes, as SQS counts it) is larger than this travels by
   * claim check. At most maxMessageBytes − DEAD_LETTER_HEADROOM_BYTES (the consumer must be
   * able to add its dead-letter attributes).
   * @default DEFAULT_CLAIM_CHECK_THRESHOLD_BYTES (1 MiB − 4 KiB: claim check only what cannot
   *   go inline; see docs/PROTOCOL.md "Choosing the claim-check threshold")
   */
  readonly claimCheckThresholdBytes?: number;
  /** @default 'envelope' */
  readonly claimCheckFormat?: ClaimCheckFormat;
  /** Largest payload (its JSON, UTF-8 bytes) accepted at all. @default DEFAULT_MAX_PAYLOAD_BYTES (32 MiB) */
  readonly maxPayloadBytes?: number;
  /** The queue's (and its DLQ's) MaximumMessageSize. @default SQS_MAX_MESSAGE_BYTES (1 MiB, SQS's default) */
  readonly maxMessageBytes?: number;

  /** Task table name, for getTaskStatus. */
  readonly tableName?: string;
  /** DynamoDB client for getTaskStatus. @default created lazily from region/endpoint/credentials */
  readonly dynamo?: DynamoDBClient;

  /**
   * The task contracts this producer sends (lib/protocol/contract.ts). With them, a send that
   * names a type as a string must name one of them (else UNKNOWN_TASK_TYPE) and its payload is
   * checked by that contract's schema (SCHEMA_VIOLATION), as `send(contract, payload)` always is.
   * @default none: type strings are sent as given (checked only against the type pattern)
   */
  readonly contracts?: readonly TaskContract[];

  /**
   * Route each task to its lane by the stack's routing table (one GetItem on `tableName`,
   * cached; lib/client/routing.ts), and enable `publish` (fan-out). Needs `tableName`;
   * `queueUrl` is where types go when the stack wrote no routing table.
   * @default false — every task goes to `queueUrl`
   */
  readonly routing?: boolean | RoutingOptions;

  /**
   * Backpressure: refuse new tasks (BackpressureError) while the visible backlog
   * (ApproximateNumberOfMessages) of the queue they go to is above this — with `routing`, each
   * lane's queue on its own. @default undefined — no check
   */
  readonly maxBacklog?: number;
  /** How long one GetQueueAttributes answer is reused. @default 5000 */
  readonly backlogCacheMs?: number;
  /** retryAfterSeconds of a BackpressureError. @default max(1, ceil(backlogCacheMs / 1000)) */
  readonly retryAfterSeconds?: number;
  /**
   * Called when the backlog cannot be read (the check then lets tasks through — fail open —
   * until the next interval). @default undefined
   */
  readonly onBacklogCheckError?: (error: unknown) => void;

  /** SendMessageBatch requests (and claim uploads) in flight at once in sendBatch. FIFO queues always use 1. @default 8 */
  readonly batchConcurrency?: number;
  /** Retries of transient request failures and of batch entries that failed with SenderFault=false. */
  readonly retry?: RetryConfig;
  /**
   * Reject payloads holding values JSON cannot represent anywhere inside them (functions,
   * symbols, undefined in arrays, NaN, ±Infinity) instead of letting JSON.stringify drop or
   * null them. Costs a replacer call per value. @default false (only the top-level value and
   * what makes JSON.stringify throw — BigInt, cycles — are rejected)
   */
  readonly strictPayload?: boolean;
  /**
   * The queue's message retention, seconds: a debounce window (send option `dedupe`) must be
   * shorter. @default 345600 (4 days, the TaskQueue construct's retentionPeriod default)
   */
  readonly queueRetentionSeconds?: number;
  /** Clock, epoch ms (tests). @default Date.now */
  readonly now?: () => number;
}

export interface ResolvedProducerConfig {
  readonly queueUrl: string;
  readonly fifo: boolean;
  readonly claimCheck?: {
    readonly bucketName: string;
    readonly claimPrefix: string;
    readonly thresholdBytes: number;
    readonly format: ClaimCheckFormat;
  };
  readonly maxPayloadBytes: number;
  readonly maxMessageBytes: number;
  /** Largest inline message: maxMessageBytes − DEAD_LETTER_HEADROOM_BYTES. */
  readonly inlineLimitBytes: number;
  readonly tableName?: string;
  readonly routing?: { readonly tableName: string; readonly cacheTtlMs: number };
  readonly backpressure?: {
    readonly maxBacklog: number;
    readonly cacheMs: number;
    readonly retryAfterSeconds: number;
    readonly onError?: (error: unknown) => void;
  };
  readonly batchConcurrency: number;
  readonly retry: Required<RetryConfig>;
  readonly strictPayload: boolean;
  readonly queueRetentionSeconds: number;
  readonly now: () => number;
}

export const PRODUCER_DEFAULTS = {
  backlogCacheMs: 5000,
  batchConcurrency: 8,
  retry: { maxAttempts: 3, baseDelayMs: 100, maxDelayMs: 2000 },
} as const;

function fail(message: string): never {
  throw new TaskValidationError('CONFIGURATION', `TaskProducer: ${message}`);
}

function positiveInteger(name: string, value: number | undefined, fallback: number, min = 1): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < min) fail(`${name} must be an integer ≥ ${min} (got ${String(value)})`);
  return value;
}

/** S3 key prefixes we accept: empty, or safe characters ending with `/`, no `..` segment, no leading `/`. */
const CLAIM_PREFIX_PATTERN = /^(?:[A-Za-z0-9_.=-]+\/)*$/;

export function resolveProducerConfig(config: TaskProducerConfig): ResolvedProducerConfig {
  if (typeof config?.queueUrl !== 'string' || config.queueUrl.length === 0) fail('queueUrl is required');
  const fifo = config.fifo ?? config.queueUrl.endsWith('.fifo');
  const maxMessageBytes = positiveInteger('maxMessageBytes', config.maxMessageBytes, SQS_MAX_MESSAGE_BYTES, 2 * DEAD_LETTER_HEADROOM_BYTES);
  if (maxMessageBytes > SQS_MAX_MESSAGE_BYTES) fail(`maxMessageBytes cannot exceed SQS's ${SQS_MAX_MESSAGE_BYTES}`);
  const inlineLimitBytes = maxMessageBytes - DEAD_LETTER_HEADROOM_BYTES;
  const maxPayloadBytes = positiveInteger('maxPayloadBytes', config.maxPayloadBytes, DEFAULT_MAX_PAYLOAD_BYTES);

  let claimCheck: ResolvedProducerConfig['claimCheck'];
  if (config.bucketName !== undefined) {
    if (typeof config.bucketName !== 'string' || config.bucketName.length === 0) fail('bucketName must be a non-empty string');
    const claimPrefix = config.claimPrefix ?? DEFAULTS.claimPrefix;
    if (!CLAIM_PREFIX_PATTERN.test(claimPrefix) || claimPrefix.split('/').some((s) => s === '.' || s === '..')) {
      fail(`claimPrefix must be empty or segments of [A-Za-z0-9_.=-] each ending with '/', without '.' or '..' segments (got ${JSON.stringify(claimPrefix)})`);
    }
    const thresholdBytes = positiveInteger(
      'claimCheckThresholdBytes',
      config.claimCheckThresholdBytes,
      Math.min(DEFAULT_CLAIM_CHECK_THRESHOLD_BYTES, inlineLimitBytes),
      0,
    );
    if (thresholdBytes > inlineLimitBytes) {
      fail(`claimCheckThresholdBytes (${thresholdBytes}) cannot exceed maxMessageBytes − ${DEAD_LETTER_HEADROOM_BYTES} (${inlineLimitBytes}): the consumer needs room for its dead-letter attributes`);
    }
    const format = config.claimCheckFormat ?? 'envelope';
    if (format !== 'envelope' && format !== 'extended-client') fail(`claimCheckFormat must be 'envelope' or 'extended-client'`);
    claimCheck = { bucketName: config.bucketName, claimPrefix, thresholdBytes, format };
  } else if (config.claimCheckFormat !== undefined || config.claimCheckThresholdBytes !== undefined) {
    fail('claimCheckFormat and claimCheckThresholdBytes need bucketName');
  }

  let backpressure: ResolvedProducerConfig['backpressure'];
  if (config.maxBacklog !== undefined) {
    const maxBacklog = positiveInteger('maxBacklog', config.maxBacklog, 0, 0);
    const cacheMs = positiveInteger('backlogCacheMs', config.backlogCacheMs, PRODUCER_DEFAULTS.backlogCacheMs, 0);
    const retryAfterSeconds = positiveInteger('retryAfterSeconds', config.retryAfterSeconds, Math.max(1, Math.ceil(cacheMs / 1000)));
    backpressure = { maxBacklog, cacheMs, retryAfterSeconds, ...(config.onBacklogCheckError ? { onError: config.onBacklogCheckError } : {}) };
  }

  const retry = {
    maxAttempts: positiveInteger('retry.maxAttempts', config.retry?.maxAttempts, PRODUCER_DEFAULTS.retry.maxAttempts),
    baseDelayMs: positiveInteger('retry.baseDelayMs', config.retry?.baseDelayMs, PRODUCER_DEFAULTS.retry.baseDelayMs, 0),
    maxDelayMs: positiveInteger('retry.maxDelayMs', config.retry?.maxDelayMs, PRODUCER_DEFAULTS.retry.maxDelayMs, 0),
  };
  if (config.tableName !== undefined && (typeof config.tableName !== 'string' || config.tableName.length === 0)) fail('tableName must be a non-empty string');

  let routing: ResolvedProducerConfig['routing'];
  if (config.routing !== undefined && config.routing !== false) {
    if (!config.tableName) fail('routing needs tableName (the task table holds the routing table)');
    const options = config.routing === true ? {} : config.routing;
    routing = { tableName: config.tableName, cacheTtlMs: positiveInteger('routing.cacheTtlMs', options.cacheTtlMs, ROUTING_DEFAULTS.cacheTtlMs, 0) };
  }

  return {
    queueUrl: config.queueUrl,
    fifo,
    ...(routing ? { routing } : {}),
    ...(claimCheck ? { claimCheck } : {}),
    maxPayloadBytes,
    maxMessageBytes,
    inlineLimitBytes,
    ...(config.tableName ? { tableName: config.tableName } : {}),
    ...(backpressure ? { backpressure } : {}),
    batchConcurrency: fifo ? 1 : positiveInteger('batchConcurrency', config.batchConcurrency, PRODUCER_DEFAULTS.batchConcurrency),
    retry,
    strictPayload: config.strictPayload ?? false,
    queueRetentionSeconds: positiveInteger('queueRetentionSeconds', config.queueRetentionSeconds, 4 * 24 * 3600),
    now: config.now ?? Date.now,
  };
}
