/**
 * Synth-time validation of TaskQueueProps: applies the defaults and rejects every
 * configuration AWS would reject at deploy time (or that would silently lose tasks),
 * with a message naming the prop, the value and the rule.
 */
import { Duration, RemovalPolicy, Token } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { ENV } from '../protocol/resources.ts';
import { TASK_QUEUE_DEFAULTS as D, type TaskQueueProps } from './props.ts';

/** Thrown for an invalid TaskQueueProps value. */
export class TaskQueueValidationError extends Error {
  constructor(
    readonly prop: string,
    readonly value: unknown,
    readonly rule: string,
  ) {
    super(`TaskQueue: invalid ${prop} (${describe(value)}): ${rule}`);
    this.name = 'TaskQueueValidationError';
  }
}

export interface ResolvedAlarm {
  readonly threshold: number;
  readonly period: Duration;
  readonly evaluationPeriods: number;
}

/** TaskQueueProps with every default applied and every rule checked. */
export interface ResolvedTaskQueueConfig {
  readonly fifo: boolean;
  readonly contentBasedDeduplication: boolean;
  readonly queueName?: string;
  readonly deadLetterQueueName?: string;
  readonly retentionPeriod: Duration;
  readonly deadLetterRetentionPeriod: Duration;
  readonly visibilityTimeout: Duration;
  readonly maxReceiveCount: number;
  readonly removalPolicy: RemovalPolicy;
  readonly claimPrefix: string;
  readonly claimObjectExpirationDays: number;
  readonly abortIncompleteMultipartUploadAfterDays: number;
  /** source retention + DLQ retention + margin, seconds: the task record TTL. */
  readonly recordTtlSeconds: number;
  readonly consumerHandler: string;
  readonly runtime: lambda.Runtime;
  readonly memorySize: number;
  readonly timeout: Duration;
  readonly batchSize: number;
  readonly maxBatchingWindow?: Duration;
  readonly maxConcurrency?: number;
  readonly reservedConcurrentExecutions?: number;
  readonly consumerEnvironment: Record<string, string>;
  readonly metricsNamespace: string;
  readonly alarmEmail?: string;
  readonly alarms: {
    readonly queueDepth: ResolvedAlarm;
    /** threshold in seconds */
    readonly oldestMessageAge: ResolvedAlarm;
    readonly deadLetterQueueNotEmpty: ResolvedAlarm;
    readonly consumerErrors: ResolvedAlarm;
    readonly consumerThrottles: ResolvedAlarm;
    readonly noConsumers: ResolvedAlarm;
    readonly unfinishedTaskAge: ResolvedAlarm;
  };
}

const ALLOWED_RUNTIMES = [lambda.Runtime.NODEJS_22_X, lambda.Runtime.NODEJS_24_X];
const QUEUE_NAME = /^[A-Za-z0-9_-]{1,80}$/;
const SECONDS_PER_DAY = 86_400;

