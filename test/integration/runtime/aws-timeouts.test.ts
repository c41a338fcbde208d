/**
 * A silent connection under the runtime's own DynamoDB client (RuntimeOptions.awsTimeouts):
 * a request the network never answers is abandoned at its bound and retried on a new
 * connection, so the invocation finishes long before its deadline — instead of waiting on the
 * SDK's 5-minute default, past the function's timeout, and running its handlers again.
 *
 * The runtime creates its DynamoDB client itself here, as on Lambda (not injected); it reaches
 * DynamoDB Local through a proxy that leaves chosen requests unanswered
 * (test/support/silent-proxy.ts), by the SDK's AWS_ENDPOINT_URL_DYNAMODB variable.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_AWS_TIMEOUTS } from '../../../lib/protocol/aws-timeouts.ts';
import type { RuntimeOptions, TaskDefinitions } from '../../../lib/runtime/config.ts';
import { LOCAL_CREDENTIALS } from '../../../lib/local/emulators.ts';
import { createTestResources, emulatorEndpoints, testClients, type TestResources } from '../../support/aws.ts';
import { silentProxy, type SilentProxy } from '../../support/silent-proxy.ts';
import { settledWithin } from '../../support/until.ts';
import { consumer, envelope, fakeContext, invokeLikeLambda, receiveEvent, sendTask, taskRecord } from './helpers.ts';

const clients = testClients();
const BATCH_WRITE = 'DynamoDB_20120810.BatchWriteItem';
const ENV_KEYS = ['AWS_ENDPOINT_URL_DYNAMODB', 'AWS_REGION', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'] as const;

describe('a silent connection under the runtime\'s DynamoDB client', () => {
  let r: TestResources;
  let proxy: SilentProxy | undefined;
  const saved: Partial<Record<(typeof ENV_KEYS)[number], string | undefined>> = {};

  beforeAll(async () => {
    r = await createTestResources(clients);
    for (const key of ENV_KEYS) saved[key] = process.env[key];
    process.env.AWS_REGION = emulatorEndpoints().region;
    process.env.AWS_ACCESS_KEY_ID = LOCAL_CREDENTIALS.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = LOCAL_CREDENTIALS.secretAccessKey;
  });
  afterAll(async () => {
    await proxy?.close();
    for (const key of ENV_KEYS) {
      if (saved[key] === undefined) delete process.env[key];
      else process.env[key] = saved[key];
    }
  });

  async function throughProxy(silence: (target: string, n: number) => boolean): Promise<SilentProxy> {
    await proxy?.close();
    proxy = await silentProxy(emulatorEndpoints().dynamoEndpoint, silence);
    process.env.AWS_ENDPOINT_URL_DYNAMODB = proxy.url;
    return proxy;
  }

  /** A consumer whose DynamoDB client the runtime creates (SQS and S3 are the test's). */
  function ownDynamoConsumer(tasks: TaskDefinitions, options: RuntimeOptions = {}) {
    return consumer(r, clients, tasks, { cancelCheckIntervalMs: 0, ...options, clients: { sqs: clients.sqs, s3: clients.s3 } });
  }

  it(`with the default bounds (${DEFAULT_AWS_TIMEOUTS.requestMs} ms a call), a completion write left unanswered is retried: SUCCEEDED, run once, seconds before the deadline`, async () => {
    const p = await throughProxy((target, n) => target === BATCH_WRITE && n === 1);
    let runs = 0;
    const { handler, captured } = ownDynamoConsumer({ charge: { handler: () => void runs++ } });
    const e = envelope('charge', {});
    await sendTask(clients.sqs, r.queueUrl, e);
    const event = await receiveEvent(clients.sqs, r, 1, 2);
    // Lambda would stop the invocation at 30 s; without a bound the write waits 300 s.
    const result = await settledWithin(invokeLikeLambda(clients.sqs, r.queueUrl, handler, event, fakeContext(30_000)), 25_000);
    expect(result, 'the invocation was still waiting on the unanswered write after 25 s').toBeDefined();
    expect(result!.value.batchItemFailures).toEqual([]);
    expect(result!.ms).toBeGreaterThanOrEqual(DEFAULT_AWS_TIMEOUTS.requestMs - 100);
    expect(runs).toBe(1);
    expect(await taskRecord(clients.dynamo, r.tableName, e.id)).toMatchObject({ status: 'SUCCEEDED', attempts: 1 });
    expect(p.seen.filter((s) => s.target === BATCH_WRITE)).toEqual([
      { target: BATCH_WRITE, silenced: true },
      { target: BATCH_WRITE, silenced: false },
    ]);
    expect(captured.text()).not.toContain('write failed');
  }, 60_000);

  it('a table that answers nothing at all costs the invocation its bounded retries, not its deadline: the task goes back unrun, unattempted', async () => {
    const p = await throughProxy(() => true);
    let runs = 0;
    const { handler, captured } = ownDynamoConsumer({ charge: { handler: () => void runs++ } }, { awsTimeouts: { connectionMs: 500, requestMs: 500 } });
    const e = envelope('charge', {});
    await sendTask(clients.sqs, r.queueUrl, e);
    const event = await receiveEvent(clients.sqs, r, 1, 2);
    const result = await settledWithin(invokeLikeLambda(clients.sqs, r.queueUrl, handler, event, fakeContext(30_000)), 20_000);
    expect(result, 'the invocation was still waiting on the silent table after 20 s').toBeDefined();
    expect(result!.value.batchItemFailures).toEqual([{ itemIdentifier: event.Records[0]!.messageId }]);
    expect(runs).toBe(0);
    expect(p.seen.length).toBeGreaterThanOrEqual(3); // the SDK's attempts, each abandoned at its bound
    expect(p.seen.every((s) => s.silenced)).toBe(true);
    expect(captured.text()).toMatch(/TimeoutError|timed out|exceeded/i);
    await p.close();
    proxy = undefined;
    expect(await taskRecord(clients.dynamo, r.tableName, e.id)).toBeUndefined();
  }, 60_000);
});
