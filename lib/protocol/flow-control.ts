/**
 * Flow control declared on a task type (a contract's defaults or a consumer's task
 * definition): a rate limit and a concurrency limit, each per task type or per key. The
 * consumer runtime enforces both across every consumer instance with items in the task table
 * (lib/runtime/flow/). docs/FLOW-CONTROL.md describes each guarantee and its cost.
 */

/** What a flow-control key function gets besides the payload. */
export interface FlowKeyContext {
  readonly taskId: string;
  readonly type: string;
  readonly createdAt: string;
}

/**
 * A key function: the payload as sent (before a schema's transform) to the key its limit is
 * counted under — a tenant, a customer, an API host. The empty string and `undefined` mean
 * the type's shared key.
 */
export type FlowKey = (payload: any, context: FlowKeyContext) => string | undefined;

/**
 * At most `perSecond` tasks per second start, with up to `burst` at once after a quiet
 * period (a token bucket, enforced as GCRA with one DynamoDB item per key). A task refused by
 * it goes back to the queue for the time the bucket says, without using an attempt.
 */
export interface RateLimitOptions {
  /** Tasks per second, over all consumers. Must be > 0 (e.g. 0.5 = one every two seconds). */
  readonly perSecond: number;
  /** Tasks that may start at once after a quiet period; ≥ 1. @default 1 */
  readonly burst?: number;
  /** One bucket per key. @default one bucket for the whole task type */
  readonly key?: FlowKey;
  /**
   * A task whose start the bucket can give within this many milliseconds is held by the
   * consumer until then (Lambda time) instead of going back to the queue (a receive): the
   * limit is then used fully. 0: never hold. Capped at half the invocation's time left.
   * @default 1000
   */
  readonly maxHoldMs?: number;
}

/**
 * At most `max` handlers of the key run at once across the fleet: lease-based slots in one
 * DynamoDB item per key, which expire with the invocation that holds them.
 */
export interface ConcurrencyOptions {
  /** Handlers of one key at once, over all consumers: an integer, 1–100. */
  readonly max: number;
  /** One set of slots per key. @default one set for the whole task type */
  readonly key?: FlowKey;
}

/** The largest concurrency limit: the slots of a key live in one item (≈ 60 bytes each). */
export const MAX_CONCURRENCY_LIMIT = 100;

/** Throws, naming where, the option, the value and the rule, when a rate limit could never work. */
export function checkRateLimit(where: string, limit: RateLimitOptions | undefined): void {
  if (limit === undefined) return;
  if (typeof limit !== 'object' || limit === null) throw new Error(`${where}: rateLimit must be an object { perSecond, burst?, key? }, got ${String(limit)}`);
  if (typeof limit.perSecond !== 'number' || !Number.isFinite(limit.perSecond) || limit.perSecond <= 0) {
    throw new Error(`${where}: rateLimit.perSecond must be a number > 0 (a rate of zero would never run a task), got ${String(limit.perSecond)}`);
  }
  if (limit.burst !== undefined && !(typeof limit.burst === 'number' && Number.isFinite(limit.burst) && limit.burst >= 1)) {
    throw new Error(`${where}: rateLimit.burst must be a number ≥ 1 (a bucket holding less than one token admits nothing), got ${String(limit.burst)}`);
  }
  if (limit.maxHoldMs !== undefined && !(typeof limit.maxHoldMs === 'number' && Number.isFinite(limit.maxHoldMs) && limit.maxHoldMs >= 0)) {
    throw new Error(`${where}: rateLimit.maxHoldMs must be a number ≥ 0, got ${String(limit.maxHoldMs)}`);
  }
  if (limit.key !== undefined && typeof limit.key !== 'function') throw new Error(`${where}: rateLimit.key must be a function (payload, context) => string, got ${typeof limit.key}`);
}

/** Throws, naming where, the option, the value and the rule, when a concurrency limit could never work. */
export function checkConcurrency(where: string, limit: ConcurrencyOptions | undefined): void {
  if (limit === undefined) return;
  if (typeof limit !== 'object' || limit === null) throw new Error(`${where}: concurrency must be an object { max, key? }, got ${String(limit)}`);
  if (!(Number.isInteger(limit.max) && limit.max >= 1 && limit.max <= MAX_CONCURRENCY_LIMIT)) {
    throw new Error(`${where}: concurrency.max must be an integer from 1 to ${MAX_CONCURRENCY_LIMIT}, got ${String(limit.max)}`);
  }
  if (limit.key !== undefined && typeof limit.key !== 'function') throw new Error(`${where}: concurrency.key must be a function (payload, context) => string, got ${typeof limit.key}`);
}
