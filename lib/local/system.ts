/**
 * The whole system on the laptop: emulators, the resources of the synthesized template,
 * the real consumer behind a local event-source poller, metrics and the template's alarms
 * evaluated locally, and the state file the CLI and producers read. `taskq local` (lib/local/run-local.ts)
 * is a thin shell around startLocalSystem().
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { completionEventsEntry } from '../events/entry-file.ts';
import { LocalEventBus, type RecordedEvent } from './local-event-bus.ts';
import { StreamPoller, type LambdaStreamHandler } from './stream-poller.ts';
import { EventSourcePoller, type InvocationResult, type LambdaSqsHandler } from './event-source-poller.ts';
import { LOCAL_CREDENTIALS, startEmulators, type DynamoEngine, type Emulators } from './emulators.ts';
import { LocalAlarms, type AlarmState, type AlarmStatus } from './local-alarms.ts';
import { LocalMetrics, type MetricsSnapshot } from './metrics.ts';
import { LocalScheduler } from './local-scheduler.ts';
import { provision, type LocalMapping, type LocalQueue, type ProvisionedSystem } from './provision.ts';
import { LOCAL_EVENTS_KEPT, localStatePath, removeLocalState, writeLocalState, type LocalState } from './state.ts';
import { synthesizeApp, type ConsumerBundle } from './app-synth.ts';
import { readTemplate, type CfnTemplate } from './template.ts';
import { DEFAULT_LANE, LANE_ENV } from '../protocol/lanes.ts';

/** With an explicit `template` and no `consumerModule`: this repository's consumer, from source. */
export const DEFAULT_CONSUMER_MODULE = 'functions/consumer.ts';

export interface LocalSystemOptions {
  /** fauxqs (SQS + S3) port; 0 for a free one. @default 4566 */
  readonly sqsPort?: number;
  /** DynamoDB port; 0 for a free one. @default 8000 */
  readonly dynamoPort?: number;
  readonly dynamo?: DynamoEngine | 'auto';
  /** @default 'us-east-1' */
  readonly region?: string;
  /** State file. @default localStatePath() ($TASKQ_LOCAL_STATE or .taskq-local/state.json) */
  readonly statePath?: string;
  /** The CDK app's folder: its cdk.json "app" command is synthesized. @default process.cwd() */
  readonly cwd?: string;
  /** The stack with the task queue, when the app has several; with `template`, its name. @default the one stack with an SQS event source mapping */
  readonly stackName?: string;
  /** Context over cdk.json's when synthesizing (e.g. `taskq:batchSize`), as `cdk synth -c`. */
  readonly context?: Record<string, unknown>;
  /** A template to use instead of synthesizing the app (tests). */
  readonly template?: CfnTemplate;
  /**
   * Module exporting the consumer handler, run from source (tests).
   * @default the esbuild bundle the synthesized app built for the function; with `template`, functions/consumer.ts of the working directory
   */
  readonly consumerModule?: string;
  /** Export of the handler. @default 'handler' */
  readonly consumerExport?: string;
  /** Alarm periods: P seconds last P / periodScale seconds locally. @default 60 */
  readonly periodScale?: number;
  /** How the system reports what happens (alarm changes, failed batches, errors). */
  readonly onEvent?: (event: LocalSystemEvent) => void;
  /** Progress while starting. */
  readonly onProgress?: (message: string) => void;
  /** The clock the schedules fire by (tests move it). @default () => new Date() */
  readonly scheduleClock?: () => Date;
  /**
   * Module exporting the completion-events handler, run from source (tests).
   * @default the esbuild bundle the synthesized app built for that function; with `template`, this package's lib/events/handler
   */
  readonly completionEventsModule?: string;
}

export type LocalSystemEvent =
  | { readonly kind: 'alarm'; readonly status: AlarmStatus; readonly previous: AlarmState }
  | { readonly kind: 'invocation'; readonly result: InvocationResult }
  | { readonly kind: 'schedule'; readonly name: string; readonly scheduledTime: string; readonly delivered: boolean }
  | { readonly kind: 'completion-event'; readonly event: RecordedEvent }
  | { readonly kind: 'error'; readonly message: string; readonly error?: unknown };

