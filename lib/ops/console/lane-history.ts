/**
 * What the overview's charts draw: per lane, the sampled queue counts and per-minute rates of
 * processed and failed tasks, kept in memory for the last `capacity` samples (the console
 * shows what happened while it ran; CloudWatch keeps the long history).
 */

export interface CountsSample {
  /** Epoch ms. */
  readonly t: number;
  readonly visible: number;
  readonly inFlight: number;
  readonly delayed: number;
  readonly deadLetters: number;
  readonly oldestAgeSeconds: number | null;
}

export interface RateSample {
  /** Epoch ms: the end of the interval. */
  readonly t: number;
  /** Tasks processed per minute over the interval. */
  readonly processedPerMinute: number;
  /** Failed attempts per minute over the interval. */
  readonly failedPerMinute: number;
}

export interface LaneHistoryView {
  readonly counts: readonly CountsSample[];
  readonly rates: readonly RateSample[];
  /** What processed and failed count, in this mode (said on the page under the chart). */
  readonly ratesSource: string;
}

/** A fixed-size list that drops its oldest entries. */
class Ring<T> {
  private readonly items: T[] = [];
  constructor(private readonly capacity: number) {}
  push(item: T): void {
    this.items.push(item);
    if (this.items.length > this.capacity) this.items.splice(0, this.items.length - this.capacity);
  }
  replace(items: readonly T[]): void {
    this.items.splice(0, this.items.length, ...items.slice(-this.capacity));
  }
  list(): readonly T[] {
    return [...this.items];
  }
}

export class LaneHistory {
  private readonly counts: Ring<CountsSample>;
  private readonly rates: Ring<RateSample>;
  ratesSource = 'not measured yet';

  constructor(capacity = 360) {
    this.counts = new Ring(capacity);
    this.rates = new Ring(capacity);
  }

  addCounts(sample: CountsSample): void {
    this.counts.push(sample);
  }

  addRate(sample: RateSample): void {
    this.rates.push(sample);
  }

  /** CloudWatch answers with a whole window of datapoints at once. */
  replaceRates(samples: readonly RateSample[]): void {
    this.rates.replace(samples);
  }

  view(): LaneHistoryView {
    return { counts: this.counts.list(), rates: this.rates.list(), ratesSource: this.ratesSource };
  }
}

/** Running totals → a per-minute rate between two readings (undefined for the first, or after a restart). */
export function ratePerMinute(previous: { total: number; t: number } | undefined, current: { total: number; t: number }): number | undefined {
  if (!previous || current.t <= previous.t || current.total < previous.total) return undefined;
  return ((current.total - previous.total) * 60_000) / (current.t - previous.t);
}
