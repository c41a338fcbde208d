/**
 * The seeded fault schedule: what each task does on each execution, which invocations
 * crash, hang or have a record re-delivered under them, which SDK requests get an error
 * response, and the tally of every fault actually injected (a fault is counted when it
 * happens, not when it is planned).
 */
import { rng, type Rng } from './prng.ts';
import type { WireFaults } from './fault-middleware.ts';

export type FaultKind =
  | 'exception'
  | 'timeout'
  | 'functionTimeout'
  | 'crash'
  | 'duplicate'
  | 'redelivery'
  | 'dynamoThrottle'
  | 's3Error'
  | 'burst';

export const FAULT_KINDS: readonly FaultKind[] = ['exception', 'timeout', 'functionTimeout', 'crash', 'duplicate', 'redelivery', 'dynamoThrottle', 's3Error', 'burst'];

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
    const claim = r.chance(rates.claim);
    plans.push({
      index,
      kind,
      timeouts: kind === 'slow' ? 1 : 0,
      failures: kind === 'flaky' ? r.int(1, 2) : kind === 'slow' && r.chance(0.3) ? 1 : 0,
      claim,
      s3Failures: claim && r.chance(rates.s3Faulty) ? r.int(1, 4) : 0,
      burstDuplicates: r.chance(rates.burstDuplicate) ? r.int(1, 2) : 0,
      lateDuplicates: r.chance(rates.lateDuplicate) ? 1 : 0,
      workMs: r.int(1, 20),
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
  ensure((p) => p.kind === 'poison', (p) => ({ ...p, kind: 'poison', timeouts: 0, failures: 0 }));
  ensure((p) => p.kind === 'permanent', (p) => ({ ...p, kind: 'permanent', timeouts: 0, failures: 0 }));
  ensure((p) => p.kind === 'flaky', (p) => ({ ...p, kind: 'flaky', timeouts: 0, failures: 1 }));
  ensure((p) => p.kind === 'slow', (p) => ({ ...p, kind: 'slow', timeouts: 1, failures: 0 }));
  ensure((p) => p.claim && p.s3Failures >= 3 && p.kind === 'clean', (p) => ({ ...p, kind: 'clean', timeouts: 0, failures: 0, claim: true, s3Failures: 3 }));
  ensure((p) => p.burstDuplicates > 0, (p) => ({ ...p, burstDuplicates: 1 }));
  ensure((p) => p.lateDuplicates > 0, (p) => ({ ...p, lateDuplicates: 1 }));
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

export class FaultSchedule implements WireFaults {
  readonly counts: FaultCounts = Object.fromEntries(FAULT_KINDS.map((k) => [k, 0])) as FaultCounts;
  private readonly invocationRng: Rng;
  private readonly dynamoRng: Rng;
  private readonly storms: { from: number; to: number }[] = [];
  private readonly s3Failed = new Map<string, number>();
  /** Claim key → the task's planned S3 failures. */
  readonly claimFailures = new Map<string, number>();
  private startedAt = 0;
  private invocations = 0;
  /** The n-th invocation that is forced to crash / hang / see a re-delivery, so every kind occurs even in a short run. */
  private readonly forced: { crash: number; hang: number; redelivery: number };

  constructor(
    readonly seed: number,
    readonly rates: ChaosRates,
    private readonly now: () => number = Date.now,
  ) {
    this.invocationRng = rng(seed, 'invocations');
    this.dynamoRng = rng(seed, 'dynamo');
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
    const crash = r.chance(this.rates.crash) || n === this.forced.crash;
    const hang = !crash && (r.chance(this.rates.hang) || n === this.forced.hang);
    const redeliver = r.chance(this.rates.redelivery) || n === this.forced.redelivery;
    return {
      crashAfterEffects: crash ? r.int(1, Math.max(1, Math.min(3, records - 1))) : undefined,
      hangCompletion: hang,
      redeliverRecord: redeliver ? r.int(0, records - 1) : undefined,
    };
  }

  dynamo(_operation: string): 'ProvisionedThroughputExceededException' | 'ThrottlingException' | undefined {
    const storm = this.startedAt > 0 && this.inStorm(this.now());
    if (!storm && !this.dynamoRng.chance(this.rates.dynamoThrottle)) return undefined;
    this.count('dynamoThrottle');
    return this.dynamoRng.chance(0.5) ? 'ProvisionedThroughputExceededException' : 'ThrottlingException';
  }

  s3GetObject(key: string): 'SlowDown' | 'InternalError' | undefined {
    const planned = this.claimFailures.get(key) ?? 0;
    const done = this.s3Failed.get(key) ?? 0;
    if (done >= planned) return undefined;
    this.s3Failed.set(key, done + 1);
    this.count('s3Error');
    return done % 2 === 0 ? 'SlowDown' : 'InternalError';
  }
}
