/**
 * Metrics of the task queue: SQS and Lambda metrics of its resources, and the consumer's
 * custom metrics (embedded metric format) in the configured namespace.
 *
 * Custom metrics: the helpers query the aggregate series with no dimensions, or the
 * `TaskType` dimension when `taskType` is given — the runtime should emit both dimension
 * sets ([] and [TaskType]). The dashboard uses SEARCH expressions instead, so it shows
 * every dimension combination the runtime actually emits.
 */
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sqs from 'aws-cdk-lib/aws-sqs';

/** Metric names the consumer emits (EMF) into `metricsNamespace`. */
export const CUSTOM_METRICS = {
  tasksProcessed: 'TasksProcessed',
  tasksFailed: 'TasksFailed',
  tasksRetried: 'TasksRetried',
  tasksDeadLettered: 'TasksDeadLettered',
  duplicatesSkipped: 'DuplicatesSkipped',
  /** milliseconds */
  handlerDuration: 'HandlerDuration',
  /** milliseconds from createdAt to completion */
  endToEndLatency: 'EndToEndLatency',
} as const;

/** The dimension the helpers add when a task type is given. */
export const TASK_TYPE_DIMENSION = 'TaskType';

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
   * Every series of a custom metric, whatever its dimensions (for graphs; a SEARCH
   * expression cannot back an alarm).
   */
  customSearch(metricName: string, statistic: string, period: Duration, label?: string): cloudwatch.MathExpression {
    const search = `SEARCH('Namespace="${this.namespace}" MetricName="${metricName}"', '${statistic}', ${period.toSeconds()})`;
    return new cloudwatch.MathExpression({
      expression: search,
      usingMetrics: {},
      period,
      ...(label !== undefined ? { label } : {}),
    });
  }
}
