/**
 * The testable core: one SQS batch in, the partial batch response out. No Lambda globals;
 * the entry point (define-tasks.ts) builds the dependencies once per container.
 *
 * An invocation runs in phases, so that table and SQS calls are made once per batch where
 * the API allows it:
 *   1. parse every record (Extended Client pointers are resolved from S3 here: their
 *      envelope, and so their idempotency key, is only in the object);
 *   2. route: unknown types, notBefore not reached, a key seen earlier in the batch;
 *   3. acquire: lease mode — one BatchExecuteStatement of INSERTs for first deliveries (one
 *      consistent BatchGetItem for those whose INSERT found an item), one conditional
 *      UpdateItem for the others; record mode — one BatchGetItem;
 *   4. run the handlers (bounded concurrency; FIFO: in order, stopping at the first failure),
 *      fetching claim-checked payloads and dead-lettering as each record settles;
 *   5. finish: one BatchWriteItem for every completion (SUCCEEDED, RETRYING, DEAD_LETTERED,
 *      released leases), then ChangeMessageVisibilityBatch for retries and re-delays and, for
 *      the SUCCEEDED tasks whose completion write was acknowledged, one S3 DeleteObjects of
 *      their claim objects (lease and record modes; see deletableClaim()).
 * Then the metrics are flushed once.
 *
 * The receive budget: every return to the queue (a retry, and re-delays that use no attempt)
 * uses one of the receives the queue's redrive policy allows (maxReceiveCount), and SQS moves a
 * message past it to the DLQ without a reason. When maxReceiveCount is known and a record
 * about to go back is on its last receive, a standard queue's record is re-sent as a fresh copy
 * (receive count 0, delay ≤ 900 s) and acknowledged; a FIFO queue's record (no per-message
 * delay, and a copy would go to the back of its group) and a retry of idempotency 'off' (whose
 * only attempt counter is the receive count) are dead-lettered with reason attempts-exhausted.
 */
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { PermanentError, PoisonMessageError, RetryableError, TaskQueueError, type DeadLetterReason } from '../protocol/errors.ts';
import { decodeEnvelope, idempotencyKeyOf, type TaskEnvelope } from '../protocol/envelope.ts';
import { truncateErrorText } from '../protocol/attributes.ts';
import { MAX_RESULT_BYTES } from '../protocol/task-record.ts';
import type { AwsClients } from './aws-clients.ts';
import { backoffSeconds, clampVisibility } from './backoff.ts';
import { deleteClaims, fetchClaim, type ClaimPolicy } from './claim-check.ts';
import { queueUrlFromArn, type Clock, type IdempotencyMode, type ResolvedConfig, type TaskContext, type TaskDefinition, type TaskDefinitions } from './config.ts';
import { isRedrive, parseBody } from './message.ts';
import type { SqsActions } from './sqs-actions.ts';
import { N, S, numberOf, stringOf, type AcquireRequest, type Item, type TaskStore } from './task-store.ts';
import { MetricsCollector, UNKNOWN_TASK_TYPE, type MetricsSink, type RuntimeLogger } from './telemetry.ts';

export interface ProcessorDeps {
  readonly config: ResolvedConfig;
  readonly tasks: TaskDefinitions;
  readonly clients: AwsClients;
  /** Undefined when no table is configured. */
  readonly store: TaskStore | undefined;
  readonly sqs: SqsActions;
  readonly clock: Clock;
  readonly random: () => number;
  readonly logger: RuntimeLogger;
  readonly metrics: MetricsSink;
}

type Outcome =
  | { readonly kind: 'succeeded'; readonly result: unknown }
  /** The task already finished (a copy of a SUCCEEDED task, or a leftover copy of a DEAD_LETTERED one): acknowledged. */
  | { readonly kind: 'duplicate'; readonly of: 'SUCCEEDED' | 'DEAD_LETTERED' }
  /** Handler (or claim fetch) failed; an attempt was counted; comes back after `seconds`. */
  | { readonly kind: 'retry'; readonly seconds: number; readonly error: string }
  | { readonly kind: 'deadLetter'; readonly reason: DeadLetterReason; readonly error: string }
  /** Not run, no attempt counted; comes back after `seconds`. */
  | { readonly kind: 'redelay'; readonly seconds: number; readonly why: string }
  /** Not due yet; a fresh copy is re-sent with a delay and this one acknowledged. */
  | { readonly kind: 'resend'; readonly seconds: number }
  /** Not started before the invocation's deadline; no attempt counted. */
  | { readonly kind: 'notStarted' };

interface Work {
  readonly record: SQSRecord;
  readonly receiveCount: number;
  envelope?: TaskEnvelope;
  key?: string;
  def?: TaskDefinition;
  mode?: IdempotencyMode;
  maxAttempts: number;
  /** This run's attempt number (lease/record: from the table; off: the receive count). */
  attempts: number;
  /** Lease mode: the lease this invocation holds. */
  lease?: { readonly leaseUntil: number; readonly previous: Item | undefined };
  /** The handler ran (an attempt was used). */
  ran: boolean;
  durationMs?: number;
  outcome?: Outcome;
  dlqFailed?: boolean;
  /** Went through settle() (the receive budget was checked there). */
  settled?: boolean;
  /** On its last receive: re-sent as a fresh copy and acknowledged instead of going back. */
  resent?: boolean;
}

