/**
 * The task queue's recurring tasks: one EventBridge Scheduler schedule per `schedules` entry,
 * in a schedule group of the task queue, each sending its occurrence's task envelope
 * (lib/protocol/schedule.ts) to the source queue. Deliveries Scheduler cannot make after its
 * retries go to a dead-letter queue of their own, watched by an alarm.
 *
 * The role Scheduler assumes can only sqs:SendMessage to the source queue and that
 * dead-letter queue (+ the key's kms:GenerateDataKey/Decrypt), and only schedules of this
 * group (aws:SourceArn) in this account may assume it.
 */
import { CfnOutput, RemovalPolicy, Stack, TimeZone, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { createQueueNotEmptyAlarm } from './queue-not-empty-alarm.ts';
import { SCHEDULED_TIME_PLACEHOLDER, scheduledTaskEnvelope } from '../protocol/schedule.ts';
import { SCHEDULE_OUTPUTS } from '../protocol/resources.ts';
import { SCHEDULE_DEFAULTS } from './schedule-props.ts';
import type { ResolvedSchedule } from './schedule-validation.ts';
import type { ResolvedTaskQueueConfig } from './validation.ts';

/** Suffix of the schedule alarm's name (`<prefix>-<suffix>`); docs/OPERATIONS.md has its runbook. */
export const SCHEDULE_ALARM_NAME_SUFFIX = 'ScheduleDeliveryFailed';

export interface TaskSchedulesOptions {
  readonly queue: sqs.IQueue;
  readonly encryptionKey: kms.IKey | undefined;
  readonly config: ResolvedTaskQueueConfig;
  readonly alarmTopic: sns.ITopic;
  readonly alarmNamePrefix: string | undefined;
  readonly outputs: boolean;
}

/** The Scheduler resources of a task queue with schedules. */
export class TaskSchedules extends Construct {
  /** The schedule group holding this task queue's schedules. */
  readonly group: scheduler.ScheduleGroup;
  /** The role Scheduler assumes to send the occurrences. */
  readonly role: iam.Role;
  /** Occurrences Scheduler could not deliver after its retries (Scheduler's own message + error attributes). */
  readonly deadLetterQueue: sqs.Queue;
  /** Pages when an occurrence could not be delivered. */
  readonly alarm: cloudwatch.Alarm;
  /** The schedules, by name. */
  readonly schedules: Readonly<Record<string, scheduler.Schedule>>;

  constructor(scope: Construct, id: string, resolved: readonly ResolvedSchedule[], options: TaskSchedulesOptions) {
    super(scope, id);
    const stack = Stack.of(this);
    const { config, encryptionKey } = options;
    // A group holds no data: it goes with the stack whatever removalPolicy says.
    this.group = new scheduler.ScheduleGroup(this, 'Group', { removalPolicy: RemovalPolicy.DESTROY });

    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      ...(config.fifo ? { fifo: true, contentBasedDeduplication: true } : {}),
      ...(encryptionKey ? { encryption: sqs.QueueEncryption.KMS, encryptionMasterKey: encryptionKey } : { encryption: sqs.QueueEncryption.SQS_MANAGED }),
      enforceSSL: true,
      retentionPeriod: SCHEDULE_DEFAULTS.deadLetterRetentionPeriod,
      removalPolicy: config.removalPolicy,
    });
    Validations.of(this.deadLetterQueue).acknowledge(
      { id: 'Serverless-SQSRedrivePolicy', reason: 'This queue is the dead-letter queue of the task queue\'s schedules (Scheduler\'s DeadLetterConfig); it has no DLQ of its own by design.' },
      { id: 'AwsSolutions-SQS3', reason: 'This queue is a dead-letter queue: Scheduler\'s DeadLetterConfig, not an SQS redrive policy, points at it, which the rule cannot see.' },
    );

    this.role = new iam.Role(this, 'Role', {
      description: 'Assumed by EventBridge Scheduler to send the task queue\'s scheduled tasks',
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account, 'aws:SourceArn': this.group.scheduleGroupArn } },
      }),
    });

    // Explicit grants rather than aws-scheduler-targets' SqsSendMessage, which adds
    // kms:GenerateDataKey* and no key permission for the dead-letter queue.
    iam.Grant.addToPrincipal({ grantee: this.role, actions: ['sqs:SendMessage'], resourceArns: [options.queue.queueArn, this.deadLetterQueue.queueArn] });
    encryptionKey?.grant(this.role, 'kms:GenerateDataKey', 'kms:Decrypt');

    const schedules: Record<string, scheduler.Schedule> = {};
    for (const s of resolved) {
      // The scheduled time stays a placeholder: Scheduler substitutes it at each occurrence.
      const envelope = scheduledTaskEnvelope({ scheduleName: s.name, type: s.type, payload: s.payload, scheduledTime: SCHEDULED_TIME_PLACEHOLDER });
      const target: scheduler.IScheduleTarget = {
        bind: () => ({
          arn: options.queue.queueArn,
          role: this.role,
          input: scheduler.ScheduleTargetInput.fromText(JSON.stringify(envelope)),
          retryPolicy: { maximumRetryAttempts: s.retryAttempts, maximumEventAgeInSeconds: s.maxEventAge.toSeconds() },
          deadLetterConfig: { arn: this.deadLetterQueue.queueArn },
          ...(config.fifo ? { sqsParameters: { messageGroupId: `schedule:${s.name}` } } : {}),
        }),
      };
      schedules[s.name] = new scheduler.Schedule(this, `Schedule-${s.name}`, {
        scheduleName: s.name,
        scheduleGroup: this.group,
        schedule: scheduler.ScheduleExpression.expression(s.expression, TimeZone.of(s.timezone)),
        target,
        enabled: s.enabled,
        ...(s.description !== undefined ? { description: s.description } : {}),
        ...(s.flexibleWindow !== undefined ? { timeWindow: scheduler.TimeWindow.flexible(s.flexibleWindow) } : {}),
      });
    }
    this.schedules = schedules;

    this.alarm = createQueueNotEmptyAlarm(this, 'DeliveryFailedAlarm', {
      queue: this.deadLetterQueue,
      alarmTopic: options.alarmTopic,
      alarmNamePrefix: options.alarmNamePrefix,
      nameSuffix: SCHEDULE_ALARM_NAME_SUFFIX,
      description: `A scheduled task could not be sent to the queue after Scheduler's retries; it waits in the schedule dead-letter queue. Runbook: docs/OPERATIONS.md, "${SCHEDULE_ALARM_NAME_SUFFIX}".`,
    });

    if (options.outputs) {
      const outputs = { scheduleGroupName: this.group.scheduleGroupName, scheduleDeadLetterQueueUrl: this.deadLetterQueue.queueUrl };
      for (const key of Object.keys(SCHEDULE_OUTPUTS) as (keyof typeof SCHEDULE_OUTPUTS)[]) {
        new CfnOutput(scope, `Output${SCHEDULE_OUTPUTS[key]}`, { value: outputs[key] }).overrideLogicalId(SCHEDULE_OUTPUTS[key]);
      }
    }
  }
}
