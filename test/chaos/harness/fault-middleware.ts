/**
 * Fault injection at the SDK's wire, on the runtime's own DynamoDB, S3 and SQS clients.
 *
 * Inside the SDK's retry loop (test/support/wire-faults.ts, in the deserializer): error
 * responses AWS would send — throttling, AccessDenied and KMS errors, S3 503 SlowDown / 500
 * InternalError — and lost responses of writes that were applied (the connection fails after the
 * service applied the request, and the SDK's retry meets its own first try). The SDK parses a
 * fabricated response like a real one and retries first; the runtime sees an error only when
 * the SDK gives up, as in production.
 *
 * Outside the retry loop (the SDK does not retry what a 200 response left undone): item-level
 * throttling of batch writes — BatchWriteItem items answered as UnprocessedItems and
 * BatchExecuteStatement statements answered with per-statement throttling errors, while the
 * other items of the same request are applied.
 *
 * Every request that reached the service is reported with its status (`reached`), so the
 * harness knows which writes were applied whatever the runtime was told.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { S3Client } from '@aws-sdk/client-s3';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { injectWireFaults, type ReachedService, type WireFault } from '../../support/wire-faults.ts';

/** What the middleware asks the fault schedule (fault-plan.ts) for each request. */
export interface ChaosFaults {
  dynamo(commandName: string, input: any): WireFault | undefined; // eslint-disable-line @typescript-eslint/no-explicit-any
  s3(commandName: string, input: any): WireFault | undefined; // eslint-disable-line @typescript-eslint/no-explicit-any
  sqs(commandName: string, input: any): WireFault | undefined; // eslint-disable-line @typescript-eslint/no-explicit-any
  /** Of these idempotency keys in one batch write (BatchWriteItemCommand or BatchExecuteStatementCommand), the positions to throttle now. */
  throttledItems(commandName: string, keys: readonly (string | undefined)[]): Set<number>;
}

type Middleware = (next: (args: any) => Promise<any>, context: any) => (args: any) => Promise<any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** The idempotency keys a DynamoDB request names, in request order. */
export function dynamoKeys(commandName: string, input: any): (string | undefined)[] { // eslint-disable-line @typescript-eslint/no-explicit-any
  switch (commandName) {
    case 'BatchExecuteStatementCommand':
      return (input?.Statements ?? []).map((s: any) => s?.Parameters?.[0]?.S); // eslint-disable-line @typescript-eslint/no-explicit-any
    case 'BatchWriteItemCommand':
      return Object.values(input?.RequestItems ?? {}).flatMap((requests: any) => requests.map((r: any) => (r.PutRequest?.Item ?? r.DeleteRequest?.Key)?.pk?.S)); // eslint-disable-line @typescript-eslint/no-explicit-any
    case 'BatchGetItemCommand':
      return Object.values(input?.RequestItems ?? {}).flatMap((r: any) => (r.Keys ?? []).map((k: any) => k?.pk?.S)); // eslint-disable-line @typescript-eslint/no-explicit-any
    default:
      return [input?.Key?.pk?.S ?? input?.Item?.pk?.S];
  }
}

/** Item-level throttling of batch writes, outside the SDK's retries: throttled items come back undone, the rest are applied. */
function itemThrottling(faults: ChaosFaults): Middleware {
  return (next, context) => async (args) => {
    const name = String(context?.commandName ?? '');
    if (name !== 'BatchWriteItemCommand' && name !== 'BatchExecuteStatementCommand') return next(args);
    const throttled = faults.throttledItems(name, dynamoKeys(name, args.input));
    if (throttled.size === 0) return next(args);
    if (name === 'BatchWriteItemCommand') {
      const [table, requests] = Object.entries(args.input.RequestItems as Record<string, unknown[]>)[0]!;
      const kept = requests.filter((_, i) => !throttled.has(i));
      const held = requests.filter((_, i) => throttled.has(i));
      const result = kept.length > 0 ? await next({ ...args, input: { ...args.input, RequestItems: { [table]: kept } } }) : { output: { $metadata: {} } };
      const already = (result.output.UnprocessedItems?.[table] ?? []) as unknown[];
      return { ...result, output: { ...result.output, UnprocessedItems: { [table]: [...already, ...held] } } };
    }
    const statements = args.input.Statements as unknown[];
    const kept = statements.map((s, i) => ({ s, i })).filter(({ i }) => !throttled.has(i));
    const result = kept.length > 0 ? await next({ ...args, input: { ...args.input, Statements: kept.map(({ s }) => s) } }) : { output: { $metadata: {} } };
    const responses: unknown[] = new Array(statements.length);
    kept.forEach(({ i }, k) => (responses[i] = result.output.Responses?.[k] ?? {}));
    for (const i of throttled) {
      responses[i] = { Error: { Code: i % 2 === 0 ? 'ProvisionedThroughputExceeded' : 'ThrottlingError', Message: 'chaos: injected item throttling' } };
    }
    return { ...result, output: { ...result.output, Responses: responses } };
  };
}

export function installDynamoFaults(client: DynamoDBClient, faults: ChaosFaults, reached: ReachedService): void {
  injectWireFaults(client, 'dynamodb', (name, input) => faults.dynamo(name, input), reached);
  client.middlewareStack.add(itemThrottling(faults) as never, { step: 'initialize', name: 'chaosItemThrottling' });
}

export function installS3Faults(client: S3Client, faults: ChaosFaults, reached: ReachedService): void {
  injectWireFaults(client, 's3', (name, input) => faults.s3(name, input), reached);
}

export function installSqsFaults(client: SQSClient, faults: ChaosFaults, reached: ReachedService): void {
  injectWireFaults(client, 'sqs', (name, input) => faults.sqs(name, input), reached);
}
