/**
 * The TaskQueue construct's configuration: every knob, its default and why.
 * Defaults live in `TASK_QUEUE_DEFAULTS` so the construct, the docs/CONFIGURATION.md table and the tests
 * read them from one place.
 */
import type { CompletionEventsProps } from './completion-events-props.ts';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type { TaskContract } from '../protocol/contract.ts';
import { DEFAULTS } from '../protocol/resources.ts';
import type { LaneProps } from './lane-props.ts';
import type { TaskScheduleProps } from './schedule-props.ts';

/** Threshold, period and evaluation periods of one count-style alarm. */
export interface CountAlarmOptions {
  /** Alarm when the statistic crosses this value (the comparison is stated per alarm). */
  readonly threshold?: number;
  /** Length of one evaluated datapoint. Must be a whole number of minutes. */
  readonly period?: Duration;
  /** Consecutive breaching datapoints needed to alarm. */
  readonly evaluationPeriods?: number;
}

/** Threshold, period and evaluation periods of the age-of-oldest-message alarm. */
export interface AgeAlarmOptions {
  /** Alarm when the oldest message is older than this. */
  readonly threshold?: Duration;
  /** Length of one evaluated datapoint. Must be a whole number of minutes. */
  readonly period?: Duration;
  /** Consecutive breaching datapoints needed to alarm. */
  readonly evaluationPeriods?: number;
}

/** Period and evaluation periods of an alarm whose threshold is fixed by its meaning. */
export interface FixedAlarmOptions {
  /** Length of one evaluated datapoint. Must be a whole number of minutes. */
  readonly period?: Duration;
  /** Consecutive breaching datapoints needed to alarm. */
  readonly evaluationPeriods?: number;
}

/** Tuning of the seven on-call alarms. Every field is optional; see each default. */
export interface TaskQueueAlarmOptions {
  /**
   * Source queue backlog: ApproximateNumberOfMessagesVisible (Maximum) > threshold.
   * @default threshold 1000 messages, period 5 minutes, 3 evaluation periods —
   *   a backlog that persists 15 minutes; short spikes drain on their own.
   */
  readonly queueDepth?: CountAlarmOptions;
  /**
   * ApproximateAgeOfOldestMessage (Maximum) > threshold on the source queue.
   * @default threshold 15 minutes, period 1 minute, 5 evaluation periods — tasks are
   *   meant to run within seconds; a quarter-hour-old task means work is stuck or starved.
   */
  readonly oldestMessageAge?: AgeAlarmOptions;
  /**
   * Dead letters on the DLQ, visible or in flight: `visible + FILL(inFlight, 0)` ≥ 1 over
   * ApproximateNumberOfMessagesVisible and …NotVisible (Maximum), so a `dlq peek` or a redrive
   * scan that hides them for a moment does not flip it to OK. The threshold is fixed: one
   * dead-lettered task already needs a human. (NumberOfMessagesSent is not used: it misses
   * messages moved there by the redrive policy.)
   * @default period 1 minute, 1 evaluation period — page at once.
   */
  readonly deadLetterQueueNotEmpty?: FixedAlarmOptions;
  /**
   * Consumer Lambda `Errors` (Sum) ≥ threshold. Task failures are reported per record
   * (batchItemFailures) and are not Lambda errors; an Error is a crash, a timeout or an
   * out-of-memory — the whole batch returns to the queue.
   * @default threshold 5, period 5 minutes, 1 evaluation period.
   */
  readonly consumerErrors?: CountAlarmOptions;
  /**
   * Consumer Lambda `Throttles` (Sum) ≥ threshold. With maxConcurrency set below the
   * reserved concurrency throttles should not happen; sustained throttling means the
   * concurrency settings disagree.
   * @default threshold 1, period 5 minutes, 3 evaluation periods (15 minutes of throttling).
   */
  readonly consumerThrottles?: CountAlarmOptions;
  /**
   * "No consumers": a visible backlog while the queue sees no deletes and the function no
   * invocations (event source mapping disabled, function deleted, permissions broken).
   * Metric math: IF(visible > 0 AND (deleted + invocations) == 0, 1, 0) ≥ 1.
   * @default period 5 minutes, 3 evaluation periods.
   */
  readonly noConsumers?: FixedAlarmOptions;
  /**
   * The consumer's UnfinishedTaskAge metric (Maximum) > threshold: a task went back to the
   * queue unfinished (a retry, or a return without an attempt) long after it was created or
   * became due. It pages for a task that keeps cycling — the task table or a claim object
   * refusing, a lease that keeps being held — which ApproximateAgeOfOldestMessage cannot show,
   * since every fresh copy the consumer re-sends starts that clock again.
   * @default threshold 1 hour, period 5 minutes, 1 evaluation period — default retries are
   *   done within minutes (10 s · 2ⁿ, five attempts); a task still cycling after an hour needs a look.
   */
  readonly unfinishedTaskAge?: AgeAlarmOptions;
}

