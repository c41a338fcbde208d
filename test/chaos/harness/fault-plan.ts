/**
 * The seeded fault schedule: what each task does on each execution, which invocations
 * crash, hang or have a record re-delivered under them, which SDK requests get an error
 * response, and the tally of every fault actually injected (a fault is counted when it
 * happens, not when it is planned).
 */
import { rng, type Rng } from './prng.ts';
import type { WireFault } from '../../support/wire-faults.ts';
import { dynamoKeys, type ChaosFaults } from './fault-middleware.ts';

export type FaultKind =
  | 'exception'
  | 'timeout'
  | 'functionTimeout'
  | 'crash'
  | 'duplicate'
  | 'redelivery'
  | 'dynamoThrottle'
  | 's3Error'
  | 'burst'
  | 'lostResponse'
  | 'itemThrottle'
  | 'tableDenied'
  | 's3Denied'
  | 'redrive'
  | 'redriveTwice'
  | 'moveTwoCopies'
  | 'sharedClaim'
  | 'extendedClient'
  | 'cancel';

export const FAULT_KINDS: readonly FaultKind[] = [
  'exception',
  'timeout',
  'functionTimeout',
  'crash',
  'duplicate',
  'redelivery',
  'dynamoThrottle',
  's3Error',
  'burst',
  'lostResponse',
  'itemThrottle',
  'tableDenied',
  's3Denied',
  'redrive',
  'redriveTwice',
  'moveTwoCopies',
  'sharedClaim',
  'extendedClient',
  'cancel',
];

/**
 * Every write the runtime makes, by what it is for: a lost response is injected on each of them
 * (forced on an early occurrence of each, so even a short run covers them all).
 */
export const WRITE_TARGETS = [
  'BatchExecuteStatement',
  'UpdateItem:acquire',
  'UpdateItem:redrive',
  'BatchWriteItem',
  'PutItem',
  'SendMessage:dlq',
  'SendMessage:source',
  'ChangeMessageVisibilityBatch',
  'DeleteObjects',
] as const;
export type WriteTarget = (typeof WRITE_TARGETS)[number];

export type FaultCounts = Record<FaultKind, number>;

/** How one task behaves. Executions are the handler's own entries for the task, crashed runs included. */
export interface TaskPlan {
  readonly index: number;
  /** clean: succeeds; flaky: throws `failures` times first; slow: overruns its timeout `timeouts` times first; poison: always throws; permanent: throws PermanentError. */
  readonly kind: 'clean' | 'flaky' | 'slow' | 'poison' | 'permanent';
  readonly timeouts: number;
  readonly failures: number;
  /** Travels by claim check (payload in S3). */
  readonly claim: boolean;
  /** Consecutive S3 GetObject error responses for its claim object before reads succeed (0–4; the SDK makes 3 tries per call). */
  readonly s3Failures: number;
  /** Producer re-sends of the same task (same id and idempotency key): in the burst, or later. */
  readonly burstDuplicates: number;
  readonly lateDuplicates: number;
  /** Milliseconds of simulated work. */
  readonly workMs: number;
  /**
   * Who sent it: our TaskProducer ('sdk'); a third-party producer that uploaded one claim object
   * and sent it as several tasks, without `exclusive` ('shared', with the tasks of its `sharedWith`
   * group); or one using the AWS SQS Extended Client format ('extended', in `pointerStyle`).
   */
  readonly producer: 'sdk' | 'shared' | 'extended';
  readonly pointerStyle: 'java' | 'legacy' | 'python';
  /** Every task-table request naming its key is refused (AccessDenied / KMS) until it is fixed. */
  readonly tableDenied: boolean;
  /** Every GetObject of its claim object is refused (AccessDenied / KMS) until it is fixed. */
  readonly s3Denied: boolean;
  /** Its INSERT is refused once by a per-statement throttling error, and its completion's BatchWriteItem items for longer than every retry budget. */
  readonly itemThrottle: boolean;
  /**
   * What the operator does once it is in the DLQ: nothing; 'fix' the cause (a poison or
   * permanent handler bug, a table or object permission) and redrive it; or redrive it
   * unfixed ('again': it must be dead-lettered again, once).
   */
  readonly redrive: 'none' | 'fix' | 'again';
  /** 'cli': as `taskq dlq redrive` (redriveAttributes); 'move': as StartMessageMoveTask (attributes kept). */
  readonly redriveStyle: 'cli' | 'move';
  /** The redriven copy arrives twice (cli: an SQS second delivery; move: the move task carries two copies). */
  readonly redriveTwice: boolean;
  /** FIFO runs: its message group. */
  readonly group: number;
  /** The producer cancels it right after the burst (when cancellable()). */
  readonly cancel: boolean;
}

