/**
 * Names both sides agree on with the infrastructure: the consumer's environment
 * variables, the task table's key and TTL attributes, the stack outputs the SDK and
 * the CLI resolve resources from, and the defaults the construct and the runtime share.
 */
import { TASK_METRICS } from './metrics.ts';

/** Environment variables the TaskQueue construct sets on the consumer Lambda. */
export const ENV = {
  queueUrl: 'TASKQ_QUEUE_URL',
  deadLetterQueueUrl: 'TASKQ_DLQ_URL',
  tableName: 'TASKQ_TABLE_NAME',
  bucketName: 'TASKQ_BUCKET_NAME',
  claimPrefix: 'TASKQ_CLAIM_PREFIX',
  metricsNamespace: 'TASKQ_METRICS_NAMESPACE',
  fifo: 'TASKQ_FIFO',
  /** Seconds a task record lives after its last write (DynamoDB TTL). */
  recordTtlSeconds: 'TASKQ_RECORD_TTL_SECONDS',
  /** Visibility timeout of the source queue, seconds: the cap of the lease and of a re-delay. */
  visibilityTimeoutSeconds: 'TASKQ_VISIBILITY_TIMEOUT_SECONDS',
  /**
   * maxReceiveCount of the source queue's redrive policy: a record about to return to the
   * queue on its last receive is re-sent as a fresh copy (standard) or dead-lettered with a
   * reason (FIFO, idempotency 'off') instead of being moved by SQS without one.
   */
  maxReceiveCount: 'TASKQ_MAX_RECEIVE_COUNT',
} as const;

/** The task table: one item per idempotency key. */
export const TABLE_SCHEMA = {
  /** Partition key (string): the task's idempotency key (defaults to the task id). */
  partitionKey: 'pk',
  /** Epoch seconds after which DynamoDB may delete the item (TTL attribute). */
  ttlAttribute: 'expiresAt',
} as const;

/**
 * The task table's optional index of recent tasks (the construct's `recentTasksIndex` prop):
 * partition key `status`, sort key `updatedAt` (ISO-8601, so it sorts by time). `taskq
 * console` lists recent tasks with one Query per status, newest first.
 */
export const RECENT_TASKS_INDEX = {
  indexName: 'recent-tasks',
  partitionKey: 'status',
  sortKey: 'updatedAt',
  /** Attributes copied into the index besides its keys and the table's key (what a listing shows). */
  projectedAttributes: ['taskId', 'type', 'attempts', 'createdAt', 'deadLetterReason'],
} as const;

/** CloudFormation output keys of the default stack, read by the SDK helpers and the CLI. */
export const STACK_OUTPUTS = {
  queueUrl: 'QueueUrl',
  queueArn: 'QueueArn',
  deadLetterQueueUrl: 'DeadLetterQueueUrl',
  deadLetterQueueArn: 'DeadLetterQueueArn',
  tableName: 'TableName',
  bucketName: 'BucketName',
  claimPrefix: 'ClaimPrefix',
  alarmTopicArn: 'AlarmTopicArn',
  dashboardName: 'DashboardName',
  consumerFunctionName: 'ConsumerFunctionName',
  /** The consumer's own log group (a generated name, not /aws/lambda/<function>). */
  consumerLogGroupName: 'ConsumerLogGroupName',
} as const;

/** Outputs a stack has only when the feature is on. */
export const OPTIONAL_STACK_OUTPUTS = {
  /** The task table's recent-tasks index (the construct's `recentTasksIndex`). */
  recentTasksIndexName: 'RecentTasksIndexName',
} as const;

/** Stack outputs of a task queue with schedules (present only then). */
export const SCHEDULE_OUTPUTS = {
  /** The EventBridge Scheduler schedule group holding the task queue's schedules. */
  scheduleGroupName: 'ScheduleGroupName',
  /** Occurrences Scheduler could not deliver. */
  scheduleDeadLetterQueueUrl: 'ScheduleDeadLetterQueueUrl',
} as const;

export const DEFAULTS = {
  /** Key prefix in the claim-check bucket under which payloads are stored and read. */
  claimPrefix: 'claims/',
  /**
   * Key prefix in the same bucket under which results larger than MAX_RESULT_BYTES are stored
   * (`results/<taskId>.json`), expired by a lifecycle rule after the task record's TTL.
   */
  resultPrefix: 'results/',
  /** CloudWatch namespace of the consumer's custom (EMF) metrics. */
  metricsNamespace: TASK_METRICS.defaultNamespace,
  /** Default stack name of bin/app.ts. */
  stackName: 'TaskQueueStack',
} as const;