export interface ConnectionInfo {
  readonly region: string;
  readonly sqsEndpoint: string;
  readonly s3Endpoint: string;
  readonly dynamoEndpoint: string;
  readonly queueUrl: string;
  readonly deadLetterQueueUrl: string | undefined;
  readonly tableName: string | undefined;
  readonly bucketName: string | undefined;
  /** Environment variables a producer process can export to reach the local system. */
  readonly environment: Readonly<Record<string, string>>;
}

export interface LocalSystem {
  readonly emulators: Emulators;
  readonly provisioned: ProvisionedSystem;
  readonly mapping: LocalMapping;
  readonly sourceQueue: LocalQueue;
  readonly deadLetterQueue: LocalQueue | undefined;
  readonly poller: EventSourcePoller | undefined;
  /** The other lanes' event source mappings (lanes on the TaskQueue), each with its own poller. */
  readonly lanePollers: readonly { readonly mapping: LocalMapping; readonly poller: EventSourcePoller }[];
  readonly metrics: LocalMetrics;
  readonly alarms: LocalAlarms;
  /** Fires the template's Scheduler schedules; undefined when it has none. */
  readonly scheduler: LocalScheduler | undefined;
  /** Receives the completion events (PutEvents) when the template has a table-stream mapping; else undefined. */
  readonly eventBus: LocalEventBus | undefined;
  /** One per table-stream mapping of the template (completion events). */
  readonly streamPollers: readonly StreamPoller[];
  readonly connection: ConnectionInfo;
  readonly statePath: string;
  /** The file whose handler the poller invokes. */
  readonly consumerModule: string;
  readonly clients: { sqs: SQSClient; dynamo: DynamoDBClient; s3: S3Client; streams?: DynamoDBStreamsClient };
  snapshot(): { metrics: MetricsSnapshot; alarms: readonly AlarmStatus[] };
  /** Drains the poller, stops the emulators and removes the state file. Idempotent. */
  stop(): Promise<void>;
}

