/**
 * Seeded randomness for the chaos schedule: every fault decision is drawn from a stream
 * derived from (seed, label), so a run is reproducible from its seed as far as the
 * scheduling of concurrent invocations allows (per-task plans are fully determined by the
 * seed; per-invocation and per-request draws follow the order in which those happen).
 */

/** FNV-1a, 32 bits. */
function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export interface Rng {
  /** Uniform in [0, 1). */
  (): number;
  /** An integer in [min, max]. */
  int(min: number, max: number): number;
  /** True with probability p. */
  chance(p: number): boolean;
  pick<T>(items: readonly T[]): T;
}

/** mulberry32: small, fast, good enough for schedules. */
export function rng(seed: number, label = ''): Rng {
  let state = (seed ^ hash(label)) >>> 0;
  const next = (() => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }) as Rng;
  next.int = (min, max) => min + Math.floor(next() * (max - min + 1));
  next.chance = (p) => next() < p;
  next.pick = (items) => items[Math.floor(next() * items.length)]!;
  return next;
}
