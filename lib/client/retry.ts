/** Bounded retries with exponential backoff and full jitter. */
import { isTransientAwsError } from './aws-errors.ts';

export interface RetryPolicy {
  readonly maxAttempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
}

/** Delay before try `attempt + 1`, after `attempt` failed tries (≥ 1): random in [0, min(max, base · 2^(attempt−1))]. */
export function backoffDelayMs(attempt: number, policy: RetryPolicy): number {
  const cap = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return Math.floor(Math.random() * cap);
}

export function sleep(ms: number): Promise<void> {
  return ms <= 0 ? Promise.resolve() : new Promise((resolve) => setTimeout(resolve, ms));
}

/** Runs `fn`, retrying transient AWS errors up to policy.maxAttempts tries in all. */
export async function withRetry<T>(policy: RetryPolicy, fn: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      if (attempt >= policy.maxAttempts || !isTransientAwsError(error)) throw error;
      await sleep(backoffDelayMs(attempt, policy));
    }
  }
}