export interface TaskQueueProps {
  // ───────────────────────────── queues ─────────────────────────────

  /**
   * Name of the source queue. `.fifo` is appended for FIFO queues when missing.
   * @default a deterministic name derived from the construct path (it must be known at
   *   synth time: the DLQ's redrive-allow policy names the source queue by ARN, and
   *   referencing the queue resource itself would be a circular dependency).
   */
  readonly queueName?: string;
  /**
   * Name of the dead-letter queue. `.fifo` is appended for FIFO queues when missing.
   * @default generated by CloudFormation.
   */
  readonly deadLetterQueueName?: string;
  /**
   * Create FIFO queues (ordered per message group, exactly-once send within 5 minutes).
   * @default false — standard queues scale without limit and the task table already
   *   makes duplicates harmless.
   */
  readonly fifo?: boolean;
  /**
   * FIFO only: deduplicate on a SHA-256 of the body instead of an explicit
   * MessageDeduplicationId.
   * @default false — producers send the idempotency key (the task id unless given) as the deduplication id.
   */
  readonly contentBasedDeduplication?: boolean;
  /**
   * Customer-managed KMS key for the queues, the task table, the claim-check bucket and the
   * alarm topic. When given, every grant also includes the KMS actions it needs.
   * @default none: SQS-managed SSE, DynamoDB AWS-owned key, SSE-S3 — encryption at rest
   *   with no key to manage and no KMS request charges.
   */
  readonly encryptionKey?: kms.IKey;
  /**
   * How long the source queue keeps a message (60 s – 14 days).
   * @default Duration.days(4) — the SQS default; long enough to survive a weekend outage
   *   of a downstream dependency, short enough that the DLQ (14 days) outlives it.
   */
  readonly retentionPeriod?: Duration;
  /**
   * How long the DLQ keeps a message; must be strictly longer than `retentionPeriod`
   * (a message's age counts from its original enqueue).
   * @default Duration.days(14) — the SQS maximum: the longest window for a human to act.
   */
  readonly deadLetterRetentionPeriod?: Duration;
  /**
   * Visibility timeout of the source queue; at least 6 × consumer timeout + batching window
   * (AWS's guidance for Lambda event sources). A lower value is rejected.
   * @default 6 × `timeout` + `maxBatchingWindow` (180 s with the defaults).
   */
  readonly visibilityTimeout?: Duration;
  /**
   * Receives before the queue's redrive policy moves a message to the DLQ. This is the
   * safety net for crashes the consumer never sees (the runtime dead-letters tasks itself
   * with a reason). Values below 5 are rejected unless `allowLowMaxReceiveCount` is set:
   * throttled receives count too, and a low value dead-letters healthy tasks.
   * @default 5
   */
  readonly maxReceiveCount?: number;
  /**
   * Accept a `maxReceiveCount` below 5.
   * @default false
   */
  readonly allowLowMaxReceiveCount?: boolean;

  // ───────────────────────────── storage ─────────────────────────────

