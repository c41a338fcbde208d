/**
 * Processed and failed tasks per minute, for the overview's charts.
 *
 * - Local: the local poller's running totals from the state file (`counters`): processed =
 *   records deleted from the queue (acknowledged), failed = records returned to the queue
 *   plus messages that reached the DLQ since the previous sample.
 * - AWS: the consumer's own metrics TasksProcessed and TasksFailed (namespace TaskQueue
 *   unless configured otherwise), Sum per minute over the last hour.
 */
import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { TASK_METRICS } from '../../protocol/metrics.ts';
import type { RateSample } from './lane-history.ts';

export const LOCAL_RATES_SOURCE = 'local poller: processed = records deleted from the queue; failed = records returned to the queue + new DLQ messages';
export const CLOUDWATCH_RATES_SOURCE = `CloudWatch ${TASK_METRICS.defaultNamespace}/${TASK_METRICS.names.tasksProcessed} and ${TASK_METRICS.names.tasksFailed}, Sum per minute`;

export async function cloudWatchRates(cloudWatch: CloudWatchClient, now: number, namespace: string = TASK_METRICS.defaultNamespace): Promise<RateSample[]> {
  const { GetMetricDataCommand } = await import('@aws-sdk/client-cloudwatch');
  const query = (id: string, metricName: string) => ({ Id: id, MetricStat: { Metric: { Namespace: namespace, MetricName: metricName }, Period: 60, Stat: 'Sum' } });
  const result = await cloudWatch.send(
    new GetMetricDataCommand({
      StartTime: new Date(now - 60 * 60_000),
      EndTime: new Date(now),
      ScanBy: 'TimestampAscending',
      MetricDataQueries: [query('processed', TASK_METRICS.names.tasksProcessed), query('failed', TASK_METRICS.names.tasksFailed)],
    }),
  );
  const byTime = new Map<number, { processed: number; failed: number }>();
  for (const series of result.MetricDataResults ?? []) {
    (series.Timestamps ?? []).forEach((timestamp, n) => {
      const t = timestamp.getTime();
      const entry = byTime.get(t) ?? { processed: 0, failed: 0 };
      if (series.Id === 'processed') entry.processed = series.Values?.[n] ?? 0;
      if (series.Id === 'failed') entry.failed = series.Values?.[n] ?? 0;
      byTime.set(t, entry);
    });
  }
  return [...byTime.entries()]
    .sort(([a], [b]) => a - b)
    .map(([t, v]) => ({ t, processedPerMinute: v.processed, failedPerMinute: v.failed }));
}
