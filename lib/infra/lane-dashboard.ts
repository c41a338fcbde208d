/**
 * One dashboard row per named lane: its queue (waiting, in flight, oldest age), its DLQ and
 * its consumer (invocations, errors, throttles, concurrency) — the default lane's rows are
 * the dashboard's own.
 */
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type { Lane } from './lane.ts';

export function addLaneDashboardRows(dashboard: cloudwatch.Dashboard, lanes: readonly Lane[]): void {
  const period = Duration.minutes(1);
  const height = 6;
  for (const lane of lanes) {
    const m = lane.metrics;
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: `Lane ${lane.name}: waiting, in flight; oldest age (s)`,
        left: [m.queueDepth({ period }), m.messagesInFlight({ period })],
        right: [m.oldestMessageAge({ period })],
        leftAnnotations: [{ value: lane.config.alarms.queueDepth.threshold, label: 'depth alarm' }],
        width: 8,
        height,
      }),
      new cloudwatch.GraphWidget({
        title: `Lane ${lane.name}: dead-letter queue`,
        left: [m.deadLetterQueueDepth({ period }), m.deadLetterQueueInFlight({ period })],
        width: 8,
        height,
      }),
      new cloudwatch.GraphWidget({
        title: `Lane ${lane.name}: consumer invocations, errors, throttles; concurrency`,
        left: [
          m.consumerInvocations({ period, label: 'invocations' }),
          m.consumerErrors({ period, label: 'errors' }),
          m.consumerThrottles({ period, label: 'throttles' }),
        ],
        right: [m.consumerConcurrentExecutions({ period, label: 'concurrent executions' })],
        width: 8,
        height,
      }),
    );
  }
  // The lanes' alarms join the alarm status widget through a row of their own.
  const alarms = lanes.flatMap((lane) => Object.values(lane.alarms));
  if (alarms.length > 0) dashboard.addWidgets(new cloudwatch.AlarmStatusWidget({ title: 'Lane alarms', alarms, width: 24, height: 3 }));
}