/**
 * A task the harness cancels: one our producer sent, whose only injected causes are transient
 * (a cancel of a task that could end in the DLQ would make its end state a race to judge).
 */
export function cancellable(p: TaskPlan): boolean {
  return p.cancel && p.producer === 'sdk' && (p.kind === 'clean' || p.kind === 'flaky' || p.kind === 'slow') && !p.tableDenied && !p.s3Denied && p.redrive === 'none';
}

export interface ChaosRates {
  readonly poison: number;
  readonly permanent: number;
  readonly flaky: number;
  readonly slow: number;
  readonly claim: number;
  readonly s3Faulty: number;
  readonly burstDuplicate: number;
  readonly lateDuplicate: number;
  /** Per invocation. */
  readonly crash: number;
  readonly hang: number;
  readonly redelivery: number;
  /** Per DynamoDB request outside storms. */
  readonly dynamoThrottle: number;
  /** Storms: every runtime DynamoDB request fails for `stormMs`, one starting every `stormEveryMs` (± half). */
  readonly stormMs: number;
  readonly stormEveryMs: number;
  readonly firstStormAtMs: number;
  /** Per write request (WRITE_TARGETS): applied, and its response lost. */
  readonly lostResponse: number;
  readonly itemThrottle: number;
  /** Item throttling of a key's completion writes lasts this long from its first completion write. */
  readonly itemThrottleMs: number;
  readonly tableDenied: number;
  /** Of the tasks whose payload is in S3. */
  readonly s3Denied: number;
  readonly sharedClaim: number;
  readonly extendedClient: number;
  /** Of the tasks that end in the DLQ: fixed and redriven, or redriven unfixed. */
  readonly redriveFix: number;
  readonly redriveAgain: number;
  readonly redriveTwice: number;
  /** FIFO runs: message groups. */
  readonly groups: number;
  /** Tasks the producer cancels right after the burst (among the cancellable: see cancellable()). */
  readonly cancel: number;
}

export const DEFAULT_RATES: ChaosRates = {
  poison: 0.008,
  permanent: 0.002,
  flaky: 0.08,
  slow: 0.03,
  claim: 0.05,
  s3Faulty: 0.5,
  burstDuplicate: 0.03,
  lateDuplicate: 0.02,
  crash: 0.04,
  hang: 0.015,
  redelivery: 0.03,
  dynamoThrottle: 0.02,
  stormMs: 1500,
  stormEveryMs: 25_000,
  firstStormAtMs: 3000,
  lostResponse: 0.02,
  itemThrottle: 0.01,
  itemThrottleMs: 8000,
  tableDenied: 0.004,
  s3Denied: 0.1,
  sharedClaim: 0.02,
  extendedClient: 0.02,
  redriveFix: 0.5,
  redriveAgain: 0.25,
  redriveTwice: 0.5,
  groups: 8,
  cancel: 0.04,
};