const FAILURE_KINDS = new Set<Outcome['kind']>(['retry', 'redelay', 'notStarted']);

function isFailure(w: Work): boolean {
  if (w.resent) return false;
  return w.outcome !== undefined && (FAILURE_KINDS.has(w.outcome.kind) || (w.outcome.kind === 'deadLetter' && w.dlqFailed === true));
}

function errorText(error: unknown): string {
  if (error instanceof TaskQueueError) return truncateErrorText(error.message);
  if (error instanceof Error) return truncateErrorText(error.name && error.name !== 'Error' ? `${error.name}: ${error.message}` : error.message);
  return truncateErrorText(String(error));
}

class HandlerTimeout extends Error {
  override readonly name = 'HandlerTimeout';
}

/** Runs `fn` over items with at most `limit` at a time. */
async function pool<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await fn(items[next++]!);
  });
  await Promise.all(workers);
}

export class BatchProcessor {
  private readonly claimPolicy: ClaimPolicy;
  private readonly ttl: number;

  constructor(private readonly deps: ProcessorDeps) {
    this.claimPolicy = { bucketName: deps.config.bucketName, claimPrefix: deps.config.claimPrefix };
    this.ttl = deps.config.recordTtlSeconds;
  }

  async process(event: SQSEvent, context: Pick<Context, 'getRemainingTimeInMillis'>): Promise<SQSBatchResponse> {
    const records = Array.isArray(event?.Records) ? event.Records : [];
    const ids = new Set(records.map((r) => r?.messageId).filter((id): id is string => typeof id === 'string' && id.length > 0));
    const metrics = new MetricsCollector();
    try {
      const works = records
        .filter((r) => r && typeof r.messageId === 'string' && r.messageId.length > 0)
        .map<Work>((record) => ({ record, receiveCount: Number(record.attributes?.ApproximateReceiveCount) || 1, maxAttempts: this.deps.config.maxAttempts, attempts: 0, ran: false }));
      const run = new Invocation(this.deps, this.claimPolicy, this.ttl, works, context, metrics, records[0]?.eventSourceARN);
      const failed = await run.execute();
      return { batchItemFailures: [...failed].filter((id) => ids.has(id)).map((itemIdentifier) => ({ itemIdentifier })) };
    } catch (error) {
      // A bug, not a record's problem: fail the whole batch safely (idempotency absorbs the re-runs).
      this.deps.logger.error('batch processing failed unexpectedly; reporting every record as failed', { error: errorText(error) });
      return { batchItemFailures: [...ids].map((itemIdentifier) => ({ itemIdentifier })) };
    } finally {
      try {
        this.deps.metrics.flush(this.deps.config.metricsNamespace, metrics.byTaskType, this.deps.clock.now());
      } catch (error) {
        this.deps.logger.warn('metrics flush failed', { error: errorText(error) });
      }
    }
  }
}

/** One invocation's state. */
class Invocation {
  private readonly fifo: boolean;
  private readonly queueUrl: string | undefined;
  private readonly cfg: ResolvedConfig;
  private readonly log: RuntimeLogger;

  constructor(
    private readonly deps: ProcessorDeps,
    private readonly claimPolicy: ClaimPolicy,
    private readonly ttl: number,
    private readonly works: Work[],
    private readonly context: Pick<Context, 'getRemainingTimeInMillis'>,
    private readonly metrics: MetricsCollector,
    eventSourceArn: string | undefined,
  ) {
    this.cfg = deps.config;
    this.log = deps.logger;
    this.fifo = this.cfg.fifo ?? (typeof eventSourceArn === 'string' && eventSourceArn.endsWith('.fifo'));
    this.queueUrl = this.cfg.queueUrl ?? (eventSourceArn ? queueUrlFromArn(eventSourceArn) : undefined);
  }

  /** Milliseconds this invocation may still start work in. */
  private timeLeft(): number {
    return this.context.getRemainingTimeInMillis() - this.cfg.deadlineMarginMs;
  }

