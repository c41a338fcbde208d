/**
 * SDK clients of the consumer. DynamoDB is on every task's path and is created once per
 * container; the SQS and S3 SDKs are imported only on first need (retries, re-delays,
 * dead-lettering, claim checks), keeping them out of module init.
 *
 * The clients the runtime creates bound each HTTP call (lib/protocol/aws-timeouts.ts): with the
 * SDK's defaults, one silent connection under a completion write would outlast the function's
 * timeout, cost the whole batch its outcomes and run its handlers again.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { S3Client } from '@aws-sdk/client-s3';
import { boundedCalls, boundedSilence, type AwsTimeouts } from '../protocol/aws-timeouts.ts';

export type SqsModule = typeof import('@aws-sdk/client-sqs');
export type S3Module = typeof import('@aws-sdk/client-s3');

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
