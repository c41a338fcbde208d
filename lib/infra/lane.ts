/**
 * One named lane: its source queue and DLQ, its consumer function (the same bundle and entry
 * as the default lane; the environment tells it its lane) with its own event source mapping,
 * alarms and metrics. A lane's own function is what makes `reservedConcurrency` per lane: a
 * reservation belongs to a function, and a flood in one lane cannot take another's.
 *
 * Each lane has its own DLQ rather than a shared one: SQS redrive policies and message-move
 * tasks are per source queue, so a per-lane DLQ redrives back to the right lane, its alarm
 * says which lane is failing, and `taskq dlq … --lane` needs no filtering.
 */
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { lanePascalName } from '../protocol/lanes.ts';
import { createLaneAlarms, type LaneAlarms } from './alarms.ts';
import { createConsumer } from './consumer-function.ts';
import type { ResolvedLane } from './lane-validation.ts';
import { TaskQueueMetrics } from './metrics.ts';
import type { TaskQueueProps } from './props.ts';
import { createQueues } from './queues.ts';

export interface LaneShared {
  readonly props: TaskQueueProps;
  readonly tableName: string;
  readonly bucketName: string;
  /** The stack's routing table as JSON (tokens resolved at deploy time). */
  readonly routingJson: string;
}

export class Lane extends Construct {
  readonly name: string;
  readonly types: readonly string[];
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;
  readonly consumer: nodejs.NodejsFunction;
  readonly consumerRole: iam.Role;
  readonly consumerLogGroup: logs.LogGroup;
  readonly eventSourceMapping: lambda.EventSourceMapping;
  readonly metrics: TaskQueueMetrics;
  readonly config: ResolvedLane['config'];
  private laneAlarms: LaneAlarms | undefined;

  constructor(scope: Construct, lane: ResolvedLane, shared: LaneShared) {
    super(scope, `Lane${lanePascalName(lane.name)}`);
    this.name = lane.name;
    this.types = lane.types;
    this.config = lane.config;
    const { queue, deadLetterQueue } = createQueues(this, lane.config, shared.props.encryptionKey);
    this.queue = queue;
    this.deadLetterQueue = deadLetterQueue;
    const consumer = createConsumer(this, lane.config, shared.props, {
      queue,
      deadLetterQueue,
      tableName: shared.tableName,
      bucketName: shared.bucketName,
      lane: { name: lane.name, routingJson: shared.routingJson },
    });
    this.consumer = consumer.function;
    this.consumerRole = consumer.role;
    this.consumerLogGroup = consumer.logGroup;
    this.eventSourceMapping = consumer.eventSourceMapping;
    this.metrics = new TaskQueueMetrics(queue, deadLetterQueue, consumer.function, lane.config.metricsNamespace);
  }

  /** The lane's alarms (`<prefix>-<lane>-QueueDepth`, …), to the stack's alarm topic. */
  createAlarms(topic: sns.ITopic, alarmNamePrefix: string | undefined): LaneAlarms {
    this.laneAlarms = createLaneAlarms(this, this.config, this.metrics, topic, alarmNamePrefix !== undefined ? `${alarmNamePrefix}-${this.name}` : undefined, this.name);
    return this.laneAlarms;
  }

  get alarms(): LaneAlarms {
    if (!this.laneAlarms) throw new Error(`lane ${this.name}: alarms not created yet`);
    return this.laneAlarms;
  }
}