  async execute(): Promise<Set<string>> {
    if (this.timeLeft() <= 0) {
      for (const w of this.works) w.outcome = { kind: 'notStarted' };
    } else {
      await this.parse();
      this.route();
      await this.acquire();
      if (this.fifo) {
        let stopped = false;
        for (const w of this.works) {
          if (stopped) {
            if (!w.outcome || w.outcome.kind !== 'notStarted') w.outcome = { kind: 'notStarted' };
            continue;
          }
          await this.settle(w);
          if (isFailure(w)) stopped = true;
        }
      } else {
        await pool(this.works, this.cfg.concurrency, (w) => this.settle(w));
      }
    }
    // Records that never reached settle() (no time left, or behind a FIFO failure) use a receive too.
    await pool(
      this.works.filter((w) => !w.settled),
      this.cfg.concurrency,
      async (w) => {
        if (this.spendLastReceive(w)) await this.deadLetter(w, w.outcome as Extract<Outcome, { kind: 'deadLetter' }>);
      },
    );
    await this.finish();
    const failed = new Set<string>();
    for (const w of this.works) if (isFailure(w)) failed.add(w.record.messageId);
    return failed;
  }

  // ── 1. parse ────────────────────────────────────────────────────────────────────────
  private async parse(): Promise<void> {
    const pointers: Work[] = [];
    for (const w of this.works) {
      try {
        const parsed = parseBody(w.record);
        if (parsed.kind === 'envelope') this.adopt(w, parsed.envelope);
        else pointers.push(w);
      } catch (error) {
        this.poison(w, error);
      }
    }
    if (pointers.length === 0) return;
    // An Extended Client pointer's envelope (and so its key) is only in S3: fetched before any idempotency check.
    await pool(pointers, this.cfg.concurrency, async (w) => {
      try {
        const parsed = parseBody(w.record);
        if (parsed.kind !== 'pointer') return;
        const text = await fetchClaim(this.deps.clients, parsed.pointer, this.claimPolicy);
        this.adopt(w, decodeEnvelope(text));
      } catch (error) {
        if (error instanceof RetryableError) {
          w.outcome = { kind: 'redelay', seconds: backoffSeconds(w.receiveCount, this.cfg.backoff, this.deps.random), why: errorText(error) };
        } else this.poison(w, error);
      }
    });
  }

  private adopt(w: Work, envelope: TaskEnvelope): void {
    w.envelope = envelope;
    w.key = idempotencyKeyOf(envelope);
    const def = Object.hasOwn(this.deps.tasks, envelope.type) ? this.deps.tasks[envelope.type] : undefined;
    if (def) {
      w.def = def;
      w.mode = def.idempotency ?? 'lease';
      w.maxAttempts = def.maxAttempts ?? this.cfg.maxAttempts;
    }
  }

  private poison(w: Work, error: unknown): void {
    const reason: DeadLetterReason = error instanceof PermanentError ? error.reason : 'invalid-envelope';
    w.outcome = { kind: 'deadLetter', reason, error: errorText(error) };
  }

  // ── 2. route ────────────────────────────────────────────────────────────────────────
  private route(): void {
    const now = this.deps.clock.now();
    const seen = new Set<string>();
    for (const w of this.works) {
      if (w.outcome || !w.envelope) continue;
      if (!w.def) {
        w.outcome = { kind: 'deadLetter', reason: 'unknown-type', error: `no handler is registered for task type ${JSON.stringify(w.envelope.type)}` };
        continue;
      }
      if (w.envelope.notBefore !== undefined) {
        const due = Date.parse(w.envelope.notBefore);
        if (due > now) {
          const seconds = (due - now) / 1000;
          // Each visibility hop is a receive, and the redrive policy moves a message whose receive count passes
          // maxReceiveCount: hop by visibility (≤ 12 h) while the count is low, else re-send a fresh copy (count 0).
          w.outcome =
            this.fifo || w.receiveCount < this.cfg.redelayReceiveBudget
              ? { kind: 'redelay', seconds: clampVisibility(seconds), why: 'not due yet (notBefore)' }
              : { kind: 'resend', seconds };
          continue;
        }
      }
      if (w.mode !== 'off') {
        if (seen.has(w.key!)) {
          // Another record of this batch carries the same task: let it finish first.
          w.outcome = { kind: 'redelay', seconds: clampVisibility((this.context.getRemainingTimeInMillis() + this.cfg.leaseMarginMs) / 1000), why: 'duplicate in the same batch' };
          continue;
        }
        seen.add(w.key!);
      }
    }
  }

  // ── 3. acquire ──────────────────────────────────────────────────────────────────────
  private async acquire(): Promise<void> {
    const leaseWorks: Work[] = [];
    const recordWorks: Work[] = [];
    for (const w of this.works) {
      if (w.outcome || !w.def) continue;
      if (w.mode === 'off') {
        w.attempts = w.receiveCount;
        if (w.attempts > w.maxAttempts) this.exhausted(w);
      } else if (!this.deps.store) {
        w.outcome = { kind: 'redelay', seconds: backoffSeconds(w.receiveCount, this.cfg.backoff, this.deps.random), why: 'no task table is configured (TASKQ_TABLE_NAME)' };
      } else if (w.mode === 'record') recordWorks.push(w);
      else leaseWorks.push(w);
    }
    await Promise.all([this.acquireLeases(leaseWorks), this.readRecords(recordWorks)]);
  }