export function planTasks(seed: number, n: number, rates: ChaosRates = DEFAULT_RATES): TaskPlan[] {
  const plans: TaskPlan[] = [];
  for (let index = 0; index < n; index++) {
    const r = rng(seed, `task:${index}`);
    const roll = r();
    let kind: TaskPlan['kind'] = 'clean';
    let edge = rates.poison;
    if (roll < edge) kind = 'poison';
    else if (roll < (edge += rates.permanent)) kind = 'permanent';
    else if (roll < (edge += rates.flaky)) kind = 'flaky';
    else if (roll < (edge += rates.slow)) kind = 'slow';
    const producerRoll = r();
    const producer: TaskPlan['producer'] = producerRoll < rates.sharedClaim ? 'shared' : producerRoll < rates.sharedClaim + rates.extendedClient ? 'extended' : 'sdk';
    const claim = producer === 'sdk' && r.chance(rates.claim);
    const inS3 = claim || producer !== 'sdk';
    const s3Denied = inS3 && producer !== 'shared' && (kind === 'clean' || kind === 'flaky') && r.chance(rates.s3Denied);
    const tableDenied = !s3Denied && (kind === 'clean' || kind === 'flaky') && r.chance(rates.tableDenied);
    const endsInDlq = kind === 'poison' || kind === 'permanent' || s3Denied || tableDenied;
    const redriveRoll = r();
    plans.push({
      index,
      kind,
      timeouts: kind === 'slow' ? 1 : 0,
      failures: kind === 'flaky' ? r.int(1, 2) : kind === 'slow' && r.chance(0.3) ? 1 : 0,
      claim,
      s3Failures: inS3 && producer !== 'shared' && !s3Denied && r.chance(rates.s3Faulty) ? r.int(1, 4) : 0,
      burstDuplicates: r.chance(rates.burstDuplicate) ? r.int(1, 2) : 0,
      lateDuplicates: r.chance(rates.lateDuplicate) ? 1 : 0,
      workMs: r.int(1, 20),
      producer,
      pointerStyle: r.pick(['java', 'legacy', 'python'] as const),
      tableDenied,
      s3Denied,
      itemThrottle: !tableDenied && r.chance(rates.itemThrottle),
      redrive: !endsInDlq ? 'none' : redriveRoll < rates.redriveFix ? 'fix' : kind === 'poison' && redriveRoll < rates.redriveFix + rates.redriveAgain ? 'again' : 'none',
      redriveStyle: r.chance(0.5) ? 'cli' : 'move',
      redriveTwice: r.chance(rates.redriveTwice),
      group: r.int(0, Math.max(1, rates.groups) - 1),
      cancel: r.chance(rates.cancel),
    });
  }
  // Small runs: make sure every behaviour occurs at least once (seeded, on distinct tasks).
  const r = rng(seed, 'guarantees');
  const used = new Set<number>();
  const ensure = (present: (p: TaskPlan) => boolean, make: (p: TaskPlan) => TaskPlan) => {
    if (n < 20 || plans.some(present)) return;
    let i = r.int(0, n - 1);
    while (used.has(i)) i = (i + 1) % n;
    used.add(i);
    plans[i] = make(plans[i]!);
  };
  const plain = { kind: 'clean' as const, timeouts: 0, failures: 0, s3Denied: false, tableDenied: false, redrive: 'none' as const };
  ensure((p) => p.kind === 'poison' && p.redrive === 'none', (p) => ({ ...p, ...plain, kind: 'poison' }));
  ensure((p) => p.kind === 'permanent', (p) => ({ ...p, ...plain, kind: 'permanent' }));
  ensure((p) => p.kind === 'flaky', (p) => ({ ...p, ...plain, kind: 'flaky', failures: 1 }));
  ensure((p) => p.kind === 'slow', (p) => ({ ...p, ...plain, kind: 'slow', timeouts: 1 }));
  ensure((p) => p.claim && p.s3Failures >= 3 && p.kind === 'clean', (p) => ({ ...p, ...plain, producer: 'sdk', claim: true, s3Failures: 3 }));
  ensure((p) => p.burstDuplicates > 0, (p) => ({ ...p, burstDuplicates: 1 }));
  ensure((p) => p.lateDuplicates > 0, (p) => ({ ...p, lateDuplicates: 1 }));
  ensure((p) => p.itemThrottle, (p) => ({ ...p, ...plain, itemThrottle: true }));
  // Third-party producers: a shared object sent as three tasks; Extended Client pointers in each style.
  ensure((p) => p.producer === 'shared', (p) => ({ ...p, ...plain, producer: 'shared', claim: false, s3Failures: 0 }));
  ensure((p) => p.producer === 'shared' && plans.filter((q) => q.producer === 'shared').length >= 3, (p) => ({ ...p, ...plain, producer: 'shared', claim: false, s3Failures: 0 }));
  ensure((p) => p.producer === 'shared' && plans.filter((q) => q.producer === 'shared').length >= 3, (p) => ({ ...p, ...plain, producer: 'shared', claim: false, s3Failures: 0 }));
  for (const style of ['java', 'legacy', 'python'] as const) {
    ensure((p) => p.producer === 'extended' && p.pointerStyle === style && !p.s3Denied, (p) => ({ ...p, ...plain, producer: 'extended', pointerStyle: style, claim: false, s3Failures: 0 }));
  }
  // Permission and KMS errors, fixed and redriven or left in the DLQ; redrives of each style, twice or once.
  ensure((p) => p.tableDenied && p.redrive === 'fix', (p) => ({ ...p, ...plain, tableDenied: true, itemThrottle: false, redrive: 'fix', redriveStyle: 'cli' }));
  ensure((p) => p.tableDenied && p.redrive === 'none', (p) => ({ ...p, ...plain, tableDenied: true, itemThrottle: false }));
  ensure((p) => p.s3Denied && p.producer === 'sdk' && p.redrive === 'fix', (p) => ({ ...p, ...plain, producer: 'sdk', claim: true, s3Failures: 0, s3Denied: true, redrive: 'fix', redriveStyle: 'move' }));
  ensure((p) => p.s3Denied && p.producer === 'extended', (p) => ({ ...p, ...plain, producer: 'extended', s3Failures: 0, s3Denied: true }));
  ensure((p) => p.kind === 'poison' && p.redrive === 'fix' && p.redriveStyle === 'cli' && p.redriveTwice, (p) => ({ ...p, ...plain, kind: 'poison', redrive: 'fix', redriveStyle: 'cli', redriveTwice: true }));
  ensure((p) => p.kind === 'poison' && p.redrive === 'fix' && p.redriveStyle === 'move' && p.redriveTwice, (p) => ({ ...p, ...plain, kind: 'poison', redrive: 'fix', redriveStyle: 'move', redriveTwice: true }));
  ensure((p) => p.kind === 'poison' && p.redrive === 'again' && p.redriveTwice, (p) => ({ ...p, ...plain, kind: 'poison', redrive: 'again', redriveStyle: 'cli', redriveTwice: true }));
  ensure((p) => p.kind === 'permanent' && p.redrive === 'fix', (p) => ({ ...p, ...plain, kind: 'permanent', redrive: 'fix', redriveStyle: 'move', redriveTwice: false }));
  // Cancelled tasks, one with duplicates in the burst and later (each copy must be acknowledged unrun).
  ensure(
    (p) => cancellable(p) && p.burstDuplicates > 0 && p.lateDuplicates > 0,
    (p) => ({ ...p, ...plain, producer: 'sdk', itemThrottle: false, cancel: true, burstDuplicates: 1, lateDuplicates: 1 }),
  );
  return plans;
}

