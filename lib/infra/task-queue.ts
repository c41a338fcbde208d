/**
 * TaskQueue: the whole serverless task queue as one construct — source queue + DLQ, task
 * table, claim-check bucket, consumer Lambda with its SQS event source, least-privilege
 * IAM, alarms to an on-call topic, a dashboard and the stack outputs.
 *
 *   new TaskQueue(this, 'Tasks', { alarmEmail: 'oncall@example.com' });
 */
import { Stack, Token } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { allowAlarmsToPublish, createAlarmTopic } from './alarm-topic.ts';
import { createAlarms, type TaskQueueAlarms } from './alarms.ts';
import { createConsumer } from './consumer-function.ts';
import { resolveCompletionEvents, TaskCompletionEvents } from './completion-events.ts';
import { createDashboard } from './dashboard.ts';
import { acknowledgeNagFindings } from './nag-acknowledgments.ts';
import { CUSTOM_METRICS, TaskQueueMetrics, type TaskMetricOptions } from './metrics.ts';
import { createOutputs, createRecentTasksIndexOutput } from './outputs.ts';
import * as permissions from './permissions.ts';
import { TASK_QUEUE_DEFAULTS, type TaskQueueProps } from './props.ts';
import { createQueues } from './queues.ts';
import { resolveSchedules } from './schedule-validation.ts';
import { TaskSchedules } from './schedules.ts';
import { createClaimBucket, createTaskTable } from './storage.ts';
import { resolveTaskQueueProps, type ResolvedTaskQueueConfig } from './validation.ts';
import { Lane } from './lane.ts';
import { addLaneDashboardRows } from './lane-dashboard.ts';
import { createLaneOutputs } from './lane-outputs.ts';
import { resolveFanOut, resolveLanes } from './lane-validation.ts';
import { createRoutingTableItem } from './routing-table.ts';
import { DEFAULT_LANE, type RoutingTable } from '../protocol/lanes.ts';
import { RECENT_TASKS_INDEX } from '../protocol/resources.ts';

export class TaskQueue extends Construct {
  /** The source queue producers send tasks to. */
  readonly queue: sqs.Queue;
  /** Tasks that failed permanently or exhausted their attempts. */
  readonly deadLetterQueue: sqs.Queue;
  /** One item per idempotency key: lease, status, attempts. */
  readonly table: dynamodb.Table;
  /** Claim-check payloads under `claimPrefix`. */
  readonly bucket: s3.Bucket;
  /** Key prefix of claim-check objects. */
  readonly claimPrefix: string;
  /** The consumer Lambda. */
  readonly consumer: nodejs.NodejsFunction;
  /** The consumer's log group. */
  readonly consumerLogGroup: logs.LogGroup;
  /** The SQS event source mapping feeding the consumer. */
  readonly eventSourceMapping: lambda.EventSourceMapping;
  /** Where the alarms send ALARM and OK notifications. */
  readonly alarmTopic: sns.ITopic;
  readonly alarms: TaskQueueAlarms;
  readonly dashboard: cloudwatch.Dashboard;
  /** The customer-managed key, when one was given. */
  readonly encryptionKey: kms.IKey | undefined;
  /** Name of the task table's recent-tasks index, when `recentTasksIndex` is on. */
  readonly recentTasksIndex: string | undefined;
  /** Namespace of the consumer's custom metrics. */
  readonly metricsNamespace: string;
  /** Every setting after defaults were applied (what was actually deployed). */
  readonly config: ResolvedTaskQueueConfig;
  /** The named lanes, by name (the default lane is this construct's own queue and consumer). */
  readonly lanes: Readonly<Record<string, Lane>>;
  /** The routing table the stack writes into the task table (with lanes or fanOut), else undefined. */
  readonly routing: RoutingTable | undefined;
  /** The Scheduler schedules, their group, role, dead-letter queue and alarm; undefined without `schedules`. */
  readonly schedules: TaskSchedules | undefined;
  /** The stream → EventBridge function, its failure queue and alarm; undefined without `completionEvents`. */
  readonly completionEvents: TaskCompletionEvents | undefined;

  private readonly metrics: TaskQueueMetrics;

