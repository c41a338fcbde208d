/**
 * The consumer Lambda: a NodejsFunction bundled locally by esbuild (never Docker), its own
 * role (no managed policies: log writes are granted on its log group only), its log group
 * with a retention, and the SQS event source mapping with ReportBatchItemFailures.
 */
import { fileURLToPath } from 'node:url';
import type { RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { ENV } from '../protocol/resources.ts';
import { CONSUMER_BUNDLING } from './consumer-bundling.ts';
import { TASK_QUEUE_DEFAULTS, type TaskQueueProps } from './props.ts';
import type { ResolvedTaskQueueConfig } from './validation.ts';

/** functions/consumer.ts of this project. */
export const DEFAULT_CONSUMER_ENTRY = fileURLToPath(new URL('../../functions/consumer.ts', import.meta.url));


export interface ConsumerParts {
  readonly function: nodejs.NodejsFunction;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;
  readonly eventSourceMapping: lambda.EventSourceMapping;
}

export interface ConsumerEnvironmentValues {
  readonly queue: sqs.IQueue;
  readonly deadLetterQueue: sqs.IQueue;
  readonly tableName: string;
  readonly bucketName: string;
}

export function createConsumer(
  scope: Construct,
  config: ResolvedTaskQueueConfig,
  props: TaskQueueProps,
  resources: ConsumerEnvironmentValues,
): ConsumerParts {
  const removalPolicy: RemovalPolicy = config.removalPolicy;
  const logGroup = new logs.LogGroup(scope, 'ConsumerLogs', {
    retention: props.logRetention ?? TASK_QUEUE_DEFAULTS.logRetention,
    removalPolicy,
  });

  const role = new iam.Role(scope, 'ConsumerRole', {
    assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    description: 'Task queue consumer: consumes the source queue, dead-letters, writes the task table, reads claim objects',
  });
  // Instead of AWSLambdaBasicExecutionRole (logs:CreateLogGroup and writes to any group).
  logGroup.grantWrite(role);

  const sourceMap = props.sourceMap ?? TASK_QUEUE_DEFAULTS.sourceMap;
  const environment: Record<string, string> = {
    ...config.consumerEnvironment,
    ...(sourceMap ? { NODE_OPTIONS: '--enable-source-maps' } : {}),
    [ENV.queueUrl]: resources.queue.queueUrl,
    [ENV.deadLetterQueueUrl]: resources.deadLetterQueue.queueUrl,
    [ENV.tableName]: resources.tableName,
    [ENV.bucketName]: resources.bucketName,
    [ENV.claimPrefix]: config.claimPrefix,
    [ENV.metricsNamespace]: config.metricsNamespace,
    [ENV.fifo]: String(config.fifo),
    [ENV.recordTtlSeconds]: String(config.recordTtlSeconds),
    [ENV.visibilityTimeoutSeconds]: String(config.visibilityTimeout.toSeconds()),
    [ENV.maxReceiveCount]: String(config.maxReceiveCount),
  };

  const fn = new nodejs.NodejsFunction(scope, 'Consumer', {
    entry: props.consumerEntry ?? DEFAULT_CONSUMER_ENTRY,
    handler: config.consumerHandler,
    runtime: config.runtime,
    architecture: lambda.Architecture.ARM_64,
    memorySize: config.memorySize,
    timeout: config.timeout,
    role,
    logGroup,
    tracing: props.tracing ?? TASK_QUEUE_DEFAULTS.tracing,
    ...(config.reservedConcurrentExecutions !== undefined
      ? { reservedConcurrentExecutions: config.reservedConcurrentExecutions }
      : {}),
    environment,
    description: 'Task queue consumer (SQS event source, partial batch responses)',
    bundling: {
      forceDockerBundling: false,
      sourceMap,
      // consumer-bundling.ts: the hot path's SDK (DynamoDB) bundled and pinned; the SQS/S3
      // clients and the unused credential providers, import()ed only on rare paths, come
      // from the Lambda runtime's AWS SDK v3.
      minify: CONSUMER_BUNDLING.minify,
      sourcesContent: CONSUMER_BUNDLING.sourcesContent,
      format: CONSUMER_BUNDLING.format === 'esm' ? nodejs.OutputFormat.ESM : nodejs.OutputFormat.CJS,
      mainFields: [...CONSUMER_BUNDLING.mainFields],
      banner: CONSUMER_BUNDLING.banner,
      externalModules: [...CONSUMER_BUNDLING.externalModules],
    },
  });

  const eventSourceMapping = new lambda.EventSourceMapping(scope, 'ConsumerEventSource', {
    target: fn,
    eventSourceArn: resources.queue.queueArn,
    batchSize: config.batchSize,
    ...(config.maxBatchingWindow !== undefined && config.maxBatchingWindow.toSeconds() > 0
      ? { maxBatchingWindow: config.maxBatchingWindow }
      : {}),
    ...(config.maxConcurrency !== undefined ? { maxConcurrency: config.maxConcurrency } : {}),
    // Without it, returned batchItemFailures are ignored and a partial failure acks the batch.
    reportBatchItemFailures: true,
    enabled: true,
  });
  // CreateEventSourceMapping checks the role can read the queue: create it after the policy.
  eventSourceMapping.node.addDependency(role);

  return { function: fn, role, logGroup, eventSourceMapping };
}