export function resolveTaskQueueProps(props: TaskQueueProps): ResolvedTaskQueueConfig {
  const fifo = props.fifo ?? D.fifo;
  const contentBasedDeduplication = props.contentBasedDeduplication ?? D.contentBasedDeduplication;
  if (contentBasedDeduplication && !fifo) {
    fail('contentBasedDeduplication', true, 'content-based deduplication requires fifo: true');
  }
  const queueName = queueNameFor('queueName', props.queueName, fifo);
  const deadLetterQueueName = queueNameFor('deadLetterQueueName', props.deadLetterQueueName, fifo);

  // ── retention ──
  const retentionPeriod = props.retentionPeriod ?? D.retentionPeriod;
  const retentionSeconds = seconds('retentionPeriod', retentionPeriod);
  range('retentionPeriod', retentionSeconds, 60, 14 * SECONDS_PER_DAY, 'SQS retention must be between 60 seconds and 14 days', retentionPeriod);
  const deadLetterRetentionPeriod = props.deadLetterRetentionPeriod ?? D.deadLetterRetentionPeriod;
  const dlqRetentionSeconds = seconds('deadLetterRetentionPeriod', deadLetterRetentionPeriod);
  range('deadLetterRetentionPeriod', dlqRetentionSeconds, 60, 14 * SECONDS_PER_DAY, 'SQS retention must be between 60 seconds and 14 days', deadLetterRetentionPeriod);
  if (dlqRetentionSeconds <= retentionSeconds) {
    fail(
      'deadLetterRetentionPeriod',
      deadLetterRetentionPeriod,
      `must be strictly longer than retentionPeriod (${human(retentionPeriod)}): a message's age counts from its original enqueue, so it would expire in the DLQ at once`,
    );
  }

  // ── consumer ──
  const runtime = props.runtime ?? D.runtime;
  if (!ALLOWED_RUNTIMES.some((allowed) => allowed.runtimeEquals(runtime))) {
    fail('runtime', runtime.name, `must be one of ${ALLOWED_RUNTIMES.map((r) => r.name).join(', ')}`);
  }
  const memorySize = props.memorySize ?? D.memorySize;
  integer('memorySize', memorySize, 128, 10_240, 'Lambda memory must be a whole number of MB from 128 to 10,240');
  const timeout = props.timeout ?? D.timeout;
  const timeoutSeconds = seconds('timeout', timeout);
  range('timeout', timeoutSeconds, 1, 900, 'Lambda timeout must be between 1 second and 15 minutes', timeout);
  const consumerHandler = props.consumerHandler ?? D.consumerHandler;
  if (!/^[A-Za-z_$][\w$]*$/.test(consumerHandler)) {
    fail('consumerHandler', consumerHandler, 'must be the name of an exported function (a JavaScript identifier)');
  }
  const reservedConcurrentExecutions = props.reservedConcurrentExecutions;
  if (reservedConcurrentExecutions !== undefined) {
    integer('reservedConcurrentExecutions', reservedConcurrentExecutions, 1, Number.MAX_SAFE_INTEGER, 'must be a whole number ≥ 1 (0 would stop all processing)');
  }
  const consumerEnvironment = { ...(props.consumerEnvironment ?? {}) };
  const reserved = new Set<string>(Object.values(ENV));
  for (const key of Object.keys(consumerEnvironment)) {
    if (reserved.has(key) || key.startsWith('TASKQ_')) {
      fail('consumerEnvironment', key, 'TASKQ_* variables are set by the construct and cannot be overridden');
    }
  }

  // ── event source ──
  const batchSize = props.batchSize ?? D.batchSize;
  const maxBatchingWindow = props.maxBatchingWindow;
  const windowSeconds = maxBatchingWindow ? seconds('maxBatchingWindow', maxBatchingWindow) : 0;
  range('maxBatchingWindow', windowSeconds, 0, 300, 'the batching window must be between 0 and 300 seconds', maxBatchingWindow);
  if (fifo && windowSeconds > 0) {
    fail('maxBatchingWindow', maxBatchingWindow, 'a batching window is not supported for FIFO queues');
  }
  integer('batchSize', batchSize, 1, fifo ? 10 : 10_000, fifo ? 'FIFO event sources take 1 to 10 records per batch' : 'SQS event sources take 1 to 10,000 records per batch');
  if (batchSize > 10 && windowSeconds < 1) {
    fail('batchSize', batchSize, 'a batch size above 10 requires maxBatchingWindow of at least 1 second');
  }
  const maxConcurrency = props.maxConcurrency;
  if (maxConcurrency !== undefined) {
    integer('maxConcurrency', maxConcurrency, 2, 1000, 'SQS event source maximum concurrency must be a whole number from 2 to 1,000');
    if (reservedConcurrentExecutions !== undefined && maxConcurrency > reservedConcurrentExecutions) {
      fail(
        'maxConcurrency',
        maxConcurrency,
        `must not exceed reservedConcurrentExecutions (${reservedConcurrentExecutions}): the event source would be throttled by the function`,
      );
    }
  }

  // ── visibility and redrive ──
  const minimumVisibility = D.visibilityTimeoutFactor * timeoutSeconds + windowSeconds;
  const visibilityTimeout = props.visibilityTimeout ?? Duration.seconds(minimumVisibility);
  const visibilitySeconds = seconds('visibilityTimeout', visibilityTimeout);
  if (visibilitySeconds < minimumVisibility) {
    fail(
      'visibilityTimeout',
      visibilityTimeout,
      `must be at least ${D.visibilityTimeoutFactor} × timeout + maxBatchingWindow = ${minimumVisibility} seconds, or a batch still running becomes visible again and is processed twice`,
    );
  }
  range('visibilityTimeout', visibilitySeconds, 0, 43_200, 'SQS visibility timeout cannot exceed 12 hours', visibilityTimeout);
  const maxReceiveCount = props.maxReceiveCount ?? D.maxReceiveCount;
  integer('maxReceiveCount', maxReceiveCount, 1, 1000, 'must be a whole number from 1 to 1,000');
  if (maxReceiveCount < D.minMaxReceiveCount && !props.allowLowMaxReceiveCount) {
    fail(
      'maxReceiveCount',
      maxReceiveCount,
      `must be at least ${D.minMaxReceiveCount} (throttled receives count too, so a low value dead-letters healthy tasks); set allowLowMaxReceiveCount: true to accept it (default stack: context taskq:allowLowMaxReceiveCount=true)`,
    );
  }

  // ── storage ──
  const removalPolicy = props.removalPolicy ?? D.removalPolicy;
  if (removalPolicy !== RemovalPolicy.RETAIN && removalPolicy !== RemovalPolicy.DESTROY) {
    fail('removalPolicy', removalPolicy, 'must be RemovalPolicy.RETAIN or RemovalPolicy.DESTROY');
  }
  const claimPrefix = props.claimPrefix ?? D.claimPrefix;
  if (!/^[A-Za-z0-9!_.'()\-/]+\/$/.test(claimPrefix) || claimPrefix.startsWith('/') || claimPrefix.includes('//')) {
    fail('claimPrefix', claimPrefix, "must be a non-empty S3 key prefix of safe characters ending with '/', not starting with '/' (IAM grants are scoped to it)");
  }
  const marginSeconds = D.retentionMargin.toSeconds();
  const minimumClaimSeconds = retentionSeconds + dlqRetentionSeconds + marginSeconds;
  const minimumClaimDays = Math.ceil(minimumClaimSeconds / SECONDS_PER_DAY);
  let claimObjectExpirationDays = minimumClaimDays;
  if (props.claimObjectExpiration) {
    const claimSeconds = seconds('claimObjectExpiration', props.claimObjectExpiration);
    if (claimSeconds % SECONDS_PER_DAY !== 0) {
      fail('claimObjectExpiration', props.claimObjectExpiration, 'S3 lifecycle expiration is set in whole days');
    }
    if (claimSeconds < minimumClaimSeconds) {
      fail(
        'claimObjectExpiration',
        props.claimObjectExpiration,
        `must be at least retentionPeriod + deadLetterRetentionPeriod + 1 day = ${minimumClaimDays} days, or a payload can expire before the message pointing to it`,
      );
    }
    claimObjectExpirationDays = claimSeconds / SECONDS_PER_DAY;
  }
  const abort = props.abortIncompleteMultipartUploadAfter ?? D.abortIncompleteMultipartUploadAfter;
  const abortSeconds = seconds('abortIncompleteMultipartUploadAfter', abort);
  if (abortSeconds % SECONDS_PER_DAY !== 0 || abortSeconds < SECONDS_PER_DAY) {
    fail('abortIncompleteMultipartUploadAfter', abort, 'must be a whole number of days, at least 1');
  }
  if (props.serverAccessLogsPrefix !== undefined && !props.serverAccessLogsBucket) {
    fail('serverAccessLogsPrefix', props.serverAccessLogsPrefix, 'requires serverAccessLogsBucket');
  }

  // ── observability ──
  const metricsNamespace = props.metricsNamespace ?? D.metricsNamespace;
  if (!/^[A-Za-z0-9.\-_/#:]{1,255}$/.test(metricsNamespace) || metricsNamespace.startsWith('AWS/')) {
    fail('metricsNamespace', metricsNamespace, "must be 1–255 of A–Z a–z 0–9 . - _ / # : and must not start with 'AWS/'");
  }
  if (props.alarmEmail !== undefined && !Token.isUnresolved(props.alarmEmail) && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(props.alarmEmail)) {
    fail('alarmEmail', props.alarmEmail, 'must be an e-mail address');
  }
  const o = props.alarmOptions ?? {};
  const A = D.alarms;
  const alarms = {
    queueDepth: alarm('queueDepth', o.queueDepth?.threshold ?? A.queueDepth.threshold, o.queueDepth?.period ?? A.queueDepth.period, o.queueDepth?.evaluationPeriods ?? A.queueDepth.evaluationPeriods),
    oldestMessageAge: alarm(
      'oldestMessageAge',
      seconds('alarmOptions.oldestMessageAge.threshold', o.oldestMessageAge?.threshold ?? A.oldestMessageAge.threshold),
      o.oldestMessageAge?.period ?? A.oldestMessageAge.period,
      o.oldestMessageAge?.evaluationPeriods ?? A.oldestMessageAge.evaluationPeriods,
    ),
    deadLetterQueueNotEmpty: alarm('deadLetterQueueNotEmpty', 1, o.deadLetterQueueNotEmpty?.period ?? A.deadLetterQueueNotEmpty.period, o.deadLetterQueueNotEmpty?.evaluationPeriods ?? A.deadLetterQueueNotEmpty.evaluationPeriods),
    consumerErrors: alarm('consumerErrors', o.consumerErrors?.threshold ?? A.consumerErrors.threshold, o.consumerErrors?.period ?? A.consumerErrors.period, o.consumerErrors?.evaluationPeriods ?? A.consumerErrors.evaluationPeriods),
    consumerThrottles: alarm('consumerThrottles', o.consumerThrottles?.threshold ?? A.consumerThrottles.threshold, o.consumerThrottles?.period ?? A.consumerThrottles.period, o.consumerThrottles?.evaluationPeriods ?? A.consumerThrottles.evaluationPeriods),
    noConsumers: alarm('noConsumers', 1, o.noConsumers?.period ?? A.noConsumers.period, o.noConsumers?.evaluationPeriods ?? A.noConsumers.evaluationPeriods),
    unfinishedTaskAge: alarm(
      'unfinishedTaskAge',
      seconds('alarmOptions.unfinishedTaskAge.threshold', o.unfinishedTaskAge?.threshold ?? A.unfinishedTaskAge.threshold),
      o.unfinishedTaskAge?.period ?? A.unfinishedTaskAge.period,
      o.unfinishedTaskAge?.evaluationPeriods ?? A.unfinishedTaskAge.evaluationPeriods,
    ),
  };

  return {
    fifo,
    contentBasedDeduplication,
    ...(queueName !== undefined ? { queueName } : {}),
    ...(deadLetterQueueName !== undefined ? { deadLetterQueueName } : {}),
    retentionPeriod,
    deadLetterRetentionPeriod,
    visibilityTimeout,
    maxReceiveCount,
    removalPolicy,
    claimPrefix,
    claimObjectExpirationDays,
    abortIncompleteMultipartUploadAfterDays: abortSeconds / SECONDS_PER_DAY,
    recordTtlSeconds: minimumClaimSeconds,
    consumerHandler,
    runtime,
    memorySize,
    timeout,
    batchSize,
    ...(maxBatchingWindow !== undefined ? { maxBatchingWindow } : {}),
    ...(maxConcurrency !== undefined ? { maxConcurrency } : {}),
    ...(reservedConcurrentExecutions !== undefined ? { reservedConcurrentExecutions } : {}),
    consumerEnvironment,
    metricsNamespace,
    ...(props.alarmEmail !== undefined ? { alarmEmail: props.alarmEmail } : {}),
    alarms,
  };
}

function alarm(name: string, threshold: number, period: Duration, evaluationPeriods: number): ResolvedAlarm {
  if (!Number.isFinite(threshold) || threshold < 0) {
    fail(`alarmOptions.${name}.threshold`, threshold, 'must be a finite number ≥ 0');
  }
  const periodSeconds = seconds(`alarmOptions.${name}.period`, period);
  if (periodSeconds < 60 || periodSeconds % 60 !== 0) {
    fail(`alarmOptions.${name}.period`, period, 'must be a whole number of minutes (SQS and Lambda publish metrics every minute)');
  }
  integer(`alarmOptions.${name}.evaluationPeriods`, evaluationPeriods, 1, Math.floor(86_400 / periodSeconds), 'must be a whole number ≥ 1, and period × evaluationPeriods must not exceed one day');
  return { threshold, period, evaluationPeriods };
}

function queueNameFor(prop: string, name: string | undefined, fifo: boolean): string | undefined {
  if (name === undefined) return undefined;
  if (Token.isUnresolved(name)) fail(prop, name, 'must be a literal string (the name is needed at synth time)');
  let full = name;
  if (fifo && !full.endsWith('.fifo')) full = `${full}.fifo`;
  if (!fifo && full.endsWith('.fifo')) fail(prop, name, "a '.fifo' name requires fifo: true");
  const base = fifo ? full.slice(0, -'.fifo'.length) : full;
  if (!QUEUE_NAME.test(base) || full.length > 80) {
    fail(prop, name, "queue names are 1–80 characters (including '.fifo') of A–Z a–z 0–9 - _");
  }
  return full;
}

function seconds(prop: string, duration: Duration): number {
  if (Token.isUnresolved(duration.toString()) || !Number.isFinite(duration.toSeconds({ integral: false }))) {
    fail(prop, duration, 'must be a literal duration');
  }
  const value = duration.toSeconds({ integral: false });
  if (!Number.isInteger(value)) fail(prop, duration, 'must be a whole number of seconds');
  return value;
}

function range(prop: string, value: number, min: number, max: number, rule: string, shown: unknown): void {
  if (value < min || value > max) fail(prop, shown, rule);
}

function integer(prop: string, value: number, min: number, max: number, rule: string): void {
  if (!Number.isInteger(value) || value < min || value > max) fail(prop, value, rule);
}

function fail(prop: string, value: unknown, rule: string): never {
  throw new TaskQueueValidationError(prop, value, rule);
}

function human(duration: Duration): string {
  return duration.toHumanString();
}

function describe(value: unknown): string {
  if (value instanceof Duration) return value.toHumanString();
  if (typeof value === 'string') return JSON.stringify(value);
  return String(value);
}
