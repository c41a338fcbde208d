/**
 * The operations dashboard: the alarms' states, queue health, the consumer Lambda, then the
 * consumer's own task metrics — all types together and one line per task type.
 */
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type { Construct } from 'constructs';
import type { TaskQueueAlarms } from './alarms.ts';
import { CUSTOM_METRICS, type TaskQueueMetrics } from './metrics.ts';
import type { ResolvedTaskQueueConfig } from './validation.ts';

export function createDashboard(
  scope: Construct,
  config: ResolvedTaskQueueConfig,
  metrics: TaskQueueMetrics,
  alarms: TaskQueueAlarms,
  dashboardName: string | undefined,
): cloudwatch.Dashboard {
  const period = Duration.minutes(1);
  const width = 8;
  const height = 6;
  const dashboard = new cloudwatch.Dashboard(scope, 'Dashboard', {
    ...(dashboardName !== undefined ? { dashboardName } : {}),
    defaultInterval: Duration.hours(3),
  });

  dashboard.addWidgets(
    new cloudwatch.AlarmStatusWidget({
      title: 'Alarms',
      alarms: Object.values(alarms),
      width: 24,
      height: 3,
    }),
  );

  dashboard.addWidgets(
    new cloudwatch.GraphWidget({
      title: 'Source queue: waiting and in flight',
      left: [metrics.queueDepth({ period }), metrics.messagesInFlight({ period })],
      leftAnnotations: [{ value: config.alarms.queueDepth.threshold, label: 'depth alarm' }],
      width,
      height,
    }),
    new cloudwatch.GraphWidget({
      title: 'Age of oldest message (s)',
      left: [metrics.oldestMessageAge({ period })],
      leftAnnotations: [{ value: config.alarms.oldestMessageAge.threshold, label: 'age alarm' }],
      width,
      height,
    }),
    new cloudwatch.GraphWidget({
      title: 'Dead-letter queue: visible and in flight',
      left: [metrics.deadLetterQueueDepth({ period }), metrics.deadLetterQueueInFlight({ period })],
      width,
      height,
    }),
  );

  dashboard.addWidgets(
    new cloudwatch.GraphWidget({
      title: 'Messages sent / deleted per minute',
      left: [metrics.messagesSent({ period }), metrics.messagesDeleted({ period })],
      width,
      height,
    }),
    new cloudwatch.GraphWidget({
      title: 'Consumer invocations, errors, throttles',
      left: [
        metrics.consumerInvocations({ period, label: 'invocations' }),
        metrics.consumerErrors({ period, label: 'errors' }),
        metrics.consumerThrottles({ period, label: 'throttles' }),
      ],
      width,
      height,
    }),
    new cloudwatch.GraphWidget({
      title: 'Consumer duration (ms) and concurrency',
      left: [
        metrics.consumerDuration({ period, statistic: 'p50', label: 'duration p50' }),
        metrics.consumerDuration({ period, statistic: 'p99', label: 'duration p99' }),
        metrics.consumerDuration({ period, statistic: 'Maximum', label: 'duration max' }),
      ],
      right: [metrics.consumerConcurrentExecutions({ period, label: 'concurrent executions' })],
      width,
      height,
    }),
  );

  // Custom metrics: all task types together (the helpers' series without dimensions), and one
  // line per task type (a SEARCH on the [TaskType] dimension set, so new types appear by themselves).
  const m = CUSTOM_METRICS;
  dashboard.addWidgets(
    new cloudwatch.GraphWidget({
      title: `Tasks per minute, all types (${metrics.namespace})`,
      left: [
        metrics.custom(m.tasksProcessed, 'Sum', { period, label: 'processed' }),
        metrics.custom(m.tasksFailed, 'Sum', { period, label: 'failed' }),
        metrics.custom(m.tasksRetried, 'Sum', { period, label: 'retried' }),
        metrics.custom(m.tasksDeadLettered, 'Sum', { period, label: 'dead-lettered' }),
        metrics.custom(m.duplicatesSkipped, 'Sum', { period, label: 'duplicates skipped' }),
      ],
      width,
      height,
    }),
    new cloudwatch.GraphWidget({
      title: 'Tasks processed per minute, per type',
      left: [metrics.perTaskTypeSearch(m.tasksProcessed, 'Sum', period)],
      width,
      height,
    }),
    new cloudwatch.GraphWidget({
      title: 'Failed and dead-lettered per minute, per type',
      left: [metrics.perTaskTypeSearch(m.tasksFailed, 'Sum', period, 'failed')],
      right: [metrics.perTaskTypeSearch(m.tasksDeadLettered, 'Sum', period, 'dead-lettered')],
      width,
      height,
    }),
  );
  /** One custom metric: all task types together, and a line per type. */
  const allAndPerType = (title: string, metricName: string, statistic: string, annotation?: cloudwatch.HorizontalAnnotation) =>
    new cloudwatch.GraphWidget({
      title,
      left: [metrics.custom(metricName, statistic, { period, label: 'all types' }), metrics.perTaskTypeSearch(metricName, statistic, period)],
      ...(annotation ? { leftAnnotations: [annotation] } : {}),
      width: 8,
      height,
    });
  dashboard.addWidgets(
    allAndPerType('Handler duration p99 (ms): all types, per type', m.handlerDuration, 'p99'),
    allAndPerType('End-to-end latency p99 (ms): all types, per type', m.endToEndLatency, 'p99'),
    allAndPerType('Oldest task gone back unfinished (s): all types, per type', m.unfinishedTaskAge, 'Maximum', {
      value: config.alarms.unfinishedTaskAge.threshold,
      label: 'age alarm',
    }),
  );

  return dashboard;
}
