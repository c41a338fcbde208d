/**
 * The operations dashboard: queue health on the first row, the consumer Lambda on the
 * second, the consumer's own task metrics on the third, and the alarms' states.
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
      title: 'Dead-letter queue depth',
      left: [metrics.deadLetterQueueDepth({ period })],
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

  // Custom metrics: SEARCH shows every dimension combination the runtime emits.
  const m = CUSTOM_METRICS;
  dashboard.addWidgets(
    new cloudwatch.GraphWidget({
      title: `Tasks per minute (${metrics.namespace})`,
      left: [m.tasksProcessed, m.tasksFailed, m.tasksRetried, m.tasksDeadLettered, m.duplicatesSkipped].map((name) =>
        metrics.customSearch(name, 'Sum', period),
      ),
      width: 12,
      height,
    }),
    new cloudwatch.GraphWidget({
      title: 'Handler duration and end-to-end latency, p99 (ms)',
      left: [metrics.customSearch(m.handlerDuration, 'p99', period)],
      right: [metrics.customSearch(m.endToEndLatency, 'p99', period)],
      width: 12,
      height,
    }),
  );

  return dashboard;
}