  /**
   * First deliveries whose INSERT found an item: mostly producer re-sends of a finished task.
   * One consistent BatchGetItem (1 read unit each) tells duplicates, leftovers, conflicts and
   * live leases apart, where a second conditional write would cost a write unit (5× the
   * price) each; only the rest take the acquire path, whose condition still decides.
   */
  private async settleExisting(existing: Work[], single: Work[], now: number): Promise<void> {
    if (existing.length === 0) return;
    let items: Map<string, Item>;
    try {
      items = await this.deps.store!.getMany(existing.map((w) => w.key!));
    } catch {
      single.push(...existing);
      return;
    }
    for (const w of existing) {
      const item = items.get(w.key!);
      // Not a redrive (those skip the INSERT): a DEAD_LETTERED record makes this a leftover copy.
      if (this.answeredByRecord(w, item)) continue;
      const lease = numberOf(item, 'leaseUntil');
      if (lease !== undefined && lease >= now) {
        w.outcome = { kind: 'redelay', seconds: clampVisibility((lease - now) / 1000 + 1), why: 'another copy holds the lease' };
      } else single.push(w);
    }
  }

  /**
   * Settles a copy whose record already answers for it: the key belongs to another task type,
   * the task SUCCEEDED, or it was dead-lettered and this copy is no redrive (a leftover).
   */
  private answeredByRecord(w: Work, item: Item | undefined): boolean {
    const type = stringOf(item, 'type');
    if (type !== undefined && type !== w.envelope!.type) {
      this.keyConflict(w, type);
      return true;
    }
    const status = stringOf(item, 'status');
    if (status === 'SUCCEEDED') w.outcome = { kind: 'duplicate', of: 'SUCCEEDED' };
    else if (status === 'DEAD_LETTERED' && !isRedrive(w.record)) w.outcome = { kind: 'duplicate', of: 'DEAD_LETTERED' };
    else return false;
    return true;
  }

  private exhausted(w: Work): void {
    w.outcome = { kind: 'deadLetter', reason: 'attempts-exhausted', error: `attempts exhausted (${w.attempts - 1} of ${w.maxAttempts} used)` };
  }

  private async acquireLeases(works: Work[]): Promise<void> {
    if (works.length === 0) return;
    const store = this.deps.store!;
    const now = this.deps.clock.now();
    // The lease covers the whole invocation: completions are written at its end, in one batch.
    const leaseUntil = now + Math.min(this.context.getRemainingTimeInMillis(), this.cfg.visibilityTimeoutSeconds * 1000) + this.cfg.leaseMarginMs;
    const nowIso = new Date(now).toISOString();
    const expiresAt = Math.floor(now / 1000) + this.ttl;
    const request = (w: Work): AcquireRequest => ({
      key: w.key!,
      taskId: w.envelope!.id,
      type: w.envelope!.type,
      createdAt: w.envelope!.createdAt,
      leaseUntil,
      nowMs: now,
      nowIso,
      expiresAt,
      redrive: isRedrive(w.record),
    });
    // A redrive may find its record DEAD_LETTERED: the single-item path resets it.
    const fresh = works.filter((w) => w.receiveCount === 1 && !isRedrive(w.record));
    const single = works.filter((w) => !(w.receiveCount === 1 && !isRedrive(w.record)));
    const inserted = await store.insertMany(fresh.map(request));
    const existing: Work[] = [];
    fresh.forEach((w, i) => {
      const r = inserted[i]!;
      if (r === 'acquired') {
        w.attempts = 1;
        w.lease = { leaseUntil, previous: undefined };
      } else if (r === 'exists') existing.push(w);
      else this.tableUnavailable(w, r.error);
    });
    await this.settleExisting(existing, single, now);
    await pool(single, this.cfg.concurrency, async (w) => {
      const r = await store.acquire(request(w));
      switch (r.kind) {
        case 'acquired':
          w.attempts = r.attempts;
          w.lease = { leaseUntil, previous: r.previous };
          if (r.previousLeaseExpired) {
            this.log.warn('previous run of this task lost its lease (crash or timeout): counted as a failed attempt', this.fields(w));
          }
          if (w.attempts > w.maxAttempts) this.exhausted(w);
          return;
        case 'succeeded':
          w.outcome = { kind: 'duplicate', of: 'SUCCEEDED' };
          return;
        case 'deadLettered':
          w.outcome = { kind: 'duplicate', of: 'DEAD_LETTERED' };
          return;
        case 'leased':
          w.outcome = { kind: 'redelay', seconds: clampVisibility((r.leaseUntil - this.deps.clock.now()) / 1000 + 1), why: 'another copy holds the lease' };
          return;
        case 'conflict':
          this.keyConflict(w, r.existingType);
          return;
        default:
          this.tableUnavailable(w, r.error);
      }
    });
  }

  /** The key's record belongs to another task type: dead-letter, leaving that record alone. */
  private keyConflict(w: Work, existingType: string): void {
    w.outcome = {
      kind: 'deadLetter',
      reason: 'idempotency-key-conflict',
      error: `idempotency key already used by a task of type ${existingType}`,
    };
  }

