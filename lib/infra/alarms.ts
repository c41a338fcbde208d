/**
 * The on-call alarms. Each sends ALARM and OK notifications to the alarm topic, so a page
 * also tells when it is over. treatMissingData is chosen per alarm (see the comments):
 * SQS stops publishing metrics for a queue that has been inactive (empty, no API calls)
 * for six hours, and Lambda publishes nothing for a function that is not invoked.
 */
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';
import { CUSTOM_METRICS, type TaskQueueMetrics } from './metrics.ts';
import type { ResolvedTaskQueueConfig } from './validation.ts';

/** The alarms, by role. */
export interface TaskQueueAlarms {
  readonly queueDepth: cloudwatch.Alarm;
  readonly oldestMessageAge: cloudwatch.Alarm;
  readonly deadLetterQueueNotEmpty: cloudwatch.Alarm;
  readonly consumerErrors: cloudwatch.Alarm;
  readonly consumerThrottles: cloudwatch.Alarm;
  readonly noConsumers: cloudwatch.Alarm;
  readonly unfinishedTaskAge: cloudwatch.Alarm;
}

/** The alarms a lane has: those of its queue, DLQ and function (UnfinishedTaskAge is the consumers' shared custom metric). */
export type LaneAlarms = Omit<TaskQueueAlarms, 'unfinishedTaskAge'>;

/** Suffix of each alarm's name (`<prefix>-<suffix>`); docs/OPERATIONS.md has a runbook per alarm. */
export const ALARM_NAME_SUFFIXES: Record<keyof TaskQueueAlarms, string> = {
  queueDepth: 'QueueDepth',
  oldestMessageAge: 'OldestMessageAge',
  deadLetterQueueNotEmpty: 'DeadLetterQueueNotEmpty',
  consumerErrors: 'ConsumerErrors',
  consumerThrottles: 'ConsumerThrottles',
  noConsumers: 'NoConsumers',
  unfinishedTaskAge: 'UnfinishedTaskAge',
};

/**
 * The DLQ's dead letters, visible or not (ids: visible, inFlight of the DLQ): a `dlq peek` or
 * a redrive scan hides them for a moment, and visible alone would flip the alarm to OK and
 * page again when they reappear. inFlight is FILLed with 0; visible is not, so when SQS stops
 * publishing for an idle DLQ the expression has no data and the alarm keeps its state.
 */
export const DEAD_LETTERS_EXPRESSION = 'visible + FILL(inFlight, 0)';

/** The "no consumers" metric math (ids: visible, deleted, invocations). */
export const NO_CONSUMERS_EXPRESSION = 'IF(visible > 0 AND (FILL(deleted, 0) + FILL(invocations, 0)) == 0, 1, 0)';

export function createAlarms(
  scope: Construct,
  config: ResolvedTaskQueueConfig,
  metrics: TaskQueueMetrics,
  topic: sns.ITopic,
  namePrefix: string | undefined,
): TaskQueueAlarms {
  const a = config.alarms;
  const name = (key: keyof TaskQueueAlarms) => (namePrefix !== undefined ? { alarmName: `${namePrefix}-${ALARM_NAME_SUFFIXES[key]}` } : {});
  const runbook = (key: keyof TaskQueueAlarms) => ` Runbook: docs/OPERATIONS.md, "${ALARM_NAME_SUFFIXES[key]}".`;
  const queueAlarms = createLaneAlarms(scope, config, metrics, topic, namePrefix);
  const unfinishedTaskAge = new cloudwatch.Alarm(scope, 'UnfinishedTaskAgeAlarm', {
    ...name('unfinishedTaskAge'),
    alarmDescription: `A task older than ${a.unfinishedTaskAge.threshold} seconds went back to the queue unfinished: it keeps failing or coming back without running (the table, a claim object, a lease), even if every fresh copy of it looks young to SQS.${runbook('unfinishedTaskAge')}`,
    metric: metrics.custom(CUSTOM_METRICS.unfinishedTaskAge, 'Maximum', { period: a.unfinishedTaskAge.period }),
    threshold: a.unfinishedTaskAge.threshold,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    evaluationPeriods: a.unfinishedTaskAge.evaluationPeriods,
    // No data = no task went back unfinished in the period.
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
  });
  const action = new actions.SnsAction(topic);
  unfinishedTaskAge.addAlarmAction(action);
  unfinishedTaskAge.addOkAction(action);
  return { ...queueAlarms, unfinishedTaskAge };
}

/**
 * The alarms of one queue, its DLQ and its consumer function: the default lane's, and each
 * named lane's (names `<prefix>-<lane>-<suffix>`).
 */
