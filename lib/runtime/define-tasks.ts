/**
 * The Lambda entry point: task definitions in, an SQS event handler out.
 *
 *   export const handler = defineTasks({
 *     send_email: { schema: z.object({ to: z.email() }), handler: async (payload, ctx) => { … payload.to … } },
 *     log_event: { idempotency: 'off', handler: async (payload: { name: string }) => { … } },
 *   });
 *
 * Everything that can be done once per container is done here: configuration, the
 * DynamoDB client, the table's expressions. The SQS and S3 SDKs load on first need.
 */
import { GroupCounter } from './group-counter.ts';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import type { StandardSchemaV1 } from '@standard-schema/spec';
import { describeIssues, isTaskContract } from '../protocol/contract.ts';
import { PoisonMessageError } from '../protocol/errors.ts';
import { checkConcurrency, checkRateLimit } from '../protocol/flow-control.ts';
import { TASK_TYPE_PATTERN } from '../protocol/limits.ts';
import { ENV } from '../protocol/resources.ts';
import { AwsClients } from './aws-clients.ts';
import { resolveConfig, type RuntimeOptions, type TaskDefinition, type TaskDefinitions } from './config.ts';
import { BatchProcessor } from './processor.ts';
import { FlowControl, hasFlowControl } from './flow/gate.ts';
import { SqsActions } from './sqs-actions.ts';
import { TaskStore } from './task-store.ts';
import { EmfMetricsSink, JsonLogger, logLevelFromEnv } from './telemetry.ts';

/**
 * The Lambda handler defineTasks() returns. `Payloads` maps each task type to its payload
 * type, so a producer can type its sends from the consumer's definitions:
 * `TaskPayloads<typeof handler>`.
 */
export type SqsTaskHandler<Payloads extends Record<string, unknown> = Record<string, unknown>> = ((event: SQSEvent, context: Context) => Promise<SQSBatchResponse>) & {
  /** The configuration in effect (for tests and diagnostics). */
  readonly processor: BatchProcessor;
  /** Type-level only: the payload type of each task type (never set at run time). */
  readonly payloads?: Payloads;
};

/** The payload type of each task type of a handler defineTasks() returned. */
export type TaskPayloads<H> = H extends SqsTaskHandler<infer Payloads> ? Payloads : never;

export function defineTasks<Payloads extends Record<string, unknown>>(
  tasks: { [Type in keyof Payloads]: TaskDefinition<Payloads[Type]> },
  options: RuntimeOptions = {},
): SqsTaskHandler<Payloads> {
  const definitions: TaskDefinitions = {};
  for (const [type, definition] of Object.entries(tasks as TaskDefinitions)) {
    if (!TASK_TYPE_PATTERN.test(type)) throw new Error(`task type ${JSON.stringify(type)} must match ${TASK_TYPE_PATTERN.source}`);
    if (typeof definition?.handler !== 'function') throw new Error(`task type ${type} has no handler function`);
    if (definition.idempotency !== undefined && !['lease', 'record', 'off'].includes(definition.idempotency)) {
      throw new Error(`task type ${type}: idempotency must be 'lease', 'record' or 'off'`);
    }
    if (definition.maxAttempts !== undefined && !(Number.isInteger(definition.maxAttempts) && definition.maxAttempts >= 1)) {
      throw new Error(`task type ${type}: maxAttempts must be an integer ≥ 1`);
    }
    if (definition.timeoutMs !== undefined && !(definition.timeoutMs > 0)) throw new Error(`task type ${type}: timeoutMs must be positive`);
    if (definition.schema !== undefined && typeof definition.schema?.['~standard']?.validate !== 'function') {
      throw new Error(`task type ${type}: schema must be a Standard Schema (an object with ['~standard'].validate), e.g. a zod, valibot or arktype schema`);
    }
    checkRateLimit(`task type ${type}`, definition.rateLimit);
    checkConcurrency(`task type ${type}`, definition.concurrency);
    const resolved = definition.contract !== undefined ? fromContract(type, definition) : definition;
    definitions[type] = resolved.schema ? withSchema(resolved, resolved.schema) : resolved;
  }
  const config = resolveConfig(options);
  const limited = Object.entries(definitions).filter(([, d]) => hasFlowControl(d));
  for (const [type, d] of limited) {
    if (!config.tableName) throw new Error(`task type ${type}: rateLimit and concurrency need the task table (tableName or ${ENV.tableName})`);
    if (d.concurrency && config.fifo === true) {
      throw new Error(`task type ${type}: concurrency (max ${d.concurrency.max}) is not allowed on a FIFO queue: its message groups already run one task at a time per group (use the group id as the key)`);
    }
  }
  const clock = options.clock ?? { now: Date.now };
  const clients = new AwsClients(options.clients, options.awsTimeouts);
  const logger = options.logger ?? new JsonLogger(config.serviceName, logLevelFromEnv(), undefined, clock.now);
  const processor = new BatchProcessor({
    config,
    tasks: definitions,
    clients,
    store: config.tableName ? new TaskStore(clients.dynamo, config.tableName) : undefined,
    sqs: new SqsActions(clients),
    clock,
    random: options.random ?? Math.random,
    logger,
    metrics: options.metrics ?? new EmfMetricsSink(),
    ...(limited.length > 0 ? { flow: new FlowControl(clients.dynamo, config.tableName!, clock) } : {}),
    ...(config.tableName ? { groups: new GroupCounter(clients.dynamo, config.tableName, config.recordTtlSeconds, clock) } : {}),
  });
  const handler = (event: SQSEvent, context: Context) => processor.process(event, context);
  return Object.assign(handler, { processor });
}

/**
 * The schema checks the payload as the handler's first step and hands it the schema's
 * output (defaults applied, unknown keys stripped, as the schema says); a rejected payload
 * is dead-lettered at once like a failed validate(), with the issues as its last error.
 */
function withSchema(definition: TaskDefinition, schema: StandardSchemaV1): TaskDefinition {
  return {
    ...definition,
    async handler(payload, context) {
      const result = await schema['~standard'].validate(payload);
      if (result.issues) throw new PoisonMessageError('schema-violation', `payload rejected by schema: ${describeIssues(result.issues)}`);
      return definition.handler(result.value, context);
    },
  };
}

/**
 * A definition built on a contract: the contract's schema, and its defaults where the
 * definition sets none. Refuses a contract of another type, or a schema given twice.
 */
function fromContract(type: string, definition: TaskDefinition): TaskDefinition {
  const contract = definition.contract;
  if (!isTaskContract(contract)) throw new Error(`task type ${type}: contract must be made by defineContract()`);
  if (contract.type !== type) throw new Error(`task type ${type}: its contract is for ${JSON.stringify(contract.type)} (the key must be the contract's type)`);
  if (definition.schema !== undefined) throw new Error(`task type ${type}: give a contract or a schema, not both (the contract carries its schema)`);
  const d = contract.defaults;
  return {
    ...definition,
    schema: contract.schema,
    ...(definition.idempotency === undefined && d.idempotency !== undefined ? { idempotency: d.idempotency } : {}),
    ...(definition.maxAttempts === undefined && d.maxAttempts !== undefined ? { maxAttempts: d.maxAttempts } : {}),
    ...(definition.timeoutMs === undefined && d.timeoutMs !== undefined ? { timeoutMs: d.timeoutMs } : {}),
    ...(definition.rateLimit === undefined && d.rateLimit !== undefined ? { rateLimit: d.rateLimit } : {}),
    ...(definition.concurrency === undefined && d.concurrency !== undefined ? { concurrency: d.concurrency } : {}),
  };
}

export { describeIssues };
