/**
 * Phase 4: settling each record — running its handler (after fetching a claim-checked payload
 * and validating it) unless an earlier phase already decided, then checking the receive budget
 * and dead-lettering what must go to the DLQ.
 */
import { PermanentError, PoisonMessageError, RetryableError } from '../../protocol/errors.ts';
import { backoffSeconds } from '../backoff.ts';
import { fetchClaim } from '../claim-check.ts';
import type { TaskContext, TaskDefinition } from '../config.ts';
import { stringOf } from '../task-store.ts';
import { admit, releaseSlot } from '../flow/gate.ts';
import { deadLetter } from './dead-letter.ts';
import type { Invocation } from './invocation.ts';
import { tableUnavailable } from './outcomes.ts';
import { spendLastReceive, spendNoAttemptBound } from './receive-budget.ts';
import { errorText, type Outcome, type Work } from './work.ts';

class HandlerTimeout extends Error {
  override readonly name = 'HandlerTimeout';
  constructor(
    message: string,
    /** Settles when the handler that overran has stopped (resolved or thrown). */
    readonly stopped: Promise<void>,
  ) {
    super(message);
  }
}

export async function settle(inv: Invocation, w: Work): Promise<void> {
  w.settled = true;
  try {
    if (!w.outcome) {
      if (inv.timeLeft() <= 0) w.outcome = { kind: 'notStarted' };
      else w.outcome = await run(inv, w);
    }
    if (!spendNoAttemptBound(inv, w)) spendLastReceive(inv, w);
    if (w.outcome.kind === 'deadLetter') await deadLetter(inv, w, w.outcome);
  } catch (error) {
    inv.log.error('unexpected error while settling a record', { ...inv.fields(w), error: errorText(error) });
    w.outcome = { kind: 'retry', seconds: inv.visibility(backoffSeconds(Math.max(1, w.attempts), inv.cfg.backoff, inv.deps.random)), error: errorText(error) };
  }
}

async function run(inv: Invocation, w: Work): Promise<Outcome> {
  const def = w.def!;
  const envelope = w.envelope!;
  w.ran = true;
  const started = performance.now();
  try {
    let payload: unknown = envelope.payload;
    if (envelope.payloadRef) {
      const text = await fetchClaim(inv.deps.clients, envelope.payloadRef, inv.claimPolicy);
      try {
        payload = JSON.parse(text);
      } catch {
        throw new PoisonMessageError('claim-unreadable', 'claim-check object is not JSON');
      }
    }
    if (def.validate) {
      let valid: boolean | void;
      try {
        valid = def.validate(payload);
      } catch (error) {
        throw new PoisonMessageError('schema-violation', `payload rejected by validate(): ${errorText(error)}`);
      }
      if (valid === false) throw new PoisonMessageError('schema-violation', 'payload rejected by validate()');
    }
    const held = await admit(inv, w, payload);
    if (held) {
      w.ran = false;
      return held;
    }
    let result: unknown;
    try {
      result = await invoke(inv, w, def, payload);
    } catch (error) {
      // A handler that timed out may still be running: its slot is released when it stops (a well-behaved
      // handler stops when ctx.signal aborts), or else when the invocation's lease ends.
      if (error instanceof HandlerTimeout) inv.lateReleases.push(error.stopped.then(() => releaseSlot(inv, w)));
      else await releaseSlot(inv, w);
      throw error;
    }
    await releaseSlot(inv, w);
    w.durationMs = performance.now() - started;
    return { kind: 'succeeded', result };
  } catch (error) {
    w.durationMs = performance.now() - started;
    // Cancelled while it ran, and the handler stopped: the record says CANCELLED already.
    if (w.cancelSeen) return { kind: 'cancelled', error: errorText(error) };
    if (error instanceof PoisonMessageError && error.reason === 'claim-missing' && w.mode === 'record' && envelope.payloadRef) {
      const settled = await claimGoneBecauseSucceeded(inv, w);
      if (settled) return settled;
    }
    if (error instanceof PermanentError) return { kind: 'deadLetter', reason: error.reason, error: errorText(error) };
    if (w.attempts >= w.maxAttempts) {
      return { kind: 'deadLetter', reason: 'attempts-exhausted', error: errorText(error) };
    }
    const seconds =
      error instanceof RetryableError && error.retryAfterSeconds !== undefined
        ? inv.visibility(error.retryAfterSeconds)
        : inv.visibility(backoffSeconds(w.attempts, inv.cfg.backoff, inv.deps.random));
    return { kind: 'retry', seconds, error: errorText(error) };
  }
}

/**
 * Record mode lets two copies run at once: one may succeed and delete the claim object while
 * the other is about to fetch it. The object is deleted only after the SUCCEEDED write was
 * acknowledged, so a consistent read now tells a vanished object of a finished task (a
 * duplicate, acknowledged) from a really missing one (dead-lettered, claim-missing).
 */
async function claimGoneBecauseSucceeded(inv: Invocation, w: Work): Promise<Outcome | undefined> {
  let status: string | undefined;
  try {
    status = stringOf((await inv.deps.store!.getMany([w.key!])).get(w.key!), 'status');
  } catch (error) {
    w.ran = false;
    tableUnavailable(inv, w, error);
    return w.outcome;
  }
  if (status !== 'SUCCEEDED') return undefined;
  w.ran = false;
  return { kind: 'duplicate', of: 'SUCCEEDED' };
}

async function invoke(inv: Invocation, w: Work, def: TaskDefinition, payload: unknown): Promise<unknown> {
  const envelope = w.envelope!;
  const left = inv.timeLeft();
  const limit = def.timeoutMs !== undefined ? Math.min(def.timeoutMs, left) : left;
  const controller = new AbortController();
  const watch = w.mode !== 'off' ? inv.cancelWatch : undefined;
  const unwatch = watch?.watch(w.key!, envelope.id, controller, () => (w.cancelSeen = true));
  const context: TaskContext = {
    taskId: envelope.id,
    type: envelope.type,
    idempotencyKey: w.key!,
    attempt: w.attempts,
    maxAttempts: w.maxAttempts,
    messageId: w.record.messageId,
    createdAt: envelope.createdAt,
    signal: controller.signal,
    deadline: Date.now() + limit,
    logger: inv.log,
    ...(envelope.group !== undefined ? { groupId: envelope.group } : {}),
    ...(envelope.groupResult !== undefined ? { groupResult: envelope.groupResult } : {}),
    async checkCancelled() {
      if (!watch) return false;
      try {
        return await watch.checkOne(w.key!);
      } catch (error) {
        inv.log.warn('checkCancelled: the task record could not be read', { ...inv.fields(w), error: errorText(error) });
        return false;
      }
    },
  };
  let timer: NodeJS.Timeout | undefined;
  const running = Promise.resolve().then(() => def.handler(payload, context));
  const stopped = running.then(
    () => undefined,
    () => undefined,
  );
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new HandlerTimeout(
        def.timeoutMs !== undefined && def.timeoutMs <= left ? `handler timed out after ${def.timeoutMs} ms` : 'handler stopped at the invocation deadline',
        stopped,
      );
      controller.abort(error);
      reject(error);
    }, Math.max(0, limit));
  });
  try {
    return await Promise.race([running, timeout]);
  } finally {
    clearTimeout(timer);
    unwatch?.();
  }
}