  private tableUnavailable(w: Work, error: unknown): void {
    this.log.warn('task table unavailable; message re-delayed without counting an attempt', { ...this.fields(w), error: errorText(error) });
    w.outcome = { kind: 'redelay', seconds: backoffSeconds(1, this.cfg.backoff, this.deps.random), why: 'task table unavailable' };
  }

  private async readRecords(works: Work[]): Promise<void> {
    if (works.length === 0) return;
    let items: Map<string, Item>;
    try {
      items = await this.deps.store!.getMany(works.map((w) => w.key!));
    } catch (error) {
      for (const w of works) this.tableUnavailable(w, error);
      return;
    }
    for (const w of works) {
      const item = items.get(w.key!);
      if (this.answeredByRecord(w, item)) continue;
      // A redrive of a dead-lettered task starts with fresh attempts.
      w.attempts = stringOf(item, 'status') === 'DEAD_LETTERED' ? 1 : (numberOf(item, 'attempts') ?? 0) + 1;
      if (w.attempts > w.maxAttempts) this.exhausted(w);
    }
  }

  // ── 4. run ──────────────────────────────────────────────────────────────────────────
  private async settle(w: Work): Promise<void> {
    w.settled = true;
    try {
      if (!w.outcome) {
        if (this.timeLeft() <= 0) w.outcome = { kind: 'notStarted' };
        else w.outcome = await this.run(w);
      }
      this.spendLastReceive(w);
      if (w.outcome.kind === 'deadLetter') await this.deadLetter(w, w.outcome);
    } catch (error) {
      this.log.error('unexpected error while settling a record', { ...this.fields(w), error: errorText(error) });
      w.outcome = { kind: 'retry', seconds: backoffSeconds(Math.max(1, w.attempts), this.cfg.backoff, this.deps.random), error: errorText(error) };
    }
  }

