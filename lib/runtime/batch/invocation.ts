/**
 * One invocation of the consumer: the records of one SQS batch, taken through the phases in
 * order, each in its own module —
 *   1. parse.ts    every record's envelope (Extended Client pointers resolved from S3 here:
 *                  their envelope, and so their idempotency key, is only in the object);
 *   2. route.ts    unknown types, notBefore not reached, a key seen earlier in the batch;
 *   2b. ../flow/debounce.ts  debounced sends: only a key's latest version, once quiet, runs;
 *   3. acquire.ts  the idempotency check: leases (lease mode) or records (record mode), in as
 *                  few table calls as the API allows;
 *   4. run.ts      the handlers (bounded concurrency; FIFO: in order), claim fetches, the
 *                  rate and concurrency limits (../flow/gate.ts),
 *                  dead-lettering as each record settles (dead-letter.ts, receive-budget.ts);
 *   5. finish-table.ts then finish-queue.ts: one BatchWriteItem for every completion, then the
 *                  visibility changes and re-sends, and the claim objects of SUCCEEDED tasks.
 * report.ts turns each outcome into a log line and metrics.
 */
import { finishGroups } from './finish-groups.ts';
import { randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';
import { queueUrlFromArn, type ResolvedConfig } from '../config.ts';
import type { ClaimPolicy } from '../claim-check.ts';
import { backoffSeconds, clampVisibility } from '../backoff.ts';
import type { ProcessorDeps } from '../processor.ts';
import type { MetricsCollector, RuntimeLogger } from '../telemetry.ts';
import { SQS_MAX_VISIBILITY_SECONDS } from '../../protocol/limits.ts';
import { acquire } from './acquire.ts';
import { CancelWatch } from './cancel-watch.ts';
import { verifiedCancelledClaims } from './cancelled-claims.ts';
import { storeLargeResults } from './store-results.ts';
import { deadLetter } from './dead-letter.ts';
import { finishQueue } from './finish-queue.ts';
import { deleteClaimObjects, finishTable } from './finish-table.ts';
import { parse } from './parse.ts';
import { spendLastReceive, spendNoAttemptBound } from './receive-budget.ts';
import { route } from './route.ts';
import { debounce } from '../flow/debounce.ts';
import { settle } from './run.ts';
import { isFailure, pool, totalReceives, type DeadLetterOutcome, type Work } from './work.ts';

/**
 * When the queue's visibility timeout is not configured, the longest a received message is
 * assumed to wait for its invocation (Lambda's longest batching window is 300 s; throttled
 * invokes are retried within the visibility timeout).
 */
const UNKNOWN_RECEIVE_TO_INVOKE_SECONDS = 900;
/** The longest an invocation waits at its end for timed-out handlers to stop and free their slots. */
const LATE_RELEASE_WAIT_MS = 1000;
/** Kept off the 12-hour visibility limit for clock differences and request time. */
const VISIBILITY_LIMIT_MARGIN_SECONDS = 60;

export class Invocation {
  readonly fifo: boolean;
  readonly queueUrl: string | undefined;
  readonly cfg: ResolvedConfig;
  readonly log: RuntimeLogger;
  /** When this invocation started (clock ms). */
  readonly startedAt: number;
  /** The owner token of every lease this invocation takes (task-store.ts AcquireRequest.owner). */
  readonly owner = randomUUID();
  /** Concurrency slots of handlers that timed out, released once those stop (run.ts); awaited briefly at the end. */
  readonly lateReleases: Promise<void>[] = [];
  /** Watches running tasks' records for a cancel (undefined without a task table). */
  readonly cancelWatch: CancelWatch | undefined;

  constructor(
    readonly deps: ProcessorDeps,
    readonly claimPolicy: ClaimPolicy,
    readonly ttl: number,
    readonly works: Work[],
    readonly context: Pick<Context, 'getRemainingTimeInMillis'>,
    readonly metrics: MetricsCollector,
    eventSourceArn: string | undefined,
  ) {
    this.cfg = deps.config;
    this.log = deps.logger;
    this.startedAt = deps.clock.now();
    this.cancelWatch = deps.store ? new CancelWatch(deps.store, this.cfg.cancelCheckIntervalMs, this.log) : undefined;
    this.fifo = this.cfg.fifo ?? (typeof eventSourceArn === 'string' && eventSourceArn.endsWith('.fifo'));
    this.queueUrl = this.cfg.queueUrl ?? (eventSourceArn ? queueUrlFromArn(eventSourceArn) : undefined);
  }

  /** Milliseconds this invocation may still start work in. */
  timeLeft(): number {
    return this.context.getRemainingTimeInMillis() - this.cfg.deadlineMarginMs;
  }

  /**
   * A re-delay's visibility, in seconds SQS accepts now. SQS refuses a visibility change that
   * would keep a message invisible more than 12 hours after the receive that returned it (it
   * does not shorten it). The receive happened at most one visibility timeout before this
   * invocation started — later, and the message would have been visible again — so what is
   * left is at least 43,200 s − that timeout − the time since the start, less a margin.
   */
  visibility(seconds: number): number {
    const receiveToInvoke = this.cfg.visibilityKnown ? this.cfg.visibilityTimeoutSeconds : UNKNOWN_RECEIVE_TO_INVOKE_SECONDS;
    const elapsed = Math.ceil((this.deps.clock.now() - this.startedAt) / 1000);
    const left = SQS_MAX_VISIBILITY_SECONDS - receiveToInvoke - elapsed - VISIBILITY_LIMIT_MARGIN_SECONDS;
    return Math.max(1, Math.min(clampVisibility(seconds), left));
  }

  /** A return without an attempt backs off with the task's receives so far (across its copies). */
  noAttemptDelay(w: Work): number {
    return this.visibility(backoffSeconds(totalReceives(w), this.cfg.backoff, this.deps.random));
  }

  /** Handler executions so far, as the table counts them. */
  executions(w: Work): number {
    return w.ran || w.mode === 'off' ? w.attempts : Math.max(0, w.attempts - 1);
  }

  fields(w: Work): Record<string, unknown> {
    return {
      taskId: w.envelope?.id,
      taskType: w.envelope?.type,
      attempt: w.attempts || undefined,
      messageId: w.record.messageId,
    };
  }

  async execute(): Promise<Set<string>> {
    if (this.timeLeft() <= 0) {
      for (const w of this.works) w.outcome = { kind: 'notStarted' };
    } else {
      await parse(this);
      route(this);
      await debounce(this);
      await acquire(this);
      if (this.fifo) await this.settleInGroupOrder();
      else await pool(this.works, this.cfg.concurrency, (w) => settle(this, w));
    }
    // Records that never reached settle() (no time left, or behind a FIFO failure) use a receive too.
    await pool(
      this.works.filter((w) => !w.settled),
      this.cfg.concurrency,
      async (w) => {
        if (spendNoAttemptBound(this, w) || spendLastReceive(this, w)) await deadLetter(this, w, w.outcome as DeadLetterOutcome);
      },
    );
    await storeLargeResults(this);
    const [claimsToDelete, cancelledClaims] = await Promise.all([finishTable(this), verifiedCancelledClaims(this)]);
    await Promise.all([finishQueue(this), finishGroups(this), deleteClaimObjects(this, [...claimsToDelete, ...cancelledClaims])]);
    await this.awaitLateReleases();
    const failed = new Set<string>();
    for (const w of this.works) if (isFailure(w)) failed.add(w.record.messageId);
    return failed;
  }

  /**
   * Gives handlers that timed out and have stopped since (ctx.signal aborted) a moment to free
   * their concurrency slots before the invocation returns — after it, Lambda freezes the
   * sandbox. One that has not stopped by then frees it when it does, or at its lease's end.
   */
  private async awaitLateReleases(): Promise<void> {
    if (this.lateReleases.length === 0) return;
    let timer: NodeJS.Timeout | undefined;
    const wait = Math.max(0, Math.min(LATE_RELEASE_WAIT_MS, this.context.getRemainingTimeInMillis() - this.cfg.deadlineMarginMs / 2));
    await Promise.race([Promise.all(this.lateReleases), new Promise<void>((resolve) => (timer = setTimeout(resolve, wait)))]);
    clearTimeout(timer);
  }

  /**
   * FIFO: each message group's records in order; a record that goes back (a retry, a re-delay)
   * holds back the later records of its own group only — they go back unstarted, using no
   * attempt — while the other groups go on (as Powertools' skipGroupOnError). Groups run one
   * after another: their records are few, and order within a group is what FIFO promises.
   */
  private async settleInGroupOrder(): Promise<void> {
    const blocked = new Map<string, string>();
    for (const w of this.works) {
      const group = w.record.attributes?.MessageGroupId ?? '';
      const blocker = blocked.get(group);
      if (blocker !== undefined) {
        w.outcome = { kind: 'notStarted', blockedBy: blocker };
        continue;
      }
      await settle(this, w);
      if (isFailure(w)) blocked.set(group, w.record.messageId);
    }
  }
}