  /**
   * Removal policy of everything that holds task data: both queues, the task table, the
   * claim-check bucket and the consumer's log group (the rest is always deleted). Only
   * RETAIN and DESTROY are accepted. DESTROY also empties the bucket on deletion
   * (autoDeleteObjects) — meant for dev stacks. A retained source queue keeps its name, so
   * deploying the same stack again fails until it is drained and deleted.
   * @default RemovalPolicy.RETAIN — pending tasks, dead letters, task state and payloads are
   *   data; deleting a stack must not delete them.
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * Name of the task table.
   * @default generated by CloudFormation.
   */
  readonly tableName?: string;
  /**
   * Add a global secondary index of recent tasks to the task table (RECENT_TASKS_INDEX:
   * partition key `status`, sort key `updatedAt`, a few attributes projected), which
   * `taskq console` lists recent tasks from; grantOperatorRead and grantOperate then also
   * allow dynamodb:Query on it, and the stack output `RecentTasksIndexName` names it.
   *
   * Cost: every write of a task record is also written to the index — about 3 extra write
   * request units per task that succeeds at its first attempt (measured: see
   * docs/CONSOLE.md), i.e. roughly doubling the table's write cost. The index's partition
   * key has few values, so above about 1,000 record writes per second of one status the
   * index throttles, and with it the table's writes.
   * @default false — the console works without it (look-ups by id or key, the DLQ, stats).
   */
  readonly recentTasksIndex?: boolean;
  /**
   * Name of the claim-check bucket.
   * @default generated by CloudFormation.
   */
  readonly bucketName?: string;
  /**
   * Key prefix of claim-check objects. Must end with `/`; IAM grants are scoped to it.
   * @default DEFAULTS.claimPrefix (`claims/`), shared with the producer and the runtime.
   */
  readonly claimPrefix?: string;
  /**
   * Lifetime of claim-check objects (whole days); at least source retention + DLQ
   * retention + 1 day so a payload outlives every message that points to it.
   * @default retentionPeriod + deadLetterRetentionPeriod + 1 day, rounded up to whole
   *   days (19 days with the defaults).
   */
  readonly claimObjectExpiration?: Duration;
  /**
   * Abort incomplete multipart uploads after this many (whole) days.
   * @default Duration.days(1) — a producer that died mid-upload leaves billed parts.
   */
  readonly abortIncompleteMultipartUploadAfter?: Duration;
  /**
   * Bucket receiving S3 server access logs of the claim-check bucket.
   * @default none — claim objects are written and read by the task queue's own roles;
   *   CloudTrail data events are the better audit trail if one is needed.
   */
  readonly serverAccessLogsBucket?: s3.IBucket;
  /**
   * Key prefix of the server access logs.
   * @default `claim-bucket-logs/` when `serverAccessLogsBucket` is set.
   */
  readonly serverAccessLogsPrefix?: string;

  // ───────────────────────────── consumer ─────────────────────────────

  /**
   * Entry file of the consumer Lambda (TypeScript or JavaScript), bundled locally by esbuild:
   * your file that exports `handler = defineTasks({ … })`. A relative path is resolved against
   * the directory `cdk` runs in; the nearest lockfile above the file names the project whose
   * dependencies are bundled. A missing file or lockfile is a synth-time error.
   * @default `functions/consumer.ts` (this repository's layout)
   */
  readonly consumerEntry?: string;
  /**
   * Name of the exported handler function in `consumerEntry`.
   * @default 'handler'
   */
  readonly consumerHandler?: string;
  /**
   * Node.js runtime of the consumer: NODEJS_22_X or NODEJS_24_X only (nodejs20.x is
   * deprecated in 2026).
   * @default lambda.Runtime.NODEJS_22_X — supported into 2027 and the closest to the
   *   Node.js versions the project is developed and tested on (20.19+, 22).
   */
  readonly runtime?: lambda.Runtime;
  /**
   * Memory of the consumer, MB (128 – 10,240). CPU scales with memory.
   * @default 256 — tasks are I/O-bound (DynamoDB, S3, HTTP); 256 MB halves the cold start
   *   and JSON work of 128 MB for a small cost, and leaves room for a 10-record batch of
   *   1 MiB messages. Tune with Lambda Power Tuning for heavy handlers.
   */
  readonly memorySize?: number;
  /**
   * Consumer timeout (1 s – 15 min). The queue's visibility timeout is derived from it.
   * @default Duration.seconds(30) — a batch of I/O-bound tasks; keeps the derived
   *   visibility timeout (and so the retry delay after a crash) at 3 minutes.
   */
  readonly timeout?: Duration;
  /**
   * Retention of the consumer's log group.
   * @default logs.RetentionDays.ONE_MONTH — enough for an incident review, bounded cost.
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Emit a source map (and enable `--enable-source-maps`) for readable stack traces.
   * @default false — source maps grow the bundle and slow cold starts.
   */
  readonly sourceMap?: boolean;
  /**
   * X-Ray tracing of the consumer. ACTIVE records Lambda's own segments (init, invocation)
   * for sampled requests (1/s + 5 %); to see DynamoDB, SQS and S3 time in the traces, also
   * pass instrumented SDK clients to `defineTasks({ clients })` (e.g. Powertools Tracer's
   * captureAWSv3Client) — measured here at ~20 ms more CPU per cold start (docs/ARCHITECTURE.md,
   * "Tracing").
   * @default lambda.Tracing.DISABLED — the runtime's SDK clients are not instrumented, so
   *   active tracing would add X-Ray charges and the role's only `Resource: "*"` for traces
   *   that show no downstream time.
   */
  readonly tracing?: lambda.Tracing;
  /**
   * Reserved concurrency of the consumer (a whole number ≥ 1). Caps the load the queue can put on
   * downstream systems and guarantees capacity. Lambda always keeps 100 of the account's
   * concurrency unreserved: on an account whose concurrency quota is low (new accounts may
   * have 10), any reservation that leaves fewer than 100 unreserved fails the deployment
   * ("decreases account's UnreservedConcurrentExecution below its minimum value of [100]") —
   * use `maxConcurrency` there, or ask for a higher quota first.
   * @default none — use `maxConcurrency` to cap the event source without reserving.
   */
  readonly reservedConcurrentExecutions?: number;
  /**
   * Extra environment variables for your task handlers. The TASKQ_* names are reserved.
   * @default none
   */
  readonly consumerEnvironment?: Record<string, string>;