  constructor(scope: Construct, id: string, props: TaskQueueProps = {}) {
    super(scope, id);
    const config = resolveTaskQueueProps(props);
    const resolvedLanes = resolveLanes(props);
    const fanOut = resolveFanOut(props, resolvedLanes);
    const schedules = resolveSchedules(props.schedules, {
      fifo: config.fifo,
      contentBasedDeduplication: config.contentBasedDeduplication,
      ...(props.taskTypes ? { taskTypes: props.taskTypes } : {}),
    });
    if (props.completionEvents) resolveCompletionEvents(props.completionEvents);
    this.config = config;
    this.encryptionKey = props.encryptionKey;
    this.recentTasksIndex = props.recentTasksIndex ? RECENT_TASKS_INDEX.indexName : undefined;
    this.claimPrefix = config.claimPrefix;
    this.metricsNamespace = config.metricsNamespace;

    const { queue, deadLetterQueue } = createQueues(this, config, props.encryptionKey);
    this.queue = queue;
    this.deadLetterQueue = deadLetterQueue;
    this.table = createTaskTable(this, config, props);
    this.bucket = createClaimBucket(this, config, props, props.encryptionKey);

    // Lanes: built before the default consumer, whose environment names every lane's queue.
    // toJsonString serializes at synth time (a lazy token), after every lane has added itself.
    const withRouting = resolvedLanes.length > 0 || Object.keys(fanOut).length > 0;
    const routing = { lanes: { [DEFAULT_LANE]: queue.queueUrl } as Record<string, string>, types: {} as Record<string, string>, fanOut };
    const routingJson = Stack.of(this).toJsonString(routing);
    const laneList = resolvedLanes.map((resolved) => {
      const lane = new Lane(this, resolved, { props, tableName: this.table.tableName, bucketName: this.bucket.bucketName, routingJson });
      routing.lanes[resolved.name] = lane.queue.queueUrl;
      for (const type of resolved.types) routing.types[type] = resolved.name;
      return lane;
    });
    this.lanes = Object.fromEntries(laneList.map((lane) => [lane.name, lane]));
    this.routing = withRouting ? routing : undefined;

    const consumer = createConsumer(this, config, props, {
      queue,
      deadLetterQueue,
      tableName: this.table.tableName,
      bucketName: this.bucket.bucketName,
      ...(withRouting ? { lane: { name: DEFAULT_LANE, routingJson } } : {}),
    });
    this.consumer = consumer.function;
    this.consumerLogGroup = consumer.logGroup;
    this.eventSourceMapping = consumer.eventSourceMapping;
    const allQueues = [queue, ...laneList.map((l) => l.queue)];
    permissions.grantConsume(consumer.role, this.resources(), allQueues.filter((q) => q !== queue));
    for (const lane of laneList) {
      permissions.grantConsume(lane.consumerRole, { ...this.resources(), queue: lane.queue, deadLetterQueue: lane.deadLetterQueue }, allQueues.filter((q) => q !== lane.queue));
      acknowledgeNagFindings({
        deadLetterQueue: lane.deadLetterQueue,
        bucket: this.bucket,
        claimPrefix: config.claimPrefix,
        // The bucket's findings are acknowledged once, with the default lane's.
        hasServerAccessLogs: true,
        consumer: lane.consumer,
        consumerRole: lane.consumerRole,
        eventSourceMapping: lane.eventSourceMapping,
        runtime: config.runtime,
        tracing: props.tracing ?? TASK_QUEUE_DEFAULTS.tracing,
      });
    }
    if (withRouting) createRoutingTableItem(this, this.table, routingJson, props.encryptionKey);
    acknowledgeNagFindings({
      deadLetterQueue,
      bucket: this.bucket,
      claimPrefix: config.claimPrefix,
      hasServerAccessLogs: props.serverAccessLogsBucket !== undefined,
      consumer: this.consumer,
      consumerRole: consumer.role,
      eventSourceMapping: consumer.eventSourceMapping,
      runtime: config.runtime,
      tracing: props.tracing ?? TASK_QUEUE_DEFAULTS.tracing,
    });

    this.metrics = new TaskQueueMetrics(queue, deadLetterQueue, this.consumer, config.metricsNamespace);
    const alarmTopic = createAlarmTopic(this, props.alarmTopic, props.encryptionKey, config.alarmEmail);
    this.alarmTopic = alarmTopic.topic;
    const stackName = Stack.of(this).stackName;
    const defaultName = Token.isUnresolved(stackName) ? undefined : `${stackName}-${id}`;
    const alarmNamePrefix = props.alarmNamePrefix ?? defaultName;
    this.alarms = createAlarms(this, config, this.metrics, this.alarmTopic, alarmNamePrefix);
    for (const lane of laneList) lane.createAlarms(this.alarmTopic, alarmNamePrefix);
    const outputs = props.outputs ?? TASK_QUEUE_DEFAULTS.outputs;
    this.schedules =
      schedules.length > 0
        ? new TaskSchedules(this, 'Schedules', schedules, { queue, encryptionKey: props.encryptionKey, config, alarmTopic: this.alarmTopic, alarmNamePrefix, outputs })
        : undefined;
    this.completionEvents = props.completionEvents
      ? new TaskCompletionEvents(this, 'CompletionEvents', props.completionEvents, {
          table: this.table,
          encryptionKey: props.encryptionKey,
          config,
          logRetention: props.logRetention ?? TASK_QUEUE_DEFAULTS.logRetention,
          tracing: props.tracing ?? TASK_QUEUE_DEFAULTS.tracing,
          alarmTopic: this.alarmTopic,
          alarmNamePrefix,
          outputs,
        })
      : undefined;
    allowAlarmsToPublish(this, alarmTopic, props.encryptionKey, this.allAlarms(), alarmNamePrefix);
    this.dashboard = createDashboard(this, config, this.metrics, this.alarms, props.dashboardName ?? defaultName);
    addLaneDashboardRows(this.dashboard, laneList);

    if (outputs) {
      createOutputs(this, {
        queueUrl: queue.queueUrl,
        queueArn: queue.queueArn,
        deadLetterQueueUrl: deadLetterQueue.queueUrl,
        deadLetterQueueArn: deadLetterQueue.queueArn,
        tableName: this.table.tableName,
        bucketName: this.bucket.bucketName,
        claimPrefix: config.claimPrefix,
        alarmTopicArn: this.alarmTopic.topicArn,
        dashboardName: this.dashboard.dashboardName,
        consumerFunctionName: this.consumer.functionName,
        consumerLogGroupName: this.consumerLogGroup.logGroupName,
      });
      createLaneOutputs(this, laneList);
      if (props.recentTasksIndex) createRecentTasksIndexOutput(this, RECENT_TASKS_INDEX.indexName);
    }
  }

