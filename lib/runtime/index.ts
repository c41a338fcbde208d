/** The consumer runtime: defineTasks() and what task handlers and tests need with it. */
export { defineContract, isTaskContract, type TaskContract, type TaskContractDefaults, type ContractInput, type ContractOutput } from '../protocol/contract.ts';
export { defineTasks, describeIssues, type SqsTaskHandler, type TaskPayloads } from './define-tasks.ts';
export { RUNTIME_DEFAULTS, resolveConfig, queueUrlFromArn, type Clock, type IdempotencyMode, type RuntimeOptions, type TaskContext, type TaskDefinition, type TaskDefinitions } from './config.ts';
export { DEFAULT_BACKOFF, backoffSeconds, type BackoffOptions, type Jitter } from './backoff.ts';
export { DEFAULT_AWS_TIMEOUTS, type AwsTimeouts } from '../protocol/aws-timeouts.ts';
export { BatchProcessor } from './processor.ts';
export { EmfMetricsSink, JsonLogger, METRIC_NAMES, TASK_TYPE_DIMENSION, UNKNOWN_TASK_TYPE, type MetricsSink, type RuntimeLogger, type TaskTypeMetrics, type TenantMetrics } from './telemetry.ts';
export { assertClaimAllowed } from './claim-check.ts';
export type { RateLimitOptions, ConcurrencyOptions, FlowKey, FlowKeyContext } from '../protocol/flow-control.ts';
export { PermanentError, PoisonMessageError, RetryableError, TaskCancelledError } from '../protocol/errors.ts';
export type { GroupResult } from '../protocol/group.ts';
