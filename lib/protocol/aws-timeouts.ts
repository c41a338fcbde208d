/**
 * Bounds on each HTTP call of the AWS clients this package creates — the producer's and the
 * consumer runtime's (clients a user injects keep their own settings).
 *
 * The SDK's defaults let a call wait on a connection that went silent for 5 minutes (DynamoDB)
 * or 15 (SQS): longer than a Lambda function's timeout, or an API request's patience. A call
 * past its bound fails with a TimeoutError, which both retry on a new connection like any
 * transient error.
 */

/** Limits on each HTTP call of the SDK clients the producer and the runtime create (not on clients you inject). */
export interface AwsTimeouts {
  /** Opening the connection (TCP and TLS). @default 3000 */
  connectionMs?: number;
  /**
   * A whole DynamoDB or SQS call, request and response. Their calls are small (≤ 1 MiB, ~10 ms
   * when healthy); a throttled call answers at once, so only a lost connection reaches the bound.
   * @default 5000
   */
  requestMs?: number;
  /** S3: the longest silence on the connection — not a whole-call bound, as a claim object or result may be large. @default 10000 */
  s3IdleMs?: number;
}

/** Options of the SDK's Node.js request handler (a subset of NodeHttpHandlerOptions, which clients accept as `requestHandler`). */
export interface RequestHandlerLimits {
  connectionTimeout: number;
  requestTimeout?: number;
  throwOnRequestTimeout?: boolean;
  socketTimeout?: number;
}

export const DEFAULT_AWS_TIMEOUTS: Required<AwsTimeouts> = { connectionMs: 3000, requestMs: 5000, s3IdleMs: 10_000 };

/** The request handler options of a DynamoDB or SQS client. */
export function boundedCalls(timeouts: AwsTimeouts = {}): RequestHandlerLimits {
  const t = { ...DEFAULT_AWS_TIMEOUTS, ...timeouts };
  // throwOnRequestTimeout: without it the SDK only logs a warning when the bound is passed.
  return { connectionTimeout: t.connectionMs, requestTimeout: t.requestMs, throwOnRequestTimeout: true };
}

/** The request handler options of an S3 client. */
export function boundedSilence(timeouts: AwsTimeouts = {}): RequestHandlerLimits {
  const t = { ...DEFAULT_AWS_TIMEOUTS, ...timeouts };
  return { connectionTimeout: t.connectionMs, socketTimeout: t.s3IdleMs };
}