/** What happens to one invocation. */
export interface InvocationFaults {
  /** Crash (the process dies) right after this many effects were applied in it. */
  readonly crashAfterEffects: number | undefined;
  /** Its completion write hangs on the network until the function times out. */
  readonly hangCompletion: boolean;
  /** Index (in the batch) of a record whose message is made visible again while it runs. */
  readonly redeliverRecord: number | undefined;
}

export class FaultSchedule implements ChaosFaults {
  readonly counts: FaultCounts = Object.fromEntries(FAULT_KINDS.map((k) => [k, 0])) as FaultCounts;
  /** Lost responses by the write they hit. */
  readonly lostByTarget: Record<WriteTarget, number> = Object.fromEntries(WRITE_TARGETS.map((t) => [t, 0])) as Record<WriteTarget, number>;
  private readonly seenByTarget: Record<WriteTarget, number> = Object.fromEntries(WRITE_TARGETS.map((t) => [t, 0])) as Record<WriteTarget, number>;
  private readonly invocationRng: Rng;
  private readonly dynamoRng: Rng;
  private readonly lostRng: Rng;
  private readonly storms: { from: number; to: number }[] = [];
  private readonly s3Failed = new Map<string, number>();
  /** Claim key → the task's planned S3 failures. */
  readonly claimFailures = new Map<string, number>();
  /** Idempotency keys whose every table request is refused (until fixed). */
  readonly deniedKeys = new Set<string>();
  /** Claim object keys whose every GetObject is refused (until fixed). */
  readonly deniedObjects = new Set<string>();
  /** Idempotency keys planned for item throttling → when their completions' throttling ends (set at the first). */
  readonly throttledKeys = new Map<string, number | undefined>();
  private readonly insertThrottled = new Set<string>();
  /** The DLQ's URL (SendMessage there is a dead-lettering). */
  deadLetterQueueUrl = '';
  private startedAt = 0;
  private invocations = 0;
  /** From the n-th invocation on, a crash / hang / re-delivery is forced until one happened, so every kind occurs even in a short run. */
  private readonly forced: { crash: number; hang: number; redelivery: number };