  // ───────────────────────────── event source ─────────────────────────────

  /**
   * Records per invocation (1 – 10,000; ≤ 10 for FIFO). Above 10 a batching window of at
   * least 1 second is required.
   * @default 10 — the largest batch that needs no batching window (no added latency).
   */
  readonly batchSize?: number;
  /**
   * How long the event source gathers records before invoking (0 – 300 s). Not available
   * for FIFO queues. Added to the derived visibility timeout.
   * @default none (0 s) — tasks start as soon as they arrive.
   */
  readonly maxBatchingWindow?: Duration;
  /**
   * Maximum concurrent invocations by the SQS event source (2 – 1,000); not above
   * `reservedConcurrentExecutions` when both are set.
   * @default none — the event source scales up to the account's concurrency.
   */
  readonly maxConcurrency?: number;

  // ───────────────────────────── lanes ─────────────────────────────

  /**
   * Lanes: sets of task types with a queue, DLQ, event source and consumer function of their
   * own (docs/ARCHITECTURE.md, "Lanes"). The top-level queue, event-source and consumer props
   * configure the default lane, which runs every type no lane names. With lanes (or fanOut)
   * the stack writes its routing table into the task table: producers with `routing: true`
   * read it, so moving a type between lanes is a stack change only.
   * @default none — one queue and one consumer for every type.
   */
  readonly lanes?: Record<string, LaneProps>;
  /**
   * Fan-out: an event name → the task types it is delivered to (`producer.publish(event, …)`
   * sends one task per target, to the target's lane, with idempotency key
   * `<eventId>:<target>`). Targets must be types of a lane in `lanes`.
   * @default none
   */
  readonly fanOut?: Record<string, string[]>;

  // ───────────────────────────── observability ─────────────────────────────

