/**
 * Metrics of the task queue: SQS and Lambda metrics of its resources, and the consumer's
 * custom metrics (embedded metric format) in the configured namespace.
 *
 * Custom metrics: the helpers query the aggregate series with no dimensions, or the
 * `TaskType` dimension when `taskType` is given — the two dimension sets the runtime
 * publishes every document under (TASK_METRICS.dimensionSets). The dashboard graphs the
 * aggregate with the same helpers and every task type with a SEARCH on the [TaskType] schema.
 */
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { TASK_METRICS } from '../protocol/metrics.ts';

/** Metric names the consumer emits (EMF) into `metricsNamespace` (lib/protocol/metrics.ts). */
export const CUSTOM_METRICS = TASK_METRICS.names;

/** The dimension the helpers add when a task type is given. */
export const TASK_TYPE_DIMENSION = TASK_METRICS.taskTypeDimension;

export interface TaskMetricOptions extends cloudwatch.MetricOptions {
  /** Only this task type (dimension `TaskType`). @default all task types (no dimension) */
  readonly taskType?: string;
}

export class TaskQueueMetrics {
  constructor(
    private readonly queue: sqs.IQueue,
    private readonly deadLetterQueue: sqs.IQueue,
    private readonly consumer: lambda.IFunction,
    readonly namespace: string,
  ) {}

  /** Visible (waiting) messages on the source queue. @default Maximum over 5 minutes */
  queueDepth(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.queue.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', label: 'visible', ...props });
  }
  /** Age of the oldest message on the source queue, seconds. @default Maximum */
  oldestMessageAge(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.queue.metricApproximateAgeOfOldestMessage({ statistic: 'Maximum', label: 'oldest message age (s)', ...props });
  }
  /** Messages received and not yet deleted (being processed or waiting out a backoff). */
  messagesInFlight(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.queue.metricApproximateNumberOfMessagesNotVisible({ statistic: 'Maximum', label: 'in flight', ...props });
  }
  /** Visible messages on the DLQ. @default Maximum */
  deadLetterQueueDepth(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', label: 'DLQ visible', ...props });
  }
  /** Received and not yet deleted DLQ messages: hidden by a peek or a redrive scan. @default Maximum */
  deadLetterQueueInFlight(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.deadLetterQueue.metricApproximateNumberOfMessagesNotVisible({ statistic: 'Maximum', label: 'DLQ in flight', ...props });
  }
  /** Messages sent to the source queue. @default Sum */
  messagesSent(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.queue.metricNumberOfMessagesSent({ statistic: 'Sum', label: 'sent', ...props });
  }
  /** Messages deleted from the source queue (acknowledged). @default Sum */
  messagesDeleted(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.queue.metricNumberOfMessagesDeleted({ statistic: 'Sum', label: 'deleted', ...props });
  }
  consumerInvocations(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.consumer.metricInvocations({ statistic: 'Sum', ...props });
  }
  consumerErrors(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.consumer.metricErrors({ statistic: 'Sum', ...props });
  }
  consumerThrottles(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.consumer.metricThrottles({ statistic: 'Sum', ...props });
  }
  consumerDuration(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.consumer.metricDuration({ statistic: 'p99', ...props });
  }
  consumerConcurrentExecutions(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.consumer.metric('ConcurrentExecutions', { statistic: 'Maximum', ...props });
  }

  /** A custom (EMF) metric of the consumer. */
  custom(metricName: string, defaultStatistic: string, props: TaskMetricOptions = {}): cloudwatch.Metric {
    const { taskType, ...options } = props;
    return new cloudwatch.Metric({
      namespace: this.namespace,
      metricName,
      statistic: defaultStatistic,
      period: Duration.minutes(5),
      ...(taskType !== undefined ? { dimensionsMap: { [TASK_TYPE_DIMENSION]: taskType } } : {}),
      ...options,
    });
  }

  /**
   * One series per task type of a custom metric: a SEARCH on the [TaskType] dimension set
   * (graphs only — a SEARCH expression cannot back an alarm), each line labelled with its
   * type (a dynamic label). The namespace is quoted: it may hold `/`, `#` or `:`.
   */
  perTaskTypeSearch(metricName: string, statistic: string, period: Duration, labelPrefix?: string): cloudwatch.MathExpression {
    const schema = `{"${this.namespace}",${TASK_TYPE_DIMENSION}}`;
    const typeLabel = `\${PROP('Dim.${TASK_TYPE_DIMENSION}')}`;
    return new cloudwatch.MathExpression({
      expression: `SEARCH('${schema} MetricName="${metricName}"', '${statistic}', ${period.toSeconds()})`,
      usingMetrics: {},
      period,
      label: labelPrefix !== undefined ? `${labelPrefix} ${typeLabel}` : typeLabel,
    });
  }
}