  constructor(
    readonly seed: number,
    readonly rates: ChaosRates,
    private readonly now: () => number = Date.now,
  ) {
    this.invocationRng = rng(seed, 'invocations');
    this.dynamoRng = rng(seed, 'dynamo');
    this.lostRng = rng(seed, 'lost-responses');
    const r = rng(seed, 'forced');
    const crash = r.int(2, 8);
    const hang = crash + r.int(1, 6);
    this.forced = { crash, hang, redelivery: r.int(1, 8) };
  }

  count(kind: FaultKind, n = 1): void {
    this.counts[kind] += n;
  }

  /** Starts the clock of the storm schedule. */
  start(horizonMs: number): void {
    this.startedAt = this.now();
    const r = rng(this.seed, 'storms');
    for (let at = this.rates.firstStormAtMs; at < horizonMs; at += Math.round(this.rates.stormEveryMs * (0.5 + r()))) {
      this.storms.push({ from: this.startedAt + at, to: this.startedAt + at + this.rates.stormMs });
    }
  }

  private inStorm(t: number): boolean {
    return this.storms.some((s) => t >= s.from && t < s.to);
  }

  invocation(records: number): InvocationFaults {
    const r = this.invocationRng;
    const n = ++this.invocations;
    // Forced from the n-th invocation on until one happened (an invocation may offer no chance: no effect to
    // crash after, no completion write to hang, no handler run to re-deliver under).
    const crash = r.chance(this.rates.crash) || (n >= this.forced.crash && this.counts.crash === 0);
    const hang = !crash && (r.chance(this.rates.hang) || (n >= this.forced.hang && this.counts.functionTimeout === 0));
    const redeliver = r.chance(this.rates.redelivery) || (n >= this.forced.redelivery && this.counts.redelivery === 0);
    return {
      crashAfterEffects: crash ? r.int(1, Math.max(1, Math.min(3, records - 1))) : undefined,
      hangCompletion: hang,
      redeliverRecord: redeliver ? r.int(0, records - 1) : undefined,
    };
  }

  /** A write's response is lost: on the first occurrence of each target (so every target is covered), else at the rate. */
  private lose(target: WriteTarget | undefined): WireFault | undefined {
    if (!target) return undefined;
    const n = ++this.seenByTarget[target];
    if (n !== 1 && !this.lostRng.chance(this.rates.lostResponse)) return undefined;
    this.lostByTarget[target]++;
    this.count('lostResponse');
    return { kind: 'lose-response' };
  }