export async function startLocalSystem(options: LocalSystemOptions = {}): Promise<LocalSystem> {
  const region = options.region ?? 'us-east-1';
  const progress = options.onProgress ?? (() => {});
  const emit = options.onEvent ?? (() => {});
  const statePath = options.statePath ?? localStatePath();

  progress('starting emulators and synthesizing the CDK app');
  const synthesizing = options.template
    ? Promise.resolve({ template: options.template, stackName: options.stackName ?? 'TaskQueueStack', consumerBundle: undefined })
    : synthesizeApp({
        ...(options.cwd ? { cwd: options.cwd } : {}),
        ...(options.stackName ? { stackName: options.stackName } : {}),
        ...(options.context ? { context: options.context } : {}),
      });
  // Both start at once; if the synth fails, the emulators that did start are stopped again.
  const [emulatorsResult, synthesizedResult] = await Promise.allSettled([
    startEmulators({ sqsPort: options.sqsPort ?? 4566, dynamoPort: options.dynamoPort ?? 8000, dynamo: options.dynamo ?? 'auto', region }),
    synthesizing,
  ]);
  if (emulatorsResult.status === 'rejected' || synthesizedResult.status === 'rejected') {
    if (emulatorsResult.status === 'fulfilled') await emulatorsResult.value.stop();
    throw emulatorsResult.status === 'rejected' ? emulatorsResult.reason : (synthesizedResult as PromiseRejectedResult).reason;
  }
  const emulators = emulatorsResult.value;
  const synthesized: { template: CfnTemplate; stackName: string; consumerBundle: ((logicalId: string) => ConsumerBundle) | undefined } =
    synthesizedResult.value;
  const common = { region, credentials: LOCAL_CREDENTIALS };
  const clients: LocalSystem['clients'] = {
    sqs: new SQSClient({ ...common, endpoint: emulators.sqsEndpoint }),
    dynamo: new DynamoDBClient({ ...common, endpoint: emulators.dynamoEndpoint }),
    s3: new S3Client({ ...common, endpoint: emulators.s3Endpoint, forcePathStyle: true }),
  };
  const cleanUp = async () => {
    clients.sqs.destroy();
    clients.dynamo.destroy();
    clients.s3.destroy();
    clients.streams?.destroy();
    await emulators.stop();
  };

  try {
    progress('creating the template’s resources');
    const model = readTemplate(synthesized.template, synthesized.stackName);
    const provisioned = await provision(model, clients, region);
    for (const warning of provisioned.warnings) emit({ kind: 'error', message: warning });

    if (provisioned.mappings.length === 0) throw new Error('the template has no SQS event source mapping: nothing to run');
    // Every mapping runs (one per lane); the default lane's is the one the panel follows. Each
    // lane's queues and function are observed too, so its alarms are evaluated like the default's.
    const mapping = provisioned.mappings.find((m) => !m.function.environment[LANE_ENV.lane] || m.function.environment[LANE_ENV.lane] === DEFAULT_LANE) ?? provisioned.mappings[0]!;
    const otherMappings = provisioned.mappings.filter((m) => m !== mapping);
    const sourceQueue = mapping.queue;
    const deadLetterQueue = deadLetterOf(sourceQueue, provisioned.queues);
    const fn = mapping.function;

    const connection: ConnectionInfo = {
      region,
      sqsEndpoint: emulators.sqsEndpoint,
      s3Endpoint: emulators.s3Endpoint,
      dynamoEndpoint: emulators.dynamoEndpoint,
      queueUrl: sourceQueue.url,
      deadLetterQueueUrl: deadLetterQueue?.url,
      tableName: provisioned.tables[0]?.name,
      bucketName: provisioned.buckets[0]?.name,
      environment: {
        AWS_REGION: region,
        AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
        AWS_ENDPOINT_URL_SQS: emulators.sqsEndpoint,
        AWS_ENDPOINT_URL_S3: emulators.s3Endpoint,
        AWS_ENDPOINT_URL_DYNAMODB: emulators.dynamoEndpoint,
      },
    };

    // The consumer reads its configuration from the environment at init, as in Lambda:
    // set the function's variables (local values) and the SDK's endpoints before importing it.
    Object.assign(process.env, connection.environment, fn.environment, {
      AWS_DEFAULT_REGION: region,
      AWS_LAMBDA_FUNCTION_NAME: fn.name,
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.memoryMB),
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
      AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${fn.name}`,
    });
    progress('loading the consumer');
    // The bundle esbuild built for the function: what deploys, built as it deploys.
    const bundle = options.consumerModule === undefined ? synthesized.consumerBundle?.(fn.logicalId) : undefined;
    const consumerModule = bundle?.file ?? resolve(options.consumerModule ?? DEFAULT_CONSUMER_MODULE);
    const handler = await loadHandler(consumerModule, bundle?.exportName ?? options.consumerExport ?? 'handler');
    // The other lanes' functions: the same code, each module instance initialized with its own
    // function's environment (its lane, its queue), as each Lambda function is.
    const laneHandlers: LambdaSqsHandler[] = [];
    for (const other of otherMappings) {
      const laneFn = other.function;
      const laneBundle = options.consumerModule === undefined ? synthesized.consumerBundle?.(laneFn.logicalId) : undefined;
      const laneModule = laneBundle?.file ?? consumerModule;
      const saved = { ...process.env };
      Object.assign(process.env, laneFn.environment, { AWS_LAMBDA_FUNCTION_NAME: laneFn.name, AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(laneFn.memoryMB) });
      try {
        laneHandlers.push(await loadHandler(laneModule, laneBundle?.exportName ?? options.consumerExport ?? 'handler', laneFn.logicalId));
      } finally {
        process.env = saved;
      }
    }

    const metrics = new LocalMetrics({
      sqs: clients.sqs,
      source: sourceQueue,
      ...(deadLetterQueue ? { deadLetter: deadLetterQueue } : {}),
      otherQueues: [
        ...new Set([
          ...provisioned.schedules.flatMap((s) => (s.deadLetterQueue ? [s.deadLetterQueue] : [])),
          ...provisioned.streamMappings.flatMap((m) => (m.onFailureQueue ? [m.onFailureQueue] : [])),
        ]),
      ],
      functionName: fn.name,
      oldestMessageSentAt: (name) => emulators.oldestMessageSentAt(name),
      onError: (error) => emit({ kind: 'error', message: `metrics: ${describe(error)}`, error }),
    });

    let state: LocalState = {
      pid: process.pid,
      startedAt: new Date().toISOString(),
      region,
      sqsEndpoint: emulators.sqsEndpoint,
      s3Endpoint: emulators.s3Endpoint,
      dynamoEndpoint: emulators.dynamoEndpoint,
      dynamoEngine: emulators.dynamoEngine,
      stackName: provisioned.stackName,
      outputs: provisioned.outputs,
    };
    let stateWrites = Promise.resolve();
    let stopped = false;
    const saveState = () => {
      stateWrites = stateWrites.then(async () => {
        if (!stopped) await writeLocalState(state, statePath).catch((error: unknown) => emit({ kind: 'error', message: `state file: ${describe(error)}` }));
      });
      return stateWrites;
    };

    const alarms = new LocalAlarms(provisioned.alarms, metrics.store, {
      periodScale: options.periodScale ?? 60,
      onChange: (status, previous) => emit({ kind: 'alarm', status, previous }),
    });
    const publishAlarms = (statuses: readonly AlarmStatus[]) => {
      state = {
        ...state,
        alarms: statuses.map((a) => ({ name: a.name, state: a.state, reason: a.reason, updatedAt: new Date(a.since).toISOString() })),
      };
    };

    const maximumConcurrency = Math.min(
      mapping.maximumConcurrency ?? Number.POSITIVE_INFINITY,
      fn.reservedConcurrency ?? Number.POSITIVE_INFINITY,
    );
    const poller = mapping.enabled
      ? new EventSourcePoller({
          sqs: clients.sqs,
          queueUrl: sourceQueue.url,
          queueArn: sourceQueue.arn,
          region,
          handler,
          function: { name: fn.name, timeoutSeconds: fn.timeoutSeconds, memoryMB: fn.memoryMB },
          batchSize: mapping.batchSize,
          maximumBatchingWindowInSeconds: mapping.maximumBatchingWindowInSeconds,
          ...(Number.isFinite(maximumConcurrency) ? { maximumConcurrency } : {}),
          reportBatchItemFailures: mapping.reportBatchItemFailures,
          onInvocationStart: () => metrics.invocationStarted(),
          onInvocation: (result) => {
            metrics.invocationSettled(result);
            emit({ kind: 'invocation', result });
          },
          onError: (error, during) => emit({ kind: 'error', message: `poller ${during}: ${describe(error)}`, error }),
        })
      : undefined;
    if (!poller) emit({ kind: 'error', message: `event source mapping ${mapping.logicalId} is disabled in the template: nothing consumes the queue` });
    // One LocalMetrics per lane, all recording into the store the alarms read.
    const laneMetrics = otherMappings.map((other) => {
      const laneDeadLetter = deadLetterOf(other.queue, provisioned.queues);
      return new LocalMetrics({
        sqs: clients.sqs,
        store: metrics.store,
        source: other.queue,
        ...(laneDeadLetter ? { deadLetter: laneDeadLetter } : {}),
        functionName: other.function.name,
        oldestMessageSentAt: (name) => emulators.oldestMessageSentAt(name),
        onError: (error) => emit({ kind: 'error', message: `metrics ${other.logicalId}: ${describe(error)}`, error }),
      });
    });
    const lanes = otherMappings.flatMap((other, i) => {
      if (!other.enabled) {
        emit({ kind: 'error', message: `event source mapping ${other.logicalId} is disabled in the template: nothing consumes ${other.queue.name}` });
        return [];
      }
      return [{ mapping: other, poller: createPoller(clients.sqs, region, other, laneHandlers[i]!, emit, laneMetrics[i]!) }];
    });
    const lanePollers = lanes.map((lane) => lane.poller);

    const scheduler =
      provisioned.schedules.length > 0
        ? new LocalScheduler({
            sqs: clients.sqs,
            schedules: provisioned.schedules,
            statePath,
            ...(options.scheduleClock ? { now: options.scheduleClock } : {}),
            onFire: (fired) => emit({ kind: 'schedule', ...fired }),
            onChange: (statuses) => {
              state = { ...state, schedules: statuses };
              void saveState();
            },
            onError: (error) => emit({ kind: 'error', message: `scheduler: ${describe(error)}`, error }),
          })
        : undefined;
    if (scheduler) state = { ...state, schedules: scheduler.statuses };

    // Completion events: the table's stream → the template's function → the local event bus.
    const enabledStreams = provisioned.streamMappings.filter((m) => m.enabled);
    const eventBus =
      enabledStreams.length > 0
        ? new LocalEventBus({
            onEvents: (events) => {
              state = { ...state, events: [...(state.events ?? []), ...events].slice(-LOCAL_EVENTS_KEPT) };
              void saveState();
              for (const event of events) emit({ kind: 'completion-event', event });
            },
          })
        : undefined;
    const streamPollers: StreamPoller[] = [];
    if (eventBus) {
      // The function's EventBridge client puts its events here (no EventBridge emulator).
      process.env.AWS_ENDPOINT_URL_EVENTBRIDGE = await eventBus.start();
      clients.streams = new DynamoDBStreamsClient({ ...common, endpoint: emulators.dynamoEndpoint });
      for (const streamMapping of enabledStreams) {
        const streamFn = streamMapping.function;
        const streamBundle = options.completionEventsModule === undefined && !options.template ? synthesized.consumerBundle?.(streamFn.logicalId) : undefined;
        const saved = { ...process.env };
        Object.assign(process.env, streamFn.environment, { AWS_LAMBDA_FUNCTION_NAME: streamFn.name, AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(streamFn.memoryMB) });
        let streamHandler: LambdaStreamHandler;
        try {
          streamHandler = (await loadHandler(streamBundle?.file ?? options.completionEventsModule ?? completionEventsEntry(), streamBundle?.exportName ?? 'handler', streamFn.logicalId)) as unknown as LambdaStreamHandler;
        } finally {
          process.env = saved;
        }
        const failureQueue = streamMapping.onFailureQueue;
        streamPollers.push(
          new StreamPoller({
            streams: clients.streams,
            streamArn: streamMapping.streamArn,
            handler: streamHandler,
            functionArn: streamFn.arn,
            batchSize: streamMapping.batchSize,
            startingPosition: streamMapping.startingPosition,
            maximumRetryAttempts: streamMapping.maximumRetryAttempts,
            onFailure: async (failure) => {
              emit({ kind: 'error', message: `${streamMapping.logicalId}: a batch of ${failure.DDBStreamBatchInfo.batchSize} stream records was abandoned after its retries` });
              if (failureQueue) await clients.sqs.send(new SendMessageCommand({ QueueUrl: failureQueue.url, MessageBody: JSON.stringify(failure) }));
            },
            onError: (error) => emit({ kind: 'error', message: `stream ${streamMapping.logicalId}: ${describe(error)}`, error }),
          }),
        );
      }
    }

    for (const m of [metrics, ...laneMetrics]) m.start();
    await Promise.all([metrics, ...laneMetrics].map((m) => m.sample()));
    publishAlarms(alarms.evaluate());
    await saveState();
    const alarmTimer = setInterval(() => {
      const before = JSON.stringify(state.alarms?.map((a) => a.state));
      publishAlarms(alarms.evaluate());
      // The poller's totals, for `taskq console`'s throughput and failure charts.
      const { deleted, returned } = metrics.snapshot();
      const countersChanged = deleted !== state.counters?.deleted || returned !== state.counters?.returned;
      if (countersChanged) state = { ...state, counters: { deleted, returned, at: new Date().toISOString() } };
      if (countersChanged || JSON.stringify(state.alarms?.map((a) => a.state)) !== before) void saveState();
    }, 1000);
    poller?.start();
    for (const lanePoller of lanePollers) lanePoller.start();
    scheduler?.start();
    for (const streamPoller of streamPollers) streamPoller.start();

    let stopping: Promise<void> | undefined;
    return {
      emulators,
      provisioned,
      mapping,
      sourceQueue,
      deadLetterQueue,
      poller,
      lanePollers: lanes,
      metrics,
      alarms,
      scheduler,
      eventBus,
      streamPollers,
      connection,
      statePath,
      consumerModule,
      clients,
      snapshot: () => ({ metrics: metrics.snapshot(poller?.stats.inFlight ?? 0), alarms: alarms.statuses }),
      stop() {
        stopping ??= (async () => {
          clearInterval(alarmTimer);
          await scheduler?.stop();
          await Promise.all(streamPollers.map((p) => p.stop()));
          await eventBus?.stop();
          await Promise.all([poller?.stop(), ...lanePollers.map((p) => p.stop())]);
          await Promise.all([metrics, ...laneMetrics].map((m) => m.stop()));
          stopped = true;
          await stateWrites;
          await removeLocalState(statePath);
          await cleanUp();
        })();
        return stopping;
      },
    };
  } catch (error) {
    await cleanUp();
    throw error;
  }
}

/** The queue named by the source queue's redrive policy, when it is one of the template's. */
function deadLetterOf(source: LocalQueue, queues: readonly LocalQueue[]): LocalQueue | undefined {
  const policy = source.attributes.RedrivePolicy;
  if (!policy) return undefined;
  const target = (JSON.parse(policy) as { deadLetterTargetArn?: string }).deadLetterTargetArn;
  return queues.find((q) => q.arn === target);
}

/** A poller for one lane's mapping, honouring its batch size, window and maximum concurrency (and the function's reserved concurrency). */
function createPoller(
  sqs: SQSClient,
  region: string,
  mapping: LocalMapping,
  handler: LambdaSqsHandler,
  emit: (event: LocalSystemEvent) => void,
  metrics: LocalMetrics,
): EventSourcePoller {
  const fn = mapping.function;
  const maximumConcurrency = Math.min(mapping.maximumConcurrency ?? Number.POSITIVE_INFINITY, fn.reservedConcurrency ?? Number.POSITIVE_INFINITY);
  return new EventSourcePoller({
    sqs,
    queueUrl: mapping.queue.url,
    queueArn: mapping.queue.arn,
    region,
    handler,
    function: { name: fn.name, timeoutSeconds: fn.timeoutSeconds, memoryMB: fn.memoryMB },
    batchSize: mapping.batchSize,
    maximumBatchingWindowInSeconds: mapping.maximumBatchingWindowInSeconds,
    ...(Number.isFinite(maximumConcurrency) ? { maximumConcurrency } : {}),
    reportBatchItemFailures: mapping.reportBatchItemFailures,
    onInvocationStart: () => metrics.invocationStarted(),
    onInvocation: (result) => {
      metrics.invocationSettled(result);
      emit({ kind: 'invocation', result });
    },
    onError: (error, during) => emit({ kind: 'error', message: `poller ${mapping.logicalId} ${during}: ${describe(error)}`, error }),
  });
}

/** `instance` gives a separate module instance per function (each initializes from its own environment). */
async function loadHandler(modulePath: string, exportName: string, instance?: string): Promise<LambdaSqsHandler> {
  const url = pathToFileURL(modulePath).href + (instance !== undefined ? `?function=${encodeURIComponent(instance)}` : '');
  const module = (await import(url)) as Record<string, unknown>;
  const handler = module[exportName];
  if (typeof handler !== 'function') throw new Error(`${modulePath} does not export a function named ${exportName}`);
  return handler as LambdaSqsHandler;
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
