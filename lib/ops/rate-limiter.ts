/**
 * Paces a redrive to at most `rate` messages per second on average: before each batch it
 * waits until the messages already sent fit the rate (so bursts never exceed one batch).
 */
export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

export class RateLimiter {
  private readonly start: number;
  constructor(
    /** Messages per second; undefined or Infinity for no limit. */
    readonly rate: number | undefined,
    private readonly clock: Clock = systemClock,
  ) {
    this.start = clock.now();
  }

  /** The largest batch that keeps a burst within one second's worth of messages (1–10). */
  batchSize(cap = 10): number {
    if (this.rate === undefined || !Number.isFinite(this.rate)) return cap;
    return Math.max(1, Math.min(cap, Math.floor(this.rate)));
  }

  /** Waits until `sent` messages are within the rate since the start. */
  async wait(sent: number): Promise<void> {
    if (this.rate === undefined || !Number.isFinite(this.rate) || sent === 0) return;
    const due = this.start + (sent / this.rate) * 1000;
    const delay = due - this.clock.now();
    if (delay > 0) await this.clock.sleep(delay);
  }
}