  dynamo(commandName: string, input: any): WireFault | undefined { // eslint-disable-line @typescript-eslint/no-explicit-any
    if (dynamoKeys(commandName, input).some((k) => k !== undefined && this.deniedKeys.has(k))) {
      this.count('tableDenied');
      // Fine-grained access control (dynamodb:LeadingKeys) refuses the whole request; so does an unusable table key.
      return this.dynamoRng.chance(0.5)
        ? { kind: 'error', status: 400, code: 'AccessDeniedException', message: `chaos: not authorized to perform ${commandName.replace('Command', '')} on this key` }
        : { kind: 'error', status: 400, code: 'AccessDeniedException', message: 'chaos: the table\'s KMS key is disabled (KMS.DisabledException)' };
    }
    const storm = this.startedAt > 0 && this.inStorm(this.now());
    if (storm || this.dynamoRng.chance(this.rates.dynamoThrottle)) {
      this.count('dynamoThrottle');
      const code = this.dynamoRng.chance(0.5) ? 'ProvisionedThroughputExceededException' : 'ThrottlingException';
      return { kind: 'error', status: 400, code, message: `chaos: injected ${code}` };
    }
    const target: WriteTarget | undefined =
      commandName === 'BatchExecuteStatementCommand'
        ? 'BatchExecuteStatement'
        : commandName === 'BatchWriteItemCommand'
          ? 'BatchWriteItem'
          : commandName === 'PutItemCommand'
            ? 'PutItem'
            : commandName === 'UpdateItemCommand'
              ? /:rid\b/.test(String(input?.UpdateExpression ?? '')) ? 'UpdateItem:redrive' : 'UpdateItem:acquire'
              : undefined;
    return this.lose(target);
  }

  s3(commandName: string, input: any): WireFault | undefined { // eslint-disable-line @typescript-eslint/no-explicit-any
    if (commandName === 'DeleteObjectsCommand') return this.lose('DeleteObjects');
    if (commandName !== 'GetObjectCommand') return undefined;
    const key = String(input?.Key ?? '');
    if (this.deniedObjects.has(key)) {
      this.count('s3Denied');
      return this.dynamoRng.chance(0.5)
        ? { kind: 'error', status: 403, code: 'AccessDenied', message: 'Access Denied' }
        : { kind: 'error', status: 400, code: 'KMS.DisabledException', message: 'The KMS key is disabled.' };
    }
    const planned = this.claimFailures.get(key) ?? 0;
    const done = this.s3Failed.get(key) ?? 0;
    if (done >= planned) return undefined;
    this.s3Failed.set(key, done + 1);
    this.count('s3Error');
    return done % 2 === 0
      ? { kind: 'error', status: 503, code: 'SlowDown', message: 'Please reduce your request rate.' }
      : { kind: 'error', status: 500, code: 'InternalError', message: 'We encountered an internal error. Please try again.' };
  }

  sqs(commandName: string, input: any): WireFault | undefined { // eslint-disable-line @typescript-eslint/no-explicit-any
    if (commandName === 'SendMessageCommand') return this.lose(input?.QueueUrl === this.deadLetterQueueUrl ? 'SendMessage:dlq' : 'SendMessage:source');
    if (commandName === 'ChangeMessageVisibilityBatchCommand') return this.lose('ChangeMessageVisibilityBatch');
    return undefined;
  }

  throttledItems(commandName: string, keys: readonly (string | undefined)[]): Set<number> {
    const out = new Set<number>();
    const now = this.now();
    keys.forEach((key, i) => {
      if (key === undefined || !this.throttledKeys.has(key)) return;
      if (commandName === 'BatchExecuteStatementCommand') {
        // The INSERT of a throttled key: refused once (a per-statement error), then let through.
        if (this.insertThrottled.has(key)) return;
        this.insertThrottled.add(key);
      } else {
        // Its completion: refused from the first try for itemThrottleMs — longer than the write retries and the
        // invocation — so the outcome travels in an outcome copy.
        let until = this.throttledKeys.get(key);
        if (until === undefined) this.throttledKeys.set(key, (until = now + this.rates.itemThrottleMs));
        if (now >= until) return;
      }
      out.add(i);
      this.count('itemThrottle');
    });
    return out;
  }
}