  /**
   * Lets a producer enqueue tasks: sqs:SendMessage and sqs:GetQueueAttributes (backpressure
   * reads the depth) on the source queue, s3:PutObject under the claim prefix, and
   * kms:GenerateDataKey/Decrypt when a key is used.
   */
  grantSend(grantee: iam.IGrantable): iam.Grant {
    return permissions.grantSend(grantee, this.resources());
  }

  /** Lets a caller read a task's status: dynamodb:GetItem on the task table (+ kms:Decrypt). */
  grantStatusRead(grantee: iam.IGrantable): iam.Grant {
    return permissions.grantStatusRead(grantee, this.resources());
  }

  /**
   * Lets a producer cancel tasks (`producer.cancel`, `taskq cancel`): dynamodb:UpdateItem on
   * the task table (one conditional update per cancel; + kms:Decrypt with a key). Nothing else:
   * a cancel never touches the queue.
   */
  grantCancel(grantee: iam.IGrantable): iam.Grant {
    return permissions.grantCancel(grantee, this.resources());
  }

  /**
   * Lets an operator inspect, purge and redrive the DLQ — `taskq dlq peek / redrive / purge`
   * with the queues named by `--dlq-url`/`--queue-url`: receive/delete/change-visibility/send/
   * purge/GetQueueAttributes and Start/List/CancelMessageMoveTask on the DLQ, SendMessage and
   * GetQueueAttributes on the source queue (+ kms:Decrypt/GenerateDataKey). It does not cover
   * the `--stack` lookup: `grantOperate` does.
   */
  grantRedrive(grantee: iam.IGrantable): iam.Grant {
    return permissions.grantRedrive(grantee, this.resources());
  }

  /**
   * Lets an operator run every `taskq` command against this task queue: `send`, `status`,
   * `cancel`, `stats`, `dlq peek / redrive / purge`, and resolving resources from the stack's
   * outputs. That is grantOperatorRead + grantSend + grantCancel + grantRedrive. (cloudwatch:GetMetricData has no
   * resource-level permissions: for a role, user or group it goes into an inline policy of
   * its own with resource "*".)
   */
  grantOperate(grantee: iam.IGrantable): iam.Grant {
    return permissions.grantOperate(grantee, this.operatorResources());
  }

  /**
   * Lets an operator run the read-only commands: `taskq stats` and `taskq status`, with the
   * `--stack` lookup — sqs:GetQueueAttributes on both queues, dynamodb:GetItem on the table,
   * cloudformation:DescribeStacks and ListStackResources on the stack, cloudwatch:DescribeAlarms
   * on the alarms, cloudwatch:GetMetricData (resource "*"), and kms:Decrypt with a key. Not
   * `dlq peek`: it receives messages and hides them for a moment.
   */
  grantOperatorRead(grantee: iam.IGrantable): iam.Grant {
    return permissions.grantOperatorRead(grantee, this.operatorResources());
  }

