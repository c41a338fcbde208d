/**
 * The Lambda entry point: task definitions in, an SQS event handler out.
 *
 *   export const handler = defineTasks({
 *     send_email: { handler: async (payload, ctx) => { … }, validate: (p) => typeof p?.to === 'string' },
 *   });
 *
 * Everything that can be done once per container is done here: configuration, the
 * DynamoDB client, the table's expressions. The SQS and S3 SDKs load on first need.
 */
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { TASK_TYPE_PATTERN } from '../protocol/limits.ts';
import { AwsClients } from './aws-clients.ts';
import { resolveConfig, type RuntimeOptions, type TaskDefinitions } from './config.ts';
import { BatchProcessor } from './processor.ts';
import { SqsActions } from './sqs-actions.ts';
import { TaskStore } from './task-store.ts';
import { EmfMetricsSink, JsonLogger, logLevelFromEnv } from './telemetry.ts';

export type SqsTaskHandler = ((event: SQSEvent, context: Context) => Promise<SQSBatchResponse>) & {
  /** The configuration in effect (for tests and diagnostics). */
  readonly processor: BatchProcessor;
};

export function defineTasks(tasks: TaskDefinitions, options: RuntimeOptions = {}): SqsTaskHandler {
  for (const [type, definition] of Object.entries(tasks)) {
    if (!TASK_TYPE_PATTERN.test(type)) throw new Error(`task type ${JSON.stringify(type)} must match ${TASK_TYPE_PATTERN.source}`);
    if (typeof definition?.handler !== 'function') throw new Error(`task type ${type} has no handler function`);
    if (definition.idempotency !== undefined && !['lease', 'record', 'off'].includes(definition.idempotency)) {
      throw new Error(`task type ${type}: idempotency must be 'lease', 'record' or 'off'`);
    }
    if (definition.maxAttempts !== undefined && !(Number.isInteger(definition.maxAttempts) && definition.maxAttempts >= 1)) {
      throw new Error(`task type ${type}: maxAttempts must be an integer ≥ 1`);
    }
    if (definition.timeoutMs !== undefined && !(definition.timeoutMs > 0)) throw new Error(`task type ${type}: timeoutMs must be positive`);
  }
  const config = resolveConfig(options);
  const clock = options.clock ?? { now: Date.now };
  const clients = new AwsClients(options.clients);
  const logger = options.logger ?? new JsonLogger(config.serviceName, logLevelFromEnv(), undefined, clock.now);
  const processor = new BatchProcessor({
    config,
    tasks: { ...tasks },
    clients,
    store: config.tableName ? new TaskStore(clients.dynamo, config.tableName) : undefined,
    sqs: new SqsActions(clients),
    clock,
    random: options.random ?? Math.random,
    logger,
    metrics: options.metrics ?? new EmfMetricsSink(),
  });
  const handler = (event: SQSEvent, context: Context) => processor.process(event, context);
  return Object.assign(handler, { processor });
}
