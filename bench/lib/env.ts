/**
 * The benchmark's environment: the emulators (in a child process, see emulator-host.ts),
 * SDK clients billed to a pipeline's meter, unmetered admin clients, and per-pipeline
 * resources (queue + DLQ with a redrive policy, task table, Powertools table, bucket).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { CreateTableCommand, DynamoDBClient, ScanCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { Agent } from 'node:http';
import { LOCAL_CREDENTIALS } from '../../lib/local/emulators.ts';
import { TABLE_SCHEMA } from '../../lib/protocol/resources.ts';
import { meterClient, unmetered, type Meter } from './meter.ts';

export interface Endpoints {
  sqsEndpoint: string;
  s3Endpoint: string;
  dynamoEndpoint: string;
  dynamoEngine: string;
  region: string;
}

export interface EmulatorHandle extends Endpoints {
  stop(): Promise<void>;
}

/** Starts the emulators in a child process and waits for their endpoints. */
export async function startEmulatorHost(): Promise<EmulatorHandle> {
  const script = fileURLToPath(new URL('./emulator-host.ts', import.meta.url));
  const tsx = fileURLToPath(new URL('../../node_modules/tsx/dist/cli.mjs', import.meta.url));
  const child: ChildProcess = spawn(process.execPath, [tsx, script], {
    stdio: ['pipe', 'pipe', 'inherit'],
    env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  });
  const endpoints = await new Promise<Endpoints>((resolve, reject) => {
    let buffer = '';
    const timer = setTimeout(() => reject(new Error('emulators did not start within 120 s')), 120_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      const nl = buffer.indexOf('\n');
      if (nl >= 0) {
        clearTimeout(timer);
        try {
          resolve(JSON.parse(buffer.slice(0, nl)) as Endpoints);
        } catch (error) {
          reject(error as Error);
        }
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`emulator host exited with ${code}`));
    });
  });
  const stopOnExit = () => child.kill('SIGTERM');
  process.once('exit', stopOnExit);
  return {
    ...endpoints,
    async stop() {
      process.off('exit', stopOnExit);
      if (child.exitCode !== null) return;
      await new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 5000).unref();
      });
    },
  };
}

export interface Clients {
  sqs: SQSClient;
  s3: S3Client;
  dynamo: DynamoDBClient;
  destroy(): void;
}

/**
 * A fresh set of clients billed to `meter` (or unmetered admin clients when meter is
 * undefined). Keep-alive agents with enough sockets for the pollers and the handler's calls.
 */
export function makeClients(e: Endpoints, meter: Meter | undefined, maxSockets = 64): Clients {
  const common = {
    region: e.region,
    credentials: LOCAL_CREDENTIALS,
    requestHandler: new NodeHttpHandler({ httpAgent: new Agent({ keepAlive: true, maxSockets }) }),
  };
  const sqs = new SQSClient({ ...common, endpoint: e.sqsEndpoint });
  const s3 = new S3Client({ ...common, endpoint: e.s3Endpoint, forcePathStyle: true });
  const dynamo = new DynamoDBClient({ ...common, endpoint: e.dynamoEndpoint });
  for (const c of [sqs, s3, dynamo]) {
    if (meter) meterClient(c, meter);
    else unmetered(c);
  }
  return {
    sqs,
    s3,
    dynamo,
    destroy() {
      sqs.destroy();
      s3.destroy();
      dynamo.destroy();
    },
  };
}

export interface Resources {
  queueUrl: string;
  queueArn: string;
  deadLetterQueueUrl: string;
  deadLetterQueueArn: string;
  /** The project's task table (key `pk`). */
  tableName: string;
  /** A Powertools idempotency table as its docs define it (key `id`, TTL `expiration`). */
  powertoolsTableName: string;
  bucketName: string;
}

export interface QueueSettings {
  visibilityTimeoutSeconds: number;
  maxReceiveCount: number;
}

export async function createResources(admin: Clients, prefix: string, q: QueueSettings): Promise<Resources> {
  const base = `${prefix}-${randomUUID().slice(0, 8)}`;
  const dlq = await admin.sqs.send(new CreateQueueCommand({ QueueName: `${base}-dlq`, Attributes: { MessageRetentionPeriod: '1209600' } }));
  const deadLetterQueueArn = await queueArn(admin.sqs, dlq.QueueUrl!);
  const queue = await admin.sqs.send(
    new CreateQueueCommand({
      QueueName: base,
      Attributes: {
        VisibilityTimeout: String(q.visibilityTimeoutSeconds),
        RedrivePolicy: JSON.stringify({ deadLetterTargetArn: deadLetterQueueArn, maxReceiveCount: q.maxReceiveCount }),
      },
    }),
  );
  const tableName = `${base}-tasks`;
  const powertoolsTableName = `${base}-idempotency`;
  await admin.dynamo.send(
    new CreateTableCommand({
      TableName: tableName,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [{ AttributeName: TABLE_SCHEMA.partitionKey, AttributeType: 'S' }],
      KeySchema: [{ AttributeName: TABLE_SCHEMA.partitionKey, KeyType: 'HASH' }],
    }),
  );
  await admin.dynamo.send(
    new CreateTableCommand({
      TableName: powertoolsTableName,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
    }),
  );
  const bucketName = `${base}-claims`;
  await admin.s3.send(new CreateBucketCommand({ Bucket: bucketName }));
  return { queueUrl: queue.QueueUrl!, queueArn: await queueArn(admin.sqs, queue.QueueUrl!), deadLetterQueueUrl: dlq.QueueUrl!, deadLetterQueueArn, tableName, powertoolsTableName, bucketName };
}

async function queueArn(sqs: SQSClient, url: string): Promise<string> {
  const out = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }));
  return out.Attributes!.QueueArn!;
}

export interface Depth {
  visible: number;
  inFlight: number;
  delayed: number;
}

export async function queueDepth(admin: Clients, url: string): Promise<Depth> {
  const out = await admin.sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: url,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed'],
    }),
  );
  const a = out.Attributes ?? {};
  return {
    visible: Number(a.ApproximateNumberOfMessages ?? 0),
    inFlight: Number(a.ApproximateNumberOfMessagesNotVisible ?? 0),
    delayed: Number(a.ApproximateNumberOfMessagesDelayed ?? 0),
  };
}

/** All items of a table (unmetered; for the report's checks). */
export async function scanAll(admin: Clients, tableName: string): Promise<Record<string, AttributeValue>[]> {
  const items: Record<string, AttributeValue>[] = [];
  let start: Record<string, AttributeValue> | undefined;
  do {
    const out = await admin.dynamo.send(new ScanCommand({ TableName: tableName, ...(start ? { ExclusiveStartKey: start } : {}) }));
    items.push(...(out.Items ?? []));
    start = out.LastEvaluatedKey;
  } while (start);
  return items;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
