/**
 * An alarm on a queue that should stay empty — a dead-letter or on-failure queue of something
 * that is not the task queue itself (the schedules' DLQ, the completion events' failure queue):
 * visible + in-flight messages ≥ 1 over one minute, ALARM and OK to the alarm topic.
 */
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';

export interface QueueNotEmptyAlarmOptions {
  readonly queue: sqs.IQueue;
  readonly alarmTopic: sns.ITopic;
  /** `<prefix>-<nameSuffix>` when a prefix is known, else a generated name. */
  readonly alarmNamePrefix: string | undefined;
  readonly nameSuffix: string;
  readonly description: string;
}

export function createQueueNotEmptyAlarm(scope: Construct, id: string, options: QueueNotEmptyAlarmOptions): cloudwatch.Alarm {
  const alarm = new cloudwatch.Alarm(scope, id, {
    ...(options.alarmNamePrefix !== undefined ? { alarmName: `${options.alarmNamePrefix}-${options.nameSuffix}` } : {}),
    alarmDescription: options.description,
    metric: new cloudwatch.MathExpression({
      expression: 'visible + FILL(inFlight, 0)',
      usingMetrics: {
        visible: options.queue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1), statistic: 'Maximum' }),
        inFlight: options.queue.metricApproximateNumberOfMessagesNotVisible({ period: Duration.minutes(1), statistic: 'Maximum' }),
      },
      period: Duration.minutes(1),
    }),
    threshold: 1,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    evaluationPeriods: 1,
    // No data = an idle, empty queue: nothing failed.
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
  });
  alarm.addAlarmAction(new actions.SnsAction(options.alarmTopic));
  alarm.addOkAction(new actions.SnsAction(options.alarmTopic));
  return alarm;
}
