/**
 * Retry delays: base · 2^(attempt−1), capped, with jitter. SQS caps a message's visibility
 * at 12 hours, so no delay is ever longer than that.
 */
import { SQS_MAX_VISIBILITY_SECONDS } from '../protocol/limits.ts';

export type Jitter = 'full' | 'equal' | 'none';

export interface BackoffOptions {
  /** Delay before the first retry, seconds. @default 10 */
  readonly baseSeconds: number;
  /** Longest delay, seconds (never above 43,200, the SQS visibility cap). @default 3600 */
  readonly capSeconds: number;
  /**
   * `equal` (default): half the delay fixed, half random — retries always back off and still
   * spread out. `full`: anywhere in [0, delay] (best spread, may retry almost at once).
   * `none`: exactly the delay (tests, or when spreading does not matter).
   */
  readonly jitter: Jitter;
}

export const DEFAULT_BACKOFF: BackoffOptions = { baseSeconds: 10, capSeconds: 3600, jitter: 'equal' };

/** Clamps seconds to what ChangeMessageVisibility accepts for a re-delay: 1 s – 12 h. */
export function clampVisibility(seconds: number): number {
  if (!Number.isFinite(seconds)) return SQS_MAX_VISIBILITY_SECONDS;
  return Math.min(SQS_MAX_VISIBILITY_SECONDS, Math.max(1, Math.ceil(seconds)));
}

/** Seconds to wait before retry number `attempt` (1 = the first retry after the first failure). */
export function backoffSeconds(attempt: number, options: BackoffOptions, random: () => number = Math.random): number {
  const cap = Math.min(options.capSeconds, SQS_MAX_VISIBILITY_SECONDS);
  const exponent = Math.min(Math.max(attempt, 1) - 1, 30);
  const delay = Math.min(cap, options.baseSeconds * 2 ** exponent);
  switch (options.jitter) {
    case 'none':
      return clampVisibility(delay);
    case 'full':
      return clampVisibility(random() * delay);
    default:
      return clampVisibility(delay / 2 + random() * (delay / 2));
  }
}