  /**
   * CloudWatch namespace of the consumer's custom (EMF) metrics; set as
   * TASKQ_METRICS_NAMESPACE so the runtime and the dashboard agree. Use a distinct
   * namespace per deployment in one account/region.
   * @default DEFAULTS.metricsNamespace (`TaskQueue`)
   */
  readonly metricsNamespace?: string;
  /**
   * Existing SNS topic for alarm notifications (ALARM and OK). Its policy is not changed: it
   * must allow `cloudwatch.amazonaws.com` to `sns:Publish` (and its key, if it is encrypted
   * with a customer-managed key, `kms:GenerateDataKey` and `kms:Decrypt`) for the alarms
   * (`<alarmNamePrefix>-*`); the synth warns about it (id `taskq:alarm-topic-must-allow-cloudwatch`).
   * @default a new topic whose policy requires TLS and lets CloudWatch publish for this
   *   account's `<alarmNamePrefix>-*` alarms; encrypted with `encryptionKey` if given (the key
   *   policy then lets CloudWatch use it).
   */
  readonly alarmTopic?: sns.ITopic;
  /**
   * E-mail address subscribed to the alarm topic (the recipient must confirm).
   * @default none
   */
  readonly alarmEmail?: string;
  /**
   * Prefix of the alarm names (`<prefix>-QueueDepth`, …).
   * @default `<stack name>-<construct id>`
   */
  readonly alarmNamePrefix?: string;
  /** Thresholds, periods and evaluation periods of the alarms; see each default. */
  readonly alarmOptions?: TaskQueueAlarmOptions;
  /**
   * Name of the CloudWatch dashboard.
   * @default `<stack name>-<construct id>` (CloudFormation-generated when the stack name is
   *   not known at synth time).
   */
  readonly dashboardName?: string;
  /**
   * Create the stack outputs the SDK and the CLI read (`STACK_OUTPUTS` keys, exact logical
   * ids). Only one TaskQueue per stack can have them.
   * @default true
   */
  readonly outputs?: boolean;

  // ───────────────────────────── schedules ─────────────────────────────

  /**
   * Recurring tasks, each an EventBridge Scheduler schedule sending a task to the source queue
   * (lib/infra/schedule-props.ts; docs/CONFIGURATION.md "Schedules").
   * @default none
   */
  readonly schedules?: readonly TaskScheduleProps[];
  /**
   * The task types (or contracts) the consumer handles. When given, a schedule naming another
   * type fails at synth.
   * @default none — the construct does not know the consumer's types and checks only their form
   */
  readonly taskTypes?: readonly (string | TaskContract)[];

  // ───────────────────────────── completion events ─────────────────────────────

  /**
   * Publish an EventBridge event each time a task reaches a final state (`TaskSucceeded`,
   * `TaskDeadLettered`, `TaskCancelled`; lib/protocol/completion-events.ts): the task table
   * gets a stream, read by a small function that publishes with PutEvents
   * (lib/infra/completion-events.ts; docs/EVENTS.md).
   * @default none — no stream, no function, no events
   */
  readonly completionEvents?: CompletionEventsProps;
}

/** The defaults of `TaskQueueProps`, in one place. */
export const TASK_QUEUE_DEFAULTS = {
  fifo: false,
  contentBasedDeduplication: false,
  retentionPeriod: Duration.days(4),
  deadLetterRetentionPeriod: Duration.days(14),
  /** visibility timeout = factor × timeout + maxBatchingWindow */
  visibilityTimeoutFactor: 6,
  maxReceiveCount: 5,
  minMaxReceiveCount: 5,
  removalPolicy: RemovalPolicy.RETAIN,
  claimPrefix: DEFAULTS.claimPrefix,
  /** margin added to source + DLQ retention for the claim objects and the record TTL */
  retentionMargin: Duration.days(1),
  abortIncompleteMultipartUploadAfter: Duration.days(1),
  serverAccessLogsPrefix: 'claim-bucket-logs/',
  consumerHandler: 'handler',
  runtime: lambda.Runtime.NODEJS_22_X,
  memorySize: 256,
  timeout: Duration.seconds(30),
  logRetention: logs.RetentionDays.ONE_MONTH,
  sourceMap: false,
  tracing: lambda.Tracing.DISABLED,
  batchSize: 10,
  metricsNamespace: DEFAULTS.metricsNamespace,
  outputs: true,
  alarms: {
    queueDepth: { threshold: 1000, period: Duration.minutes(5), evaluationPeriods: 3 },
    oldestMessageAge: { threshold: Duration.minutes(15), period: Duration.minutes(1), evaluationPeriods: 5 },
    deadLetterQueueNotEmpty: { period: Duration.minutes(1), evaluationPeriods: 1 },
    consumerErrors: { threshold: 5, period: Duration.minutes(5), evaluationPeriods: 1 },
    consumerThrottles: { threshold: 1, period: Duration.minutes(5), evaluationPeriods: 3 },
    noConsumers: { period: Duration.minutes(5), evaluationPeriods: 3 },
    unfinishedTaskAge: { threshold: Duration.hours(1), period: Duration.minutes(5), evaluationPeriods: 1 },
  },
} as const;