export function createLaneAlarms(
  scope: Construct,
  config: ResolvedTaskQueueConfig,
  metrics: TaskQueueMetrics,
  topic: sns.ITopic,
  namePrefix: string | undefined,
  laneName?: string,
): LaneAlarms {
  const a = config.alarms;
  const name = (key: keyof TaskQueueAlarms) => (namePrefix !== undefined ? { alarmName: `${namePrefix}-${ALARM_NAME_SUFFIXES[key]}` } : {});
  const lane = laneName !== undefined ? `Lane ${laneName}: ` : '';
  const runbook = (key: keyof TaskQueueAlarms) => ` Runbook: docs/OPERATIONS.md, "${ALARM_NAME_SUFFIXES[key]}".`;

  const alarms: LaneAlarms = {
    queueDepth: new cloudwatch.Alarm(scope, 'QueueDepthAlarm', {
      ...name('queueDepth'),
      alarmDescription: `${lane}More than ${a.queueDepth.threshold} tasks waiting on the source queue for ${minutes(a.queueDepth)} minutes: consumers are not keeping up.${runbook('queueDepth')}`,
      metric: metrics.queueDepth({ period: a.queueDepth.period }),
      threshold: a.queueDepth.threshold,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: a.queueDepth.evaluationPeriods,
      // No data = the queue has been empty and idle for hours: nothing is waiting.
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    }),
    oldestMessageAge: new cloudwatch.Alarm(scope, 'OldestMessageAgeAlarm', {
      ...name('oldestMessageAge'),
      alarmDescription: `${lane}The oldest task on the source queue is older than ${a.oldestMessageAge.threshold} seconds: work is stuck or starved.${runbook('oldestMessageAge')}`,
      metric: metrics.oldestMessageAge({ period: a.oldestMessageAge.period }),
      threshold: a.oldestMessageAge.threshold,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: a.oldestMessageAge.evaluationPeriods,
      // No data = an empty, idle queue: no message to be old.
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    }),
    deadLetterQueueNotEmpty: new cloudwatch.Alarm(scope, 'DeadLetterQueueNotEmptyAlarm', {
      ...name('deadLetterQueueNotEmpty'),
      alarmDescription: `${lane}Tasks are on the dead-letter queue: they failed permanently or exhausted their attempts and need a human (inspect, fix, redrive or purge).${runbook('deadLetterQueueNotEmpty')}`,
      metric: new cloudwatch.MathExpression({
        expression: DEAD_LETTERS_EXPRESSION,
        usingMetrics: {
          visible: metrics.deadLetterQueueDepth({ period: a.deadLetterQueueNotEmpty.period }),
          inFlight: metrics.deadLetterQueueInFlight({ period: a.deadLetterQueueNotEmpty.period }),
        },
        period: a.deadLetterQueueNotEmpty.period,
        label: 'dead letters (visible + in flight)',
      }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: a.deadLetterQueueNotEmpty.evaluationPeriods,
      // Keep the last state: messages sitting untouched in a DLQ can stop its metrics, and
      // that must not turn a page into a silent OK (visible is not FILLed, see the
      // expression). Emptying the DLQ is an API action that publishes a 0 and clears the alarm.
      treatMissingData: cloudwatch.TreatMissingData.IGNORE,
    }),
    consumerErrors: new cloudwatch.Alarm(scope, 'ConsumerErrorsAlarm', {
      ...name('consumerErrors'),
      alarmDescription: `${lane}The consumer Lambda failed ${a.consumerErrors.threshold}+ times in ${minutes(a.consumerErrors)} minutes (crash, timeout or out of memory; task failures are reported per record and are not counted).${runbook('consumerErrors')}`,
      metric: metrics.consumerErrors({ period: a.consumerErrors.period }),
      threshold: a.consumerErrors.threshold,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: a.consumerErrors.evaluationPeriods,
      // No invocations publish no Errors datapoint: nothing failed.
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    }),
    consumerThrottles: new cloudwatch.Alarm(scope, 'ConsumerThrottlesAlarm', {
      ...name('consumerThrottles'),
      alarmDescription: `${lane}The consumer Lambda is being throttled (${a.consumerThrottles.threshold}+ per ${a.consumerThrottles.period.toMinutes()} minutes for ${minutes(a.consumerThrottles)} minutes): reserved/maximum concurrency or the account limit disagree with the load.${runbook('consumerThrottles')}`,
      metric: metrics.consumerThrottles({ period: a.consumerThrottles.period }),
      threshold: a.consumerThrottles.threshold,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: a.consumerThrottles.evaluationPeriods,
      // No invocation attempts publish no Throttles datapoint: nothing was throttled.
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    }),
    noConsumers: new cloudwatch.Alarm(scope, 'NoConsumersAlarm', {
      ...name('noConsumers'),
      alarmDescription: `${lane}Tasks are waiting but nothing is consuming them: no deletes on the queue and no consumer invocations for ${minutes(a.noConsumers)} minutes (event source disabled, function broken or permissions missing).${runbook('noConsumers')}`,
      metric: new cloudwatch.MathExpression({
        expression: NO_CONSUMERS_EXPRESSION,
        usingMetrics: {
          visible: metrics.queueDepth({ period: a.noConsumers.period }),
          deleted: metrics.messagesDeleted({ period: a.noConsumers.period }),
          invocations: metrics.consumerInvocations({ period: a.noConsumers.period }),
        },
        period: a.noConsumers.period,
        label: 'backlog with no consumers (1 = yes)',
      }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: a.noConsumers.evaluationPeriods,
      // Missing deletes/invocations are FILLed with 0 in the expression; missing "visible"
      // means the queue has been empty and idle: no backlog.
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    }),
  };

  const action = new actions.SnsAction(topic);
  for (const alarm of Object.values(alarms)) {
    alarm.addAlarmAction(action);
    alarm.addOkAction(action);
  }
  return alarms;
}

function minutes(alarm: { period: { toMinutes(): number }; evaluationPeriods: number }): number {
  return alarm.period.toMinutes() * alarm.evaluationPeriods;
}
