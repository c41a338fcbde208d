/**
 * Completion events (TaskQueueProps.completionEvents): the task table's stream (new and old
 * images) → an event source mapping that passes only records whose new image is in a final
 * state → a small function (lib/events/handler.ts) → one EventBridge event per transition
 * into SUCCEEDED, DEAD_LETTERED or CANCELLED.
 *
 * A function rather than EventBridge Pipes: an event needs the old image compared with the new
 * (to publish a transition once, not every rewrite), the duration computed from two
 * timestamps and the record's DynamoDB JSON turned into plain JSON (the result is a JSON
 * string inside it) — none of which a Pipe's input transformer can do (docs/ARCHITECTURE.md).
 *
 * A batch that still fails after the mapping's retries is described (shard, sequence
 * numbers) in an on-failure queue watched by an alarm. The role may read this table's stream,
 * write its own log group, put events on the one bus, and send to that queue — nothing else.
 */
import { CfnOutput, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { createQueueNotEmptyAlarm } from './queue-not-empty-alarm.ts';
import { completionEventsEntry } from '../events/entry-file.ts';
import { COMPLETION_EVENTS_ENV, COMPLETION_EVENTS_OUTPUTS, COMPLETION_EVENT_TYPES, completionEventSourceProblem } from '../protocol/completion-events.ts';
import { COMPLETION_EVENTS_DEFAULTS, type CompletionEventsProps } from './completion-events-props.ts';
import { CONSUMER_BUNDLING } from './consumer-bundling.ts';
import { findProject } from './consumer-function.ts';
import { TaskQueueValidationError, type ResolvedTaskQueueConfig } from './validation.ts';

/** Suffix of the alarm's name (`<prefix>-<suffix>`); docs/OPERATIONS.md has its runbook. */
export const COMPLETION_EVENTS_ALARM_NAME_SUFFIX = 'CompletionEventsFailed';

/** `completionEvents` with defaults applied; a synth-time error names a bad value. */
export function resolveCompletionEvents(props: CompletionEventsProps): { readonly source: string } {
  const source = props.source ?? COMPLETION_EVENTS_DEFAULTS.source;
  const problem = completionEventSourceProblem(source);
  if (problem) throw new TaskQueueValidationError('completionEvents.source', source, problem);
  return { source };
}

export interface TaskCompletionEventsOptions {
  readonly table: dynamodb.ITable;
  readonly encryptionKey: kms.IKey | undefined;
  readonly config: ResolvedTaskQueueConfig;
  readonly logRetention: logs.RetentionDays;
  readonly tracing: lambda.Tracing;
  readonly alarmTopic: sns.ITopic;
  readonly alarmNamePrefix: string | undefined;
  /** Add the stack output naming the failure queue (the TaskQueue's `outputs`). */
  readonly outputs: boolean;
}

export class TaskCompletionEvents extends Construct {
  /** The bus the events are put on. */
  readonly eventBus: events.IEventBus;
  /** The events' source. */
  readonly source: string;
  readonly function: nodejs.NodejsFunction;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;
  /** The stream → function mapping. */
  readonly eventSourceMapping: lambda.EventSourceMapping;
  /** Descriptions of batches whose events could not be published after every retry. */
  readonly failureQueue: sqs.Queue;
  /** Pages when a batch landed in the failure queue. */
  readonly alarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: CompletionEventsProps, options: TaskCompletionEventsOptions) {
    super(scope, id);
    const { config, encryptionKey, table } = options;
    this.source = resolveCompletionEvents(props).source;
    this.eventBus = props.eventBus ?? events.EventBus.fromEventBusName(this, 'DefaultBus', 'default');
    const streamArn = table.tableStreamArn;
    if (streamArn === undefined) throw new Error('completion events need the task table\'s stream');

    this.failureQueue = new sqs.Queue(this, 'FailureQueue', {
      ...(encryptionKey ? { encryption: sqs.QueueEncryption.KMS, encryptionMasterKey: encryptionKey } : { encryption: sqs.QueueEncryption.SQS_MANAGED }),
      enforceSSL: true,
      retentionPeriod: COMPLETION_EVENTS_DEFAULTS.failureRetentionPeriod,
      removalPolicy: config.removalPolicy,
    });

    this.logGroup = new logs.LogGroup(this, 'Logs', { retention: options.logRetention, removalPolicy: config.removalPolicy });
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'Task queue completion events: reads the task table stream, puts events on one bus',
    });
    this.logGroup.grantWrite(this.role);
    // The event source mapping reads the stream with the function's role (Lambda's documented
    // execution-role permissions for DynamoDB streams); ListStreams takes no resource.
    iam.Grant.addToPrincipal({ grantee: this.role, actions: ['dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator'], resourceArns: [streamArn] });
    iam.Grant.addToPrincipal({ grantee: this.role, actions: ['dynamodb:ListStreams'], resourceArns: ['*'] });
    iam.Grant.addToPrincipal({ grantee: this.role, actions: ['events:PutEvents'], resourceArns: [this.eventBus.eventBusArn] });
    // The mapping's on-failure destination is written with the function's role too.
    iam.Grant.addToPrincipal({ grantee: this.role, actions: ['sqs:SendMessage'], resourceArns: [this.failureQueue.queueArn] });
    encryptionKey?.grant(this.role, 'kms:Decrypt', 'kms:GenerateDataKey');

    const entry = completionEventsEntry();
    const project = findProject(entry);
    if (!project) throw new Error(`no lockfile above ${entry}: esbuild cannot bundle the completion-events function`);
    this.function = new nodejs.NodejsFunction(this, 'Function', {
      entry,
      ...project,
      handler: 'handler',
      runtime: config.runtime,
      architecture: lambda.Architecture.ARM_64,
      memorySize: COMPLETION_EVENTS_DEFAULTS.memorySize,
      timeout: COMPLETION_EVENTS_DEFAULTS.timeout,
      role: this.role,
      logGroup: this.logGroup,
      tracing: options.tracing,
      environment: {
        // An ARN works for a bus of this account and of another.
        [COMPLETION_EVENTS_ENV.eventBus]: this.eventBus.eventBusArn,
        [COMPLETION_EVENTS_ENV.source]: this.source,
      },
      description: 'Task queue completion events (task table stream → EventBridge)',
      bundling: {
        forceDockerBundling: false,
        minify: CONSUMER_BUNDLING.minify,
        sourcesContent: CONSUMER_BUNDLING.sourcesContent,
        format: nodejs.OutputFormat.ESM,
        mainFields: [...CONSUMER_BUNDLING.mainFields],
        banner: CONSUMER_BUNDLING.banner,
        // Its EventBridge and DynamoDB (types only) clients are bundled, pinned to the tested version;
        // only the credential providers Lambda never reaches stay out (consumer-bundling.ts).
        externalModules: CONSUMER_BUNDLING.externalModules.filter((m) => !m.startsWith('@aws-sdk/client-')),
      },
    });

    const finalStatuses = Object.keys(COMPLETION_EVENT_TYPES);
    this.eventSourceMapping = new lambda.EventSourceMapping(this, 'StreamSource', {
      target: this.function,
      eventSourceArn: streamArn,
      startingPosition: lambda.StartingPosition.TRIM_HORIZON,
      batchSize: COMPLETION_EVENTS_DEFAULTS.batchSize,
      bisectBatchOnError: true,
      retryAttempts: COMPLETION_EVENTS_DEFAULTS.retryAttempts,
      reportBatchItemFailures: true,
      // Only final states reach the function: leases and retries (most writes) cost no invocation.
      filters: [lambda.FilterCriteria.filter({ dynamodb: { NewImage: { status: { S: lambda.FilterRule.or(...finalStatuses) } } } })],
      onFailure: { bind: () => ({ destination: this.failureQueue.queueArn }) },
    });
    // CreateEventSourceMapping checks the role can read the stream: create it after the policy.
    this.eventSourceMapping.node.addDependency(this.role);

    this.alarm = createQueueNotEmptyAlarm(this, 'FailedAlarm', {
      queue: this.failureQueue,
      alarmTopic: options.alarmTopic,
      alarmNamePrefix: options.alarmNamePrefix,
      nameSuffix: COMPLETION_EVENTS_ALARM_NAME_SUFFIX,
      description: `Completion events of a batch of task records could not be published after every retry; the batch is described in the completion-events failure queue. Runbook: docs/OPERATIONS.md, "${COMPLETION_EVENTS_ALARM_NAME_SUFFIX}".`,
    });

    if (options.outputs) {
      new CfnOutput(scope, `Output${COMPLETION_EVENTS_OUTPUTS.failureQueueUrl}`, { value: this.failureQueue.queueUrl }).overrideLogicalId(COMPLETION_EVENTS_OUTPUTS.failureQueueUrl);
    }
    this.acknowledgeNagFindings(options);
  }

  private acknowledgeNagFindings(options: TaskCompletionEventsOptions): void {
    Validations.of(this.failureQueue).acknowledge(
      { id: 'Serverless-SQSRedrivePolicy', reason: 'This queue is the on-failure destination of the completion-events stream mapping; it has no DLQ of its own by design.' },
      { id: 'AwsSolutions-SQS3', reason: 'This queue is a dead-letter queue: the stream mapping\'s DestinationConfig.OnFailure, not an SQS redrive policy, points at it, which the rule cannot see.' },
    );
    Validations.of(this.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'Resource "*" is only dynamodb:ListStreams, which the stream event source mapping uses and which supports no resource-level permissions (the stream itself is read by its ARN)' +
        (options.tracing === lambda.Tracing.DISABLED ? '.' : ', and xray:PutTraceSegments/PutTelemetryRecords for active tracing, which support none either.'),
    });
    Validations.of(this.function).acknowledge({
      id: 'Serverless-LambdaDLQ',
      reason: 'The function is invoked synchronously by the stream event source mapping; its failed batches go to the mapping\'s on-failure queue (a Lambda DLQ only applies to asynchronous invocations).',
    });
    if (options.tracing === lambda.Tracing.DISABLED) {
      Validations.of(this.function).acknowledge({ id: 'Serverless-LambdaTracing', reason: 'X-Ray tracing follows the tracing prop, as for the consumer: off unless turned on.' });
    }
    const runtime = options.config.runtime;
    if (!runtime.runtimeEquals(lambda.Runtime.NODEJS_24_X)) {
      const reason = `${runtime.name} is the task queue's runtime (the runtime prop), chosen to match the Node.js versions the project is tested on.`;
      Validations.of(this.function).acknowledge({ id: 'AwsSolutions-L1', reason }, { id: 'Serverless-LambdaLatestVersion', reason });
    }
  }
}
