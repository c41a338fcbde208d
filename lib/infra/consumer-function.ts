/**
 * The consumer Lambda: a NodejsFunction bundled locally by esbuild (never Docker), its own
 * role (no managed policies: log writes are granted on its log group only), its log group
 * with a retention, and the SQS event source mapping with ReportBatchItemFailures.
 */
import { existsSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import type { RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { LANE_ENV } from '../protocol/lanes.ts';
import { ENV } from '../protocol/resources.ts';
import { CONSUMER_BUNDLING } from './consumer-bundling.ts';
import { TASK_QUEUE_DEFAULTS, type TaskQueueProps } from './props.ts';
import { TaskQueueValidationError, type ResolvedTaskQueueConfig } from './validation.ts';

/** consumerEntry when none is given: relative to the directory `cdk` runs in (this repository's layout). */
export const DEFAULT_CONSUMER_ENTRY = 'functions/consumer.ts';

/** Lockfiles esbuild bundling can take the project root from (NodejsFunction's depsLockFilePath). */
const LOCK_FILES = ['package-lock.json', 'yarn.lock', 'pnpm-lock.yaml', 'bun.lockb', 'bun.lock'];
const ENTRY_EXTENSION = /\.(?:[cm]?ts|[cm]?js|tsx|jsx)$/;

export interface ConsumerEntry {
  /** Absolute path of the entry file. */
  readonly entry: string;
  /** The directory of the entry's nearest lockfile: esbuild resolves the handler's imports from there. */
  readonly projectRoot: string;
  readonly depsLockFilePath: string;
}

/**
 * Resolves `consumerEntry` (relative paths against `cwd`, where `cdk` runs) and the project
 * it belongs to: the nearest lockfile above the entry names the project root, so bundling
 * works whether the construct comes from this repository or from node_modules. Anything
 * that would make bundling fail later, obscurely, is a synth-time error naming the prop.
 */
export function resolveConsumerEntry(consumerEntry: string | undefined, cwd: string = process.cwd()): ConsumerEntry {
  const given = consumerEntry ?? DEFAULT_CONSUMER_ENTRY;
  const absolute = path.resolve(cwd, given);
  const what = consumerEntry === undefined ? `the default ${DEFAULT_CONSUMER_ENTRY}` : JSON.stringify(given);
  if (!existsSync(absolute)) {
    throw new TaskQueueValidationError(
      'consumerEntry',
      given,
      `no file at ${absolute} (${what}, relative to ${cwd}, where cdk runs). Point consumerEntry at your handler file, ` +
        `the one that does \`export const handler = defineTasks({ … })\` with defineTasks from 'taskq/runtime'`,
    );
  }
  if (!statSync(absolute).isFile() || !ENTRY_EXTENSION.test(absolute)) {
    throw new TaskQueueValidationError('consumerEntry', given, 'must be a TypeScript or JavaScript file (.ts, .mts, .js, .mjs, …) that exports the handler');
  }
  const entry = realpathSync(absolute);
  const project = findProject(entry);
  if (project) return { entry, ...project };
  throw new TaskQueueValidationError(
    'consumerEntry',
    given,
    `no lockfile (${LOCK_FILES.join(', ')}) in ${path.dirname(entry)} or a folder above it: esbuild bundles the handler with your project's dependencies — run npm install in the project first`,
  );
}

/** The nearest folder above `file` with a lockfile: esbuild bundles from there. */
export function findProject(file: string): { readonly projectRoot: string; readonly depsLockFilePath: string } | undefined {
  for (let dir = path.dirname(file); ; dir = path.dirname(dir)) {
    const lockFile = LOCK_FILES.map((name) => path.join(dir, name)).find((candidate) => existsSync(candidate));
    if (lockFile) return { projectRoot: dir, depsLockFilePath: lockFile };
    if (path.dirname(dir) === dir) return undefined;
  }
}

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
  /** With lanes: the lane this consumer runs and the stack's routing table (JSON), to forward misrouted tasks. */
  readonly lane?: { readonly name: string; readonly routingJson: string };
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
    ...(resources.lane ? { [LANE_ENV.lane]: resources.lane.name, [LANE_ENV.routing]: resources.lane.routingJson } : {}),
  };

  const { entry, projectRoot, depsLockFilePath } = resolveConsumerEntry(props.consumerEntry);
  const fn = new nodejs.NodejsFunction(scope, 'Consumer', {
    entry,
    projectRoot,
    depsLockFilePath,
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
