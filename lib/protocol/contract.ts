/**
 * Task contracts: a task type declared once — its name, the schema its payload must satisfy,
 * and its defaults — in a module that the producer and the consumer both import.
 *
 *   export const SendEmail = defineContract('send_email', z.object({ to: z.email(), subject: z.string().optional() }), {
 *     maxAttempts: 5,
 *   });
 *   await producer.send(SendEmail, { to: 'ada@example.com' });        // typed, validated before sending
 *   defineTasks({ send_email: { contract: SendEmail, handler: async (p) => … } }); // validated again on receipt
 *
 * Schemas follow the Standard Schema interface (zod ≥ 3.24, valibot ≥ 1, arktype ≥ 2, …), so
 * no schema library is a dependency of this package. Producers in other languages get JSON
 * Schemas (`taskq contracts --json-schema`), from schemas that also implement Standard JSON
 * Schema (zod ≥ 4.2, arktype ≥ 2.1.28, valibot through @valibot/to-json-schema) or from an
 * explicit `jsonSchema`.
 */
import type { StandardJSONSchemaV1, StandardSchemaV1 } from '@standard-schema/spec';
import { checkConcurrency, checkRateLimit, type ConcurrencyOptions, type RateLimitOptions } from './flow-control.ts';
import { TASK_TYPE_PATTERN } from './limits.ts';
import { LANE_NAME_PATTERN } from './lanes.ts';

/** Defaults a contract gives every consumer of its type (each can still override them). */
export interface TaskContractDefaults {
  /** How duplicates are kept from running twice (docs/CONSUMER.md). @default 'lease' */
  readonly idempotency?: 'lease' | 'record' | 'off';
  /** Handler executions before the task is dead-lettered. @default the consumer's maxAttempts (5) */
  readonly maxAttempts?: number;
  /** A run longer than this is a retryable failure. @default none (bounded by the invocation) */
  readonly timeoutMs?: number;
  /**
   * The lane meant to run this type (a lane of the TaskQueue construct). Documentation for
   * readers of the contract: where a type runs is the stack's `lanes` (its routing table), never
   * the producer's. @default 'default'
   */
  readonly lane?: string;
  /** Tasks of this type per second, over all consumers, per key (docs/FLOW-CONTROL.md). @default none */
  readonly rateLimit?: RateLimitOptions;
  /** Handlers of this type running at once, over all consumers, per key (docs/FLOW-CONTROL.md). @default none */
  readonly concurrency?: ConcurrencyOptions;
  /**
   * The payload's JSON Schema, for producers in other languages, when the schema library does
   * not implement Standard JSON Schema. @default the schema's own (`~standard.jsonSchema`)
   */
  readonly jsonSchema?: Record<string, unknown>;
}

/** Brand that tells a contract from a task type string at run time. */
const CONTRACT = Symbol.for('taskq.contract');

export interface TaskContract<Type extends string = string, Input = unknown, Output = Input> {
  readonly [CONTRACT]: true;
  readonly type: Type;
  readonly schema: StandardSchemaV1<Input, Output>;
  readonly defaults: TaskContractDefaults;
}

/** The payload a producer sends for a contract (the schema's input type). */
export type ContractInput<C> = C extends TaskContract<string, infer Input, unknown> ? Input : never;
/** The payload a handler receives for a contract (the schema's output type). */
export type ContractOutput<C> = C extends TaskContract<string, unknown, infer Output> ? Output : never;

/** One problem a schema found: where (a field path such as `items[2].sku`) and what. */
export interface PayloadIssue {
  readonly path: string;
  readonly message: string;
}

const IDEMPOTENCY_MODES = new Set(['lease', 'record', 'off']);

/**
 * Declares a task type. Throws at once (module load) on a type name, schema or default the
 * queue could never accept, naming the contract and the rule.
 */
