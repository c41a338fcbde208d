/**
 * The consumer's custom CloudWatch metrics: the contract between what the runtime emits
 * (embedded metric format, lib/runtime/telemetry.ts) and what the construct's helpers,
 * alarms and dashboard read (lib/infra/metrics.ts). Both import this; neither imports the
 * other. test/integration/runtime/metric-contract.test.ts checks a real run against the
 * synthesized template.
 */

const TASK_TYPE = 'TaskType';

export const TASK_METRICS = {
  /** Namespace when none is configured (`TASKQ_METRICS_NAMESPACE`, the `metricsNamespace` prop). */
  defaultNamespace: 'TaskQueue',
  /** The dimension that names the task type. */
  taskTypeDimension: TASK_TYPE,
  /**
   * Every document is published under these dimension sets: `[]`, the aggregate over all
   * task types (CloudWatch adds up the values of every document, whatever its type), and
   * `[TaskType]`, one series per type. CloudWatch never aggregates across dimensions, so a
   * query with no dimension finds only what was published with the empty set.
   */
  dimensionSets: [[], [TASK_TYPE]],
  /**
   * The dimension naming a fair-queue tenant (the message group id on a standard queue), on the
   * per-tenant documents the consumer writes only when asked (`metricsTenantDimension`: each
   * tenant is a custom metric series, and CloudWatch bills each one).
   */
  tenantDimension: 'Tenant',
  /** The per-tenant documents' only dimension set. */
  tenantDimensionSets: [[TASK_TYPE, 'Tenant']],
  /** Metric names, with the unit each is published in. */
  names: {
    /** Tasks whose handler succeeded. */
    tasksProcessed: 'TasksProcessed',
    /** Handler executions that threw (or timed out). */
    tasksFailed: 'TasksFailed',
    /** Tasks put back for a retry with backoff. */
    tasksRetried: 'TasksRetried',
    /** Tasks the consumer sent to the DLQ. */
    tasksDeadLettered: 'TasksDeadLettered',
    /** Deliveries acknowledged without running the handler (a copy of a finished task). */
    duplicatesSkipped: 'DuplicatesSkipped',
    /** Handler run time, milliseconds (one value per run). */
    handlerDuration: 'HandlerDuration',
    /** createdAt → completion of a succeeded task, milliseconds. */
    endToEndLatency: 'EndToEndLatency',
    /**
     * Age of a task that went back to the queue unfinished (a retry, a return without an
     * attempt), seconds since it was created — or since its notBefore, when it had one. One
     * value per return; its Maximum finds a task that keeps cycling, which the queue's own
     * ApproximateAgeOfOldestMessage cannot (every fresh copy restarts that clock).
     */
    unfinishedTaskAge: 'UnfinishedTaskAge',
  },
  units: {
    tasksProcessed: 'Count',
    tasksFailed: 'Count',
    tasksRetried: 'Count',
    tasksDeadLettered: 'Count',
    duplicatesSkipped: 'Count',
    handlerDuration: 'Milliseconds',
    endToEndLatency: 'Milliseconds',
    unfinishedTaskAge: 'Seconds',
  },
} as const;

export type TaskMetricKey = keyof typeof TASK_METRICS.names;
