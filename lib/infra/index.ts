/**
 * imported separately: cdk-nag is a development dependency.)
 */
export { TaskQueue } from './task-queue.ts';
export { TASK_QUEUE_DEFAULTS } from './props.ts';
export type { TaskQueueProps, TaskQueueAlarmOptions, CountAlarmOptions, AgeAlarmOptions, FixedAlarmOptions } from './props.ts';
export { TaskQueueValidationError, resolveTaskQueueProps } from './validation.ts';
export type { ResolvedTaskQueueConfig } from './validation.ts';
export { ALARM_NAME_SUFFIXES, DEAD_LETTERS_EXPRESSION, NO_CONSUMERS_EXPRESSION } from './alarms.ts';
export type { TaskQueueAlarms } from './alarms.ts';
export { CUSTOM_METRICS, TASK_TYPE_DIMENSION } from './metrics.ts';
export type { TaskMetricOptions } from './metrics.ts';
export { ACTIONS as TASK_QUEUE_IAM_ACTIONS } from './permissions.ts';
export { ALARM_TOPIC_WARNING_ID } from './alarm-topic.ts';
export { DEFAULT_CONSUMER_ENTRY } from './consumer-function.ts';
export { CONSUMER_BUNDLING } from './consumer-bundling.ts';
export { TaskQueueStack } from './task-queue-stack.ts';
export { contextProps, CONTEXT_KEYS, TaskQueueContextError } from './stack-context.ts';
export type { TaskQueueStackProps } from './task-queue-stack.ts';
export { Lane } from './lane.ts';
export type { LaneShared } from './lane.ts';
export type { LaneProps } from './lane-props.ts';
export { ESM_MIN_MAX_CONCURRENCY, type ResolvedLane } from './lane-validation.ts';
export type { LaneAlarms } from './alarms.ts';
export * from './schedule-props.ts';
export { TaskSchedules, SCHEDULE_ALARM_NAME_SUFFIX, type TaskSchedulesOptions } from './schedules.ts';
export { SCHEDULE_ACTIONS } from './schedule-permissions.ts';
export type { ResolvedSchedule } from './schedule-validation.ts';
export * from './completion-events-props.ts';
export { TaskCompletionEvents, COMPLETION_EVENTS_ALARM_NAME_SUFFIX, type TaskCompletionEventsOptions } from './completion-events.ts';
