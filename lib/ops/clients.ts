/**
 * AWS SDK clients for a resolved target, created on first use (a command that only reads
 * SQS never loads the DynamoDB, CloudWatch or CloudFormation clients). Each HTTP call is
 * bounded (lib/protocol/aws-timeouts.ts), so a silent connection fails a command or a console
 * request in seconds instead of holding it for the SDK's default of up to 15 minutes; a long
 * poll gets its wait on top (dlq-messages.ts).
 */
import { SQSClient } from '@aws-sdk/client-sqs';
import type { S3Client } from '@aws-sdk/client-s3';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import type { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import type { SchedulerClient } from '@aws-sdk/client-scheduler';
import type { OpsTarget } from './resolve-target.ts';
import { boundedCalls, boundedSilence } from '../protocol/aws-timeouts.ts';

export interface OpsClients {
  readonly sqs: SQSClient;
  s3(): Promise<S3Client>;
  dynamo(): Promise<DynamoDBClient>;
  cloudWatch(): Promise<CloudWatchClient>;
  cloudFormation(): Promise<CloudFormationClient>;
  scheduler(): Promise<SchedulerClient>;
  destroy(): void;
}

type Config = { region?: string; endpoint?: string; credentials?: { accessKeyId: string; secretAccessKey: string }; requestHandler: ReturnType<typeof boundedCalls> };

export function clientConfig(target: Pick<OpsTarget, 'region' | 'credentials'>, endpoint: string | undefined): Config {
  const config: Config = { requestHandler: boundedCalls() };
  if (target.region) config.region = target.region;
  if (endpoint) config.endpoint = endpoint;
  if (target.credentials) config.credentials = target.credentials;
  return config;
}

export function createClients(target: OpsTarget): OpsClients {
  const created: { destroy(): void }[] = [];
  const track = <T extends { destroy(): void }>(client: T): T => {
    created.push(client);
    return client;
  };
  const lazy = <T>(make: () => Promise<T>) => {
    let value: Promise<T> | undefined;
    return () => (value ??= make());
  };
  const sqs = track(new SQSClient(clientConfig(target, target.endpoints.sqs)));
  return {
    sqs,
    s3: lazy(async () => {
      const { S3Client } = await import('@aws-sdk/client-s3');
      return track(new S3Client({ ...clientConfig(target, target.endpoints.s3), requestHandler: boundedSilence(), forcePathStyle: target.endpoints.s3 !== undefined }));
    }),
    dynamo: lazy(async () => {
      const { DynamoDBClient } = await import('@aws-sdk/client-dynamodb');
      return track(new DynamoDBClient(clientConfig(target, target.endpoints.dynamodb)));
    }),
    cloudWatch: lazy(async () => {
      const { CloudWatchClient } = await import('@aws-sdk/client-cloudwatch');
      return track(new CloudWatchClient(clientConfig(target, target.endpoints.other)));
    }),
    cloudFormation: lazy(async () => {
      const { CloudFormationClient } = await import('@aws-sdk/client-cloudformation');
      return track(new CloudFormationClient(clientConfig(target, target.endpoints.other)));
    }),
    scheduler: lazy(async () => {
      const { SchedulerClient } = await import('@aws-sdk/client-scheduler');
      return track(new SchedulerClient(clientConfig(target, target.endpoints.other)));
    }),
    destroy() {
      for (const client of created) client.destroy();
    },
  };
}
