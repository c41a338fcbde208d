/**
 * SDK clients of the consumer. DynamoDB is on every task's path and is created once per
 * container; the SQS and S3 SDKs are imported only on first need (retries, re-delays,
 * dead-lettering, claim checks), keeping them out of module init.
 *
 * The clients the runtime creates bound each HTTP call (AwsTimeouts). The SDK's own defaults
 * let a call wait on a silent connection for 5 minutes (DynamoDB) or 15 (SQS) — longer than
 * the function's timeout, so one half-open connection under a completion write would cost the
 * whole batch its outcomes and run its handlers again. A call past its bound fails with a
 * TimeoutError, which the SDK retries on a new connection like any transient error.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { S3Client } from '@aws-sdk/client-s3';

export type SqsModule = typeof import('@aws-sdk/client-sqs');
export type S3Module = typeof import('@aws-sdk/client-s3');

/** Limits on each HTTP call of the SDK clients the runtime creates (not on injected clients). */
export interface AwsTimeouts {
  /** Opening the connection (TCP and TLS). @default 3000 */
  connectionMs?: number;
  /**
   * A whole DynamoDB or SQS call, request and response. Their calls are small (≤ 1 MiB, ~10 ms
   * when healthy); a throttled call answers at once, so only a lost connection reaches the bound.
   * @default 5000
   */
  requestMs?: number;
  /** S3: the longest silence on the connection — not a whole-call bound, as a claim object may be large. @default 10000 */
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

/** The request handler options of the runtime's DynamoDB and SQS clients. */
export function boundedCalls(timeouts: AwsTimeouts = {}): RequestHandlerLimits {
  const t = { ...DEFAULT_AWS_TIMEOUTS, ...timeouts };
  // throwOnRequestTimeout: without it the SDK only logs a warning when the bound is passed.
  return { connectionTimeout: t.connectionMs, requestTimeout: t.requestMs, throwOnRequestTimeout: true };
}

/** The request handler options of the runtime's S3 client. */
export function boundedSilence(timeouts: AwsTimeouts = {}): RequestHandlerLimits {
  const t = { ...DEFAULT_AWS_TIMEOUTS, ...timeouts };
  return { connectionTimeout: t.connectionMs, socketTimeout: t.s3IdleMs };
}

export class AwsClients {
  private dynamoClient: DynamoDBClient | undefined;
  private sqsPromise: Promise<{ client: SQSClient; sdk: SqsModule }> | undefined;
  private s3Promise: Promise<{ client: S3Client; sdk: S3Module }> | undefined;

  constructor(
    private readonly injected: { dynamo?: DynamoDBClient; sqs?: SQSClient; s3?: S3Client } = {},
    private readonly timeouts: AwsTimeouts = {},
  ) {}

  get dynamo(): DynamoDBClient {
    return (this.dynamoClient ??= this.injected.dynamo ?? new DynamoDBClient({ requestHandler: boundedCalls(this.timeouts) }));
  }

  sqs(): Promise<{ client: SQSClient; sdk: SqsModule }> {
    return (this.sqsPromise ??= import('@aws-sdk/client-sqs').then((sdk) => ({
      sdk,
      client: this.injected.sqs ?? new sdk.SQSClient({ requestHandler: boundedCalls(this.timeouts) }),
    }))).catch((error: unknown) => {
      this.sqsPromise = undefined;
      throw error;
    });
  }

  s3(): Promise<{ client: S3Client; sdk: S3Module }> {
    return (this.s3Promise ??= import('@aws-sdk/client-s3').then((sdk) => ({
      sdk,
      client: this.injected.s3 ?? new sdk.S3Client({ requestHandler: boundedSilence(this.timeouts) }),
    }))).catch((error: unknown) => {
      this.s3Promise = undefined;
      throw error;
    });
  }
}