  // ── metrics ──

  /** ApproximateNumberOfMessagesVisible of the source queue (Maximum). */
  metricQueueDepth(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metrics.queueDepth(props);
  }
  /** ApproximateAgeOfOldestMessage of the source queue, seconds (Maximum). */
  metricOldestMessageAge(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metrics.oldestMessageAge(props);
  }
  /** ApproximateNumberOfMessagesNotVisible of the source queue (Maximum). */
  metricMessagesInFlight(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metrics.messagesInFlight(props);
  }
  /** ApproximateNumberOfMessagesVisible of the DLQ (Maximum). */
  metricDeadLetterQueueDepth(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metrics.deadLetterQueueDepth(props);
  }
  /** NumberOfMessagesSent to the source queue (Sum). */
  metricMessagesSent(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metrics.messagesSent(props);
  }
  /** NumberOfMessagesDeleted from the source queue (Sum). */
  metricMessagesDeleted(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metrics.messagesDeleted(props);
  }
  /** Tasks whose handler succeeded (Sum). */
  metricTasksProcessed(props?: TaskMetricOptions): cloudwatch.Metric {
    return this.metrics.custom(CUSTOM_METRICS.tasksProcessed, 'Sum', props);
  }
  /** Handler executions that threw (Sum). */
  metricTasksFailed(props?: TaskMetricOptions): cloudwatch.Metric {
    return this.metrics.custom(CUSTOM_METRICS.tasksFailed, 'Sum', props);
  }
  /** Tasks put back for a retry with backoff (Sum). */
  metricTasksRetried(props?: TaskMetricOptions): cloudwatch.Metric {
    return this.metrics.custom(CUSTOM_METRICS.tasksRetried, 'Sum', props);
  }
  /** Tasks the consumer sent to the DLQ (Sum). */
  metricTasksDeadLettered(props?: TaskMetricOptions): cloudwatch.Metric {
    return this.metrics.custom(CUSTOM_METRICS.tasksDeadLettered, 'Sum', props);
  }
  /** Duplicate deliveries acknowledged without running the handler (Sum). */
  metricDuplicatesSkipped(props?: TaskMetricOptions): cloudwatch.Metric {
    return this.metrics.custom(CUSTOM_METRICS.duplicatesSkipped, 'Sum', props);
  }
  /** Handler run time, ms (p99). */
  metricHandlerDuration(props?: TaskMetricOptions): cloudwatch.Metric {
    return this.metrics.custom(CUSTOM_METRICS.handlerDuration, 'p99', props);
  }
  /** Time from the task's createdAt to its completion, ms (p99). */
  metricEndToEndLatency(props?: TaskMetricOptions): cloudwatch.Metric {
    return this.metrics.custom(CUSTOM_METRICS.endToEndLatency, 'p99', props);
  }
  /**
   * Age in seconds (since createdAt, or notBefore) of tasks that went back to the queue
   * unfinished (Maximum): a task that keeps cycling grows old here even when every fresh copy
   * restarts the queue's ApproximateAgeOfOldestMessage.
   */
  metricUnfinishedTaskAge(props?: TaskMetricOptions): cloudwatch.Metric {
    return this.metrics.custom(CUSTOM_METRICS.unfinishedTaskAge, 'Maximum', props);
  }

  private allAlarms(): cloudwatch.IAlarm[] {
    const laneAlarms = Object.values(this.lanes).flatMap((lane) => Object.values(lane.alarms));
    return [...Object.values(this.alarms), ...laneAlarms, ...(this.schedules ? [this.schedules.alarm] : []), ...(this.completionEvents ? [this.completionEvents.alarm] : [])];
  }

  private operatorResources(): permissions.OperatorResources {
    return {
      ...this.resources(),
      stackId: Stack.of(this).stackId,
      alarms: this.allAlarms(),
      ...(this.recentTasksIndex ? { recentTasksIndexName: this.recentTasksIndex } : {}),
      ...(this.schedules ? { schedules: { group: this.schedules.group, role: this.schedules.role, names: Object.keys(this.schedules.schedules) } } : {}),
    };
  }

  private resources(): permissions.TaskQueueResources {
    return {
      queue: this.queue,
      deadLetterQueue: this.deadLetterQueue,
      table: this.table,
      bucket: this.bucket,
      claimPrefix: this.claimPrefix,
      ...(this.encryptionKey ? { encryptionKey: this.encryptionKey } : {}),
      lanes: Object.values(this.lanes).map((lane) => ({ queue: lane.queue, deadLetterQueue: lane.deadLetterQueue })),
      routing: this.routing !== undefined,
    };
  }
}
