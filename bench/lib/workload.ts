/**
 * The fixed, seeded workload every cost pipeline runs: the same tasks, sizes, failures,
 * duplicates and poison for each, from a 32-bit seed (mulberry32).
 */

export type Behaviour =
  /** The handler succeeds. */
  | 'ok'
  /** The handler throws (a retryable error) on its first execution, then succeeds. */
  | 'fail-once'
  /** The handler always rejects the payload: it can never succeed. */
  | 'poison';

export interface WorkloadTask {
  readonly index: number;
  /** Task id and idempotency key (the same for the task's duplicate copy). */
  readonly key: string;
  readonly type: string;
  /** Target size of the payload's JSON, bytes. */
  readonly payloadBytes: number;
  readonly behaviour: Behaviour;
  /** The producer sends this task twice (a producer retry after a lost response). */
  readonly duplicate: boolean;
}

export interface WorkloadMix {
  /** Share of tasks with a 100 KB payload. */
  readonly medium: number;
  /** Share of tasks with a payload above the claim-check threshold (still ≤ SQS's 1 MiB inline). */
  readonly large: number;
  readonly failOnce: number;
  readonly duplicates: number;
  readonly poison: number;
}

export const DEFAULT_MIX: WorkloadMix = { medium: 0.05, large: 0.01, failOnce: 0.03, duplicates: 0.03, poison: 0.005 };

export const SMALL_BYTES = 1024;
export const MEDIUM_BYTES = 100 * 1024;

export interface Workload {
  readonly seed: number;
  readonly tasks: readonly WorkloadTask[];
  readonly mix: WorkloadMix;
  readonly largeBytes: number;
}

export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * `count` tasks. Sizes: 1 KB, else 100 KB (`mix.medium`), else `largeBytes` (`mix.large`,
 * above the claim-check threshold but inline-sendable so the anchors without a claim check
 * can carry it). Behaviours and duplicates are drawn independently of size.
 */
export function makeWorkload(count: number, seed: number, largeBytes: number, mix: WorkloadMix = DEFAULT_MIX, runId = 'w'): Workload {
  const random = mulberry32(seed);
  const tasks: WorkloadTask[] = [];
  for (let index = 0; index < count; index += 1) {
    const s = random();
    const payloadBytes = s < mix.large ? largeBytes : s < mix.large + mix.medium ? MEDIUM_BYTES : SMALL_BYTES;
    const b = random();
    const behaviour: Behaviour = b < mix.poison ? 'poison' : b < mix.poison + mix.failOnce ? 'fail-once' : 'ok';
    const duplicate = random() < mix.duplicates;
    tasks.push({ index, key: `tsk_${runId}_${seed.toString(36)}_${index}`, type: 'bench_task', payloadBytes, behaviour, duplicate });
  }
  return { seed, tasks, mix, largeBytes };
}

/** Only 1 KB, always-succeeding tasks (throughput runs). */
export function makeUniformWorkload(count: number, runId: string, payloadBytes = SMALL_BYTES): Workload {
  const tasks: WorkloadTask[] = Array.from({ length: count }, (_, index) => ({
    index,
    key: `tsk_${runId}_${index}`,
    type: 'bench_task',
    payloadBytes,
    behaviour: 'ok' as const,
    duplicate: false,
  }));
  return { seed: 0, tasks, mix: { medium: 0, large: 0, failOnce: 0, duplicates: 0, poison: 0 }, largeBytes: payloadBytes };
}

export interface BenchPayload {
  readonly i: number;
  readonly behaviour: Behaviour;
  readonly pad: string;
}

/** The payload of a task: its JSON is `task.payloadBytes` long (ASCII padding). */
export function payloadOf(task: WorkloadTask): BenchPayload {
  const skeleton = JSON.stringify({ i: task.index, behaviour: task.behaviour, pad: '' });
  return { i: task.index, behaviour: task.behaviour, pad: 'x'.repeat(Math.max(0, task.payloadBytes - skeleton.length)) };
}

export function summarizeWorkload(w: Workload): Record<string, number> {
  const t = w.tasks;
  return {
    tasks: t.length,
    messagesSent: t.length + t.filter((x) => x.duplicate).length,
    small: t.filter((x) => x.payloadBytes === SMALL_BYTES).length,
    medium: t.filter((x) => x.payloadBytes === MEDIUM_BYTES).length,
    large: t.filter((x) => x.payloadBytes === w.largeBytes && w.largeBytes !== SMALL_BYTES && w.largeBytes !== MEDIUM_BYTES).length,
    failOnce: t.filter((x) => x.behaviour === 'fail-once').length,
    poison: t.filter((x) => x.behaviour === 'poison').length,
    duplicates: t.filter((x) => x.duplicate).length,
    payloadBytes: t.reduce((s, x) => s + x.payloadBytes * (x.duplicate ? 2 : 1), 0),
  };
}
