/**
 * The flow-control gate a task passes just before its handler runs (run.ts): a concurrency
 * slot of its key first, then a token of its rate limit (so that a task refused a slot never
 * spends a token). A refused task goes back to the queue without using an attempt — its
 * lease (lease mode) is released as for any re-delay — for the time the limit says. The slot
 * is released when the handler has finished, whatever its outcome.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { FlowKey } from '../../protocol/flow-control.ts';
import type { Clock, TaskDefinition } from '../config.ts';
import type { Invocation } from '../batch/invocation.ts';
import { errorText, type Outcome, type Work } from '../batch/work.ts';
import { ConcurrencySlots } from './concurrency-slots.ts';
import { RateLimiter } from './rate-limiter.ts';

/**
 * Flow-control items live in the task table under keys that start with U+001F: no
 * idempotency key may contain a control character, so they can never collide with a task.
 */
export const FLOW_KEY_PREFIX = '\u001fflow';

/** RateLimitOptions.maxHoldMs's default. */
export const DEFAULT_MAX_HOLD_MS = 1000;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The per-container state of the gate: the last seen bucket and slot items. */
export class FlowControl {
  readonly rate: RateLimiter;
  readonly slots: ConcurrencySlots;

  constructor(dynamo: DynamoDBClient, tableName: string, clock: Clock) {
    this.rate = new RateLimiter(dynamo, tableName, clock);
    this.slots = new ConcurrencySlots(dynamo, tableName, clock);
  }
}

/** The slot a running task holds, released after its handler. */
export interface HeldSlot {
  readonly itemKey: string;
  readonly holder: string;
}

export function hasFlowControl(def: TaskDefinition): boolean {
  return def.rateLimit !== undefined || def.concurrency !== undefined;
}

/**
 * Undefined: the task may run now (`w.slot` is set when it took a slot). Otherwise the outcome
 * that sends it back: a re-delay without an attempt, or a dead letter when its key function
 * threw (the payload can never be keyed).
 */
export async function admit(inv: Invocation, w: Work, payload: unknown): Promise<Outcome | undefined> {
  const def = w.def!;
  const flow = inv.deps.flow;
  if (!hasFlowControl(def)) return undefined;
  if (!flow) return { kind: 'redelay', seconds: inv.noAttemptDelay(w), why: 'flow control needs the task table (TASKQ_TABLE_NAME)', cause: 'no-table' };
  const type = w.envelope!.type;
  let slotKey: string | undefined;
  let bucketKey: string | undefined;
  try {
    if (def.concurrency) slotKey = itemKey('conc', type, keyOf(def.concurrency.key, payload, w));
    if (def.rateLimit) bucketKey = itemKey('rate', type, keyOf(def.rateLimit.key, payload, w));
  } catch (error) {
    return { kind: 'deadLetter', reason: 'permanent-error', error: `flow-control key function threw: ${errorText(error)}` };
  }
  try {
    if (def.concurrency && slotKey !== undefined) {
      const holder = randomUUID();
      const now = inv.deps.clock.now();
      const leaseUntil = now + Math.min(inv.context.getRemainingTimeInMillis(), inv.cfg.visibilityTimeoutSeconds * 1000) + inv.cfg.leaseMarginMs;
      const slot = await flow.slots.take(slotKey, def.concurrency.max, holder, leaseUntil);
      if (!slot.admitted) {
        const untilFree = Math.max(1, (slot.freeAtMs - now) / 1000);
        return { kind: 'redelay', seconds: inv.visibility(Math.min(untilFree, inv.noAttemptDelay(w))), why: `concurrency limit ${def.concurrency.max} reached`, cause: 'concurrency' };
      }
      w.slot = { itemKey: slotKey, holder };
    }
    if (def.rateLimit && bucketKey !== undefined) {
      // Hold a task for its reserved start only while the invocation has time to run it after.
      const maxHoldMs = Math.max(0, Math.min(def.rateLimit.maxHoldMs ?? DEFAULT_MAX_HOLD_MS, inv.timeLeft() / 2));
      const token = await flow.rate.take(bucketKey, def.rateLimit.perSecond, def.rateLimit.burst ?? 1, maxHoldMs);
      const now = inv.deps.clock.now();
      if (!token.admitted) {
        await releaseSlot(inv, w);
        // Back when its start is within the hold (spread over that window, so that the refused do not all
        // come back together): whole seconds, rounded down — a task back early is held, one back late idles the bucket.
        const seconds = Math.max(1, Math.floor((token.startAt - now - inv.deps.random() * maxHoldMs) / 1000));
        return { kind: 'redelay', seconds: inv.visibility(seconds), why: `rate limit ${def.rateLimit.perSecond}/s reached`, cause: 'rate-limit' };
      }
      if (token.startAt > now) {
        await sleep(token.startAt - now);
        // A stalled process wakes its held tasks late and together: one that missed its start by more than an
        // interval goes back instead (its token is spent), so that starts stay spaced as the limit says.
        const late = inv.deps.clock.now() - token.startAt;
        if (late > 1000 / def.rateLimit.perSecond) {
          await releaseSlot(inv, w);
          return { kind: 'redelay', seconds: 1, why: `rate limit ${def.rateLimit.perSecond}/s: held start missed by ${Math.round(late)} ms`, cause: 'rate-limit' };
        }
      }
    }
    return undefined;
  } catch (error) {
    await releaseSlot(inv, w);
    inv.log.warn('flow-control item not updated; re-delayed without counting an attempt', { ...inv.fields(w), error: errorText(error) });
    return { kind: 'redelay', seconds: inv.noAttemptDelay(w), why: `flow control: ${errorText(error)}`, cause: 'table' };
  }
}

/** Frees the task's concurrency slot, if it holds one; a failed release is logged (the lease ends with the invocation). */
export async function releaseSlot(inv: Invocation, w: Work): Promise<void> {
  const slot = w.slot;
  if (!slot || !inv.deps.flow) return;
  w.slot = undefined;
  try {
    await inv.deps.flow.slots.release(slot.itemKey, slot.holder);
  } catch (error) {
    inv.log.warn('concurrency slot not released; it frees itself when the invocation lease ends', { ...inv.fields(w), error: errorText(error) });
  }
}

function keyOf(fn: FlowKey | undefined, payload: unknown, w: Work): string {
  if (!fn) return '';
  const e = w.envelope!;
  const key = fn(payload, { taskId: e.id, type: e.type, createdAt: e.createdAt });
  if (key === undefined || key === null) return '';
  if (typeof key !== 'string') throw new Error(`returned ${typeof key}, not a string`);
  return key;
}

/** `\u001fflow:rate:<type>:<key>`; a long key is hashed (the table's key is at most 2048 bytes). */
export function itemKey(kind: 'rate' | 'conc', type: string, key: string): string {
  const k = Buffer.byteLength(key) > 512 ? `sha256:${createHash('sha256').update(key).digest('hex')}` : key;
  return `${FLOW_KEY_PREFIX}:${kind}:${type}:${k}`;
}