export function defineContract<const Type extends string, S extends StandardSchemaV1>(
  type: Type,
  schema: S,
  defaults: TaskContractDefaults = {},
): TaskContract<Type, StandardSchemaV1.InferInput<S>, StandardSchemaV1.InferOutput<S>> {
  const where = `defineContract(${JSON.stringify(type)})`;
  if (typeof type !== 'string' || !TASK_TYPE_PATTERN.test(type)) throw new Error(`${where}: the type must match ${TASK_TYPE_PATTERN.source}`);
  if (typeof schema?.['~standard']?.validate !== 'function') {
    throw new Error(`${where}: schema must be a Standard Schema (an object with ['~standard'].validate), e.g. a zod, valibot or arktype schema`);
  }
  if (defaults.idempotency !== undefined && !IDEMPOTENCY_MODES.has(defaults.idempotency)) {
    throw new Error(`${where}: idempotency must be 'lease', 'record' or 'off', got ${JSON.stringify(defaults.idempotency)}`);
  }
  if (defaults.maxAttempts !== undefined && !(Number.isInteger(defaults.maxAttempts) && defaults.maxAttempts >= 1)) {
    throw new Error(`${where}: maxAttempts must be an integer ≥ 1, got ${String(defaults.maxAttempts)}`);
  }
  if (defaults.timeoutMs !== undefined && !(Number.isFinite(defaults.timeoutMs) && defaults.timeoutMs > 0)) {
    throw new Error(`${where}: timeoutMs must be a positive number, got ${String(defaults.timeoutMs)}`);
  }
  if (defaults.lane !== undefined && !LANE_NAME_PATTERN.test(defaults.lane)) {
    throw new Error(`${where}: lane must be a lane name (1–24 lower-case letters, digits and single hyphens, starting with a letter), got ${JSON.stringify(defaults.lane)}`);
  }
  checkRateLimit(where, defaults.rateLimit);
  checkConcurrency(where, defaults.concurrency);
  return Object.freeze({ [CONTRACT]: true as const, type, schema: schema as StandardSchemaV1<StandardSchemaV1.InferInput<S>, StandardSchemaV1.InferOutput<S>>, defaults: Object.freeze({ ...defaults }) });
}

export function isTaskContract(value: unknown): value is TaskContract {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[CONTRACT] === true;
}

/**
 * Checks a payload against a contract's schema. Issues carry field paths and the schema's
 * messages — never the payload's values.
 */
export async function checkPayload<C extends TaskContract>(
  contract: C,
  payload: unknown,
): Promise<{ readonly ok: true; readonly value: ContractOutput<C> } | { readonly ok: false; readonly issues: readonly PayloadIssue[] }> {
  const result = await contract.schema['~standard'].validate(payload);
  if (result.issues) return { ok: false, issues: result.issues.map(toPayloadIssue) };
  return { ok: true, value: result.value as ContractOutput<C> };
}

export function toPayloadIssue(issue: StandardSchemaV1.Issue): PayloadIssue {
  const path = (issue.path ?? [])
    .map((segment) => (typeof segment === 'object' ? segment.key : segment))
    .map((key, i) => (typeof key === 'number' ? `[${key}]` : `${i === 0 ? '' : '.'}${String(key)}`))
    .join('');
  return { path, message: issue.message };
}

/** `to: Invalid email address; items[2].sku: Required` — each issue's field path and message. */
export function describeIssues(issues: readonly (StandardSchemaV1.Issue | PayloadIssue)[]): string {
  return issues
    .map((issue) => ('path' in issue && typeof issue.path === 'string' ? issue : toPayloadIssue(issue as StandardSchemaV1.Issue)))
    .map((issue) => (issue.path ? `${issue.path}: ${issue.message}` : issue.message))
    .join('; ');
}

/**
 * The JSON Schema (draft 2020-12) of the payload a producer sends: the contract's explicit
 * `jsonSchema`, else the schema's Standard JSON Schema input converter. Throws, naming the
 * contract, when neither exists.
 */
export function payloadJsonSchema(contract: TaskContract): Record<string, unknown> {
  if (contract.defaults.jsonSchema) return contract.defaults.jsonSchema;
  const converter = (contract.schema as unknown as Partial<StandardJSONSchemaV1>)['~standard']?.jsonSchema;
  if (typeof converter?.input !== 'function') {
    throw new Error(
      `contract ${contract.type}: its schema (${contract.schema['~standard'].vendor}) does not implement Standard JSON Schema; ` +
        'use zod ≥ 4.2, arktype ≥ 2.1.28 or valibot with @valibot/to-json-schema, or give defineContract a jsonSchema',
    );
  }
  return converter.input({ target: 'draft-2020-12' });
}