  private async run(w: Work): Promise<Outcome> {
    const def = w.def!;
    const envelope = w.envelope!;
    w.ran = true;
    const started = performance.now();
    try {
      let payload: unknown = envelope.payload;
      if (envelope.payloadRef) {
        const text = await fetchClaim(this.deps.clients, envelope.payloadRef, this.claimPolicy);
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
      const result = await this.invoke(w, def, payload);
      w.durationMs = performance.now() - started;
      return { kind: 'succeeded', result };
    } catch (error) {
      w.durationMs = performance.now() - started;
      if (error instanceof PoisonMessageError && error.reason === 'claim-missing' && w.mode === 'record' && envelope.payloadRef) {
        const settled = await this.claimGoneBecauseSucceeded(w);
        if (settled) return settled;
      }
      if (error instanceof PermanentError) return { kind: 'deadLetter', reason: error.reason, error: errorText(error) };
      if (w.attempts >= w.maxAttempts) {
        return { kind: 'deadLetter', reason: 'attempts-exhausted', error: errorText(error) };
      }
      const seconds =
        error instanceof RetryableError && error.retryAfterSeconds !== undefined
          ? clampVisibility(error.retryAfterSeconds)
          : backoffSeconds(w.attempts, this.cfg.backoff, this.deps.random);
      return { kind: 'retry', seconds, error: errorText(error) };
    }
  }

  /**
   * Record mode lets two copies run at once: one may succeed and delete the claim object while
   * the other is about to fetch it. The object is deleted only after the SUCCEEDED write was
   * acknowledged, so a consistent read now tells a vanished object of a finished task (a
   * duplicate, acknowledged) from a really missing one (dead-lettered, claim-missing).
   */
  private async claimGoneBecauseSucceeded(w: Work): Promise<Outcome | undefined> {
    let status: string | undefined;
    try {
      status = stringOf((await this.deps.store!.getMany([w.key!])).get(w.key!), 'status');
    } catch (error) {
      w.ran = false;
      this.tableUnavailable(w, error);
      return w.outcome;
    }
    if (status !== 'SUCCEEDED') return undefined;
    w.ran = false;
    return { kind: 'duplicate', of: 'SUCCEEDED' };
  }

  private async invoke(w: Work, def: TaskDefinition, payload: unknown): Promise<unknown> {
    const envelope = w.envelope!;
    const left = this.timeLeft();
    const limit = def.timeoutMs !== undefined ? Math.min(def.timeoutMs, left) : left;
    const controller = new AbortController();
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
      logger: this.log,
    };
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const error = new HandlerTimeout(
          def.timeoutMs !== undefined && def.timeoutMs <= left ? `handler timed out after ${def.timeoutMs} ms` : 'handler stopped at the invocation deadline',
        );
        controller.abort(error);
        reject(error);
      }, Math.max(0, limit));
    });
    try {
      return await Promise.race([Promise.resolve().then(() => def.handler(payload, context)), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** True when this record would go back to the queue and SQS's redrive policy would move it on its next receive. */
  private onLastReceive(w: Work): boolean {
    const max = this.cfg.maxReceiveCount;
    return max !== undefined && w.receiveCount >= max && w.outcome !== undefined && FAILURE_KINDS.has(w.outcome.kind);
  }

  /**
   * A record on its last receive that cannot be re-sent as a fresh copy — on a FIFO queue, or
   * a retry of idempotency 'off' — is dead-lettered here, with a reason, instead of being moved
   * by the redrive policy without one. Returns true when the outcome became a dead letter.
   */
  private spendLastReceive(w: Work): boolean {
    if (!this.onLastReceive(w)) return false;
    const o = w.outcome!;
    if (!this.fifo && !(w.mode === 'off' && o.kind === 'retry')) return false; // re-sent in finishQueue()
    const budget = `receive budget exhausted (ApproximateReceiveCount ${w.receiveCount} of the redrive policy's maxReceiveCount ${this.cfg.maxReceiveCount})`;
    const detail =
      o.kind === 'retry' ? `after attempt ${w.attempts} of ${w.maxAttempts}: ${o.error}` : o.kind === 'redelay' ? `while re-delayed: ${o.why}` : 'while not started before the invocation deadline';
    w.outcome = { kind: 'deadLetter', reason: 'attempts-exhausted', error: truncateErrorText(`${budget} ${detail}`) };
    return true;
  }

  private async deadLetter(w: Work, outcome: Extract<Outcome, { kind: 'deadLetter' }>): Promise<void> {
    try {
      await this.deps.sqs.deadLetter(
        this.cfg.deadLetterQueueUrl,
        w.record,
        {
          reason: outcome.reason,
          attempts: this.executions(w),
          lastError: outcome.error,
          taskType: w.envelope?.type,
          deadLetteredAt: new Date(this.deps.clock.now()).toISOString(),
        },
        this.fifo,
      );
    } catch (error) {
      w.dlqFailed = true;
      this.log.error('dead-letter send failed; the message stays on the queue (redrive policy is the safety net)', {
        ...this.fields(w),
        reason: outcome.reason,
        error: errorText(error),
      });
    }
  }

  /** Handler executions so far, as the table counts them. */
  private executions(w: Work): number {
    return w.ran || w.mode === 'off' ? w.attempts : Math.max(0, w.attempts - 1);
  }

  // ── 5. finish ───────────────────────────────────────────────────────────────────────
  private async finish(): Promise<void> {
    const now = this.deps.clock.now();
    const nowIso = new Date(now).toISOString();
    const expiresAt = Math.floor(now / 1000) + this.ttl;
    const batch: { key: string; put?: Item }[] = [];
    const careful: { w: Work; item: Item }[] = [];
    /** `record` mode's RETRYING / DEAD_LETTERED writes: conditional, one call each (the rare path). */
    const unlessSucceeded: { w: Work; item: Item }[] = [];
    /** SUCCEEDED tasks whose claim object goes once their completion write is acknowledged. */
    const claimsInBatch: Work[] = [];
    const claimsAcked: Work[] = [];
    const marks: Item[] = [];
    const safeUntil = now + 1000;

    for (const w of this.works) {
      const o = w.outcome;
      if (!o) continue;
      this.report(w, o);
      if (!w.envelope || !w.key || w.mode === 'off') continue;
      if (!w.def) {
        if (o.kind === 'deadLetter' && !w.dlqFailed && this.deps.store) marks.push(this.item(w, 'DEAD_LETTERED', nowIso, expiresAt, o));
        continue;
      }
      if (w.mode === 'lease' && !w.lease) continue;
      if (w.mode === 'record' && w.attempts === 0) continue;
      let write: { key: string; put?: Item } | undefined;
      if (o.kind === 'succeeded') write = { key: w.key, put: this.item(w, 'SUCCEEDED', nowIso, expiresAt, o) };
      else if (o.kind === 'retry') write = { key: w.key, put: this.item(w, 'RETRYING', nowIso, expiresAt, o, now + o.seconds * 1000) };
      else if (o.kind === 'deadLetter' && !w.dlqFailed) write = { key: w.key, put: this.item(w, 'DEAD_LETTERED', nowIso, expiresAt, o) };
      else if (o.kind === 'deadLetter' && w.ran) write = { key: w.key, put: this.item(w, 'RETRYING', nowIso, expiresAt, { kind: 'retry', seconds: 0, error: o.error }) };
      else if (w.lease) write = { key: w.key, ...(w.lease.previous ? { put: w.lease.previous } : {}) }; // release: as before the acquire
      if (!write) continue;
      if (w.mode === 'record' && o.kind !== 'succeeded') {
        if (write.put) unlessSucceeded.push({ w, item: write.put });
        continue;
      }
      if (w.lease && w.lease.leaseUntil < safeUntil) {
        // The lease ran out (an overrun, or clocks apart): another copy may hold the task now.
        if (write.put) careful.push({ w, item: write.put });
      } else {
        batch.push(write);
        if (this.deletableClaim(w)) claimsInBatch.push(w);
      }
    }

    const store = this.deps.store;
    const tableWrites: Promise<void>[] = [];
    if (store && batch.length > 0) {
      tableWrites.push(
        store.writeMany(batch, () => this.context.getRemainingTimeInMillis() > 500).then((failed) => {
          for (const key of failed) this.log.error('task record write failed after retries', { idempotencyKey: key });
          for (const w of claimsInBatch) if (!failed.has(w.key!)) claimsAcked.push(w);
        }),
      );
    }
    for (const { w, item } of careful) {
      tableWrites.push(
        store!.putIfStillMine(item, w.lease!.leaseUntil, w.attempts).then(
          (r) => {
            if (r === 'lost') this.log.warn('lease expired before completion and another copy took over; completion not recorded', this.fields(w));
            else if (this.deletableClaim(w)) claimsAcked.push(w);
          },
          (error) => this.log.error('task record write failed', { ...this.fields(w), error: errorText(error) }),
        ),
      );
    }
    for (const { w, item } of unlessSucceeded) {
      tableWrites.push(
        store!.putUnlessSucceeded(item).then(
          (r) => {
            if (r === 'succeeded') this.log.info('a concurrent copy already succeeded; failure not recorded over it', this.fields(w));
          },
          (error) => this.log.error('task record write failed', { ...this.fields(w), error: errorText(error) }),
        ),
      );
    }
        for (const item of marks) {
      tableWrites.push(store!.markDeadLettered(item, now).then(() => undefined, (error) => this.log.warn('could not record DEAD_LETTERED', { error: errorText(error) })));
    }
    await Promise.all(tableWrites);
    await Promise.all([this.finishQueue(), this.deleteClaimObjects(claimsAcked)]);
  }

  /**
   * A SUCCEEDED task's claim object may go: lease mode (any later copy finds SUCCEEDED at the
   * acquire, before any fetch) and record mode (likewise at the read; a concurrent copy that
   * finds the object gone checks the record: claimGoneBecauseSucceeded). Never 'off' (duplicates
   * are not detected), never Extended Client pointers (their key is only in the object, so a
   * duplicate must fetch it first — run() only sees our payloadRef), and only a pointer stating
   * size and sha256, both verified by the fetch (a forged pointer cannot name another task's object).
   */
  private deletableClaim(w: Work): boolean {
    const ref = w.envelope?.payloadRef;
    return (
      this.cfg.deleteClaimsAfterSuccess &&
      w.outcome?.kind === 'succeeded' &&
      w.ran &&
      (w.mode === 'lease' || w.mode === 'record') &&
      ref !== undefined &&
      ref.size !== undefined &&
      ref.sha256 !== undefined
    );
  }

  /** One DeleteObjects for the batch; a failure is logged, never fails a record (the lifecycle rule is the fallback). */
  private async deleteClaimObjects(works: readonly Work[]): Promise<void> {
    const bucket = this.claimPolicy.bucketName;
    if (works.length === 0 || !bucket) return;
    const failed = await deleteClaims(this.deps.clients, bucket, works.map((w) => w.envelope!.payloadRef!.key));
    for (const f of failed) {
      this.log.warn('claim-check object not deleted after success; the bucket lifecycle rule will expire it', { bucket, key: f.key, error: f.error });
    }
  }

  private async finishQueue(): Promise<void> {
    const visibility: { receiptHandle: string; seconds: number }[] = [];
    const resends: Work[] = [];
    /** Going back on their last receive: re-sent as fresh copies (standard queues; see spendLastReceive for the rest). */
    const lastReceives: Work[] = [];
    for (const w of this.works) {
      const o = w.outcome;
      if (o?.kind === 'resend') resends.push(w);
      else if (this.onLastReceive(w)) lastReceives.push(w);
      else if (o?.kind === 'retry' || o?.kind === 'redelay') visibility.push({ receiptHandle: w.record.receiptHandle, seconds: o.seconds });
    }
    if (!this.queueUrl) {
      if (visibility.length + resends.length + lastReceives.length > 0) {
        this.log.warn('no queue URL: visibility changes and re-sends skipped (messages return after the visibility timeout)');
      }
      for (const w of resends) w.outcome = { kind: 'redelay', seconds: 0, why: 'no queue URL' };
      return;
    }
    const queueUrl = this.queueUrl;
    await Promise.all([
      ...resends.map(async (w) => {
        const o = w.outcome as Extract<Outcome, { kind: 'resend' }>;
        try {
          await this.deps.sqs.resendDelayed(queueUrl, w.record, o.seconds);
        } catch (error) {
          this.log.warn('delayed re-send failed; re-delaying by visibility instead', { ...this.fields(w), error: errorText(error) });
          w.outcome = { kind: 'redelay', seconds: clampVisibility(o.seconds), why: 're-send failed' };
          visibility.push({ receiptHandle: w.record.receiptHandle, seconds: clampVisibility(o.seconds) });
        }
      }),
      ...lastReceives.map(async (w) => {
        const o = w.outcome as Extract<Outcome, { kind: 'retry' | 'redelay' | 'notStarted' }>;
        const seconds = o.kind === 'notStarted' ? 0 : o.seconds;
        const fields = { ...this.fields(w), receiveCount: w.receiveCount, maxReceiveCount: this.cfg.maxReceiveCount };
        try {
          await this.deps.sqs.resendDelayed(queueUrl, w.record, seconds);
          w.resent = true;
          this.log.info('last receive before the redrive policy would move it: re-sent as a fresh copy', { ...fields, delaySeconds: Math.min(900, Math.ceil(seconds)) });
        } catch (error) {
          // Reported as a failure: the redrive policy stays the safety net.
          this.log.warn('re-send on the last receive failed; returned to the queue (the redrive policy may move it to the DLQ)', { ...fields, error: errorText(error) });
          if (o.kind !== 'notStarted') visibility.push({ receiptHandle: w.record.receiptHandle, seconds: o.seconds });
        }
      }),
    ]);
    try {
      const failed = await this.deps.sqs.changeVisibility(queueUrl, visibility);
      if (failed > 0) this.log.warn('some visibility changes failed; those messages return after the queue visibility timeout', { failed });
    } catch (error) {
      this.log.warn('visibility changes failed', { error: errorText(error) });
    }
  }

  private item(w: Work, status: 'SUCCEEDED' | 'RETRYING' | 'DEAD_LETTERED', nowIso: string, expiresAt: number, o: Outcome, nextAttemptAt?: number): Item {
    const e = w.envelope!;
    const item: Item = {
      pk: S(w.key!),
      taskId: S(e.id),
      type: S(e.type),
      status: S(status),
      attempts: N(this.executions(w)),
      createdAt: S(e.createdAt),
      updatedAt: S(nowIso),
      expiresAt: N(expiresAt),
    };
    if (o.kind === 'succeeded' && o.result !== undefined) {
      const json = JSON.stringify(o.result);
      if (json !== undefined) {
        if (json.length * 3 <= MAX_RESULT_BYTES || Buffer.byteLength(json) <= MAX_RESULT_BYTES) item.result = S(json);
        else item.resultTruncated = { BOOL: true };
      }
    } else if (o.kind === 'retry') {
      item.lastError = S(o.error);
      if (nextAttemptAt !== undefined) item.nextAttemptAt = S(new Date(nextAttemptAt).toISOString());
    } else if (o.kind === 'deadLetter') {
      item.lastError = S(o.error);
      item.deadLetterReason = S(o.reason);
    }
    return item;
  }

  // ── logs and metrics ────────────────────────────────────────────────────────────────
  private fields(w: Work): Record<string, unknown> {
    return {
      taskId: w.envelope?.id,
      taskType: w.envelope?.type,
      attempt: w.attempts || undefined,
      messageId: w.record.messageId,
    };
  }

  private report(w: Work, o: Outcome): void {
    const type = w.def ? w.envelope!.type : UNKNOWN_TASK_TYPE;
    const m = this.metrics.of(type);
    if (w.ran && w.durationMs !== undefined) m.handlerDuration.push(Math.round(w.durationMs * 1000) / 1000);
    switch (o.kind) {
      case 'succeeded': {
        m.processed++;
        const created = Date.parse(w.envelope!.createdAt);
        if (!Number.isNaN(created)) m.endToEndLatency.push(Math.max(0, this.deps.clock.now() - created));
        this.log.info('task succeeded', { ...this.fields(w), durationMs: w.durationMs });
        return;
      }
      case 'duplicate':
        m.duplicatesSkipped++;
        this.log.info(
          o.of === 'SUCCEEDED' ? 'duplicate skipped: task already succeeded' : 'leftover copy skipped: task already dead-lettered (only a redrive runs it again)',
          this.fields(w),
        );
        return;
      case 'retry':
        m.failed++;
        m.retried++;
        this.log.warn('task failed; retry scheduled', { ...this.fields(w), error: o.error, retryInSeconds: o.seconds });
        return;
      case 'deadLetter':
        if (w.ran) m.failed++;
        if (w.dlqFailed) return;
        m.deadLettered++;
        this.log.error('task dead-lettered', { ...this.fields(w), reason: o.reason, attempts: this.executions(w), error: o.reason === 'malformed-json' ? undefined : o.error });
        return;
      case 'redelay':
        this.log.info('task re-delayed without counting an attempt', { ...this.fields(w), why: o.why, delaySeconds: o.seconds });
        return;
      case 'resend':
        this.log.info('task not due yet: re-sent with a delay', { ...this.fields(w), delaySeconds: Math.min(900, Math.ceil(o.seconds)) });
        return;
      case 'notStarted':
        this.log.warn('task not started before the invocation deadline; returned without counting an attempt', this.fields(w));
        return;
    }
  }
}
