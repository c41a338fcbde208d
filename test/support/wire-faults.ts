/**
 * Faults an emulator cannot produce, injected at the SDK's wire on a real client that talks to
 * the emulators: middleware inside the deserializer (so the SDK parses a fabricated response
 * exactly like a real one, and its own retry strategy runs first), deciding per request from a
 * rule the test gives.
 *
 * - `lose-response`: the request is sent and applied, then the connection fails (ECONNRESET)
 *   before the response arrives — the SDK retries and its next try meets its own first one.
 * - `reset`: the connection fails (ECONNRESET) before the request reaches the service.
 * - `unprocessed`: a BatchWriteItem / BatchGetItem answered with every item unprocessed (what
 *   DynamoDB does under item-level throttling), without being sent.
 * - `error`: an AWS error response (throttling, AccessDenied, a KMS error…), without being sent.
 */
import { Readable } from 'node:stream';

type Middleware = (next: (args: any) => Promise<any>, context: any) => (args: any) => Promise<any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export type WireFault =
  | { readonly kind: 'lose-response' }
  | { readonly kind: 'reset' }
  | { readonly kind: 'unprocessed' }
  | { readonly kind: 'error'; readonly status: number; readonly code: string; readonly message?: string };

/** Decides a request's fault: the command's name (e.g. 'BatchWriteItemCommand') and input; undefined sends it. */
export type FaultRule = (commandName: string, input: any) => WireFault | undefined; // eslint-disable-line @typescript-eslint/no-explicit-any

export interface InjectedFault {
  readonly commandName: string;
  readonly fault: WireFault['kind'];
}

function response(statusCode: number, headers: Record<string, string>, body: string) {
  return { response: { statusCode, reason: undefined, headers: { 'content-length': String(Buffer.byteLength(body)), ...headers }, body: Readable.from([Buffer.from(body)]) }, output: undefined };
}

function errorResponse(service: 'dynamodb' | 's3' | 'sqs', status: number, code: string, message: string) {
  if (service === 's3') {
    const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message><RequestId>fault</RequestId><HostId>fault</HostId></Error>`;
    return response(status, { 'content-type': 'application/xml', 'x-amz-request-id': 'fault' }, body);
  }
  if (service === 'sqs') {
    return response(status, { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-query-error': `${code};Sender` }, JSON.stringify({ __type: `com.amazonaws.sqs#${code}`, message }));
  }
  return response(status, { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': `fault-${Math.random().toString(36).slice(2)}` }, JSON.stringify({ __type: `com.amazonaws.dynamodb.v20120810#${code}`, message }));
}

function unprocessed(commandName: string, input: any) { // eslint-disable-line @typescript-eslint/no-explicit-any
  const body =
    commandName === 'BatchGetItemCommand'
      ? JSON.stringify({ Responses: {}, UnprocessedKeys: input.RequestItems })
      : JSON.stringify({ UnprocessedItems: input.RequestItems });
  return response(200, { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': 'fault' }, body);
}

/**
 * Called for every request that reached the service (a lost response's too), with the HTTP
 * status it answered: how a test learns which writes were applied, whatever the caller saw.
 */
export type ReachedService = (commandName: string, input: any, statusCode: number) => void; // eslint-disable-line @typescript-eslint/no-explicit-any

/**
 * Adds the fault middleware to `client`; returns the log of faults injected (a fault counts when
 * it happens). `service` picks the error format.
 */
export function injectWireFaults(
  client: { middlewareStack: { add: (...args: any[]) => void } }, // eslint-disable-line @typescript-eslint/no-explicit-any
  service: 'dynamodb' | 's3' | 'sqs',
  rule: FaultRule,
  reached?: ReachedService,
): InjectedFault[] {
  const injected: InjectedFault[] = [];
  const send = async (next: (args: any) => Promise<any>, commandName: string, args: any) => { // eslint-disable-line @typescript-eslint/no-explicit-any
    const out = await next(args);
    reached?.(commandName, args.input, Number(out?.response?.statusCode ?? 0));
    return out;
  };
  const middleware: Middleware = (next, context) => async (args) => {
    const commandName = String(context?.commandName ?? '');
    const fault = rule(commandName, args.input);
    if (!fault) return send(next, commandName, args);
    injected.push({ commandName, fault: fault.kind });
    if (fault.kind === 'unprocessed') return unprocessed(commandName, args.input);
    if (fault.kind === 'error') return errorResponse(service, fault.status, fault.code, fault.message ?? `injected ${fault.code}`);
    if (fault.kind === 'lose-response') await send(next, commandName, args);
    throw Object.assign(new Error(fault.kind === 'lose-response' ? 'socket hang up (injected: the response was lost)' : 'socket hang up (injected: before the request was sent)'), { code: 'ECONNRESET' });
  };
  client.middlewareStack.add(middleware as never, { step: 'deserialize', priority: 'low', name: `wireFaults-${Math.random()}` });
  return injected;
}

/** A rule that faults the first `times` requests matching `match`, then lets everything through. */
export function firstTimes(times: number, match: (commandName: string, input: any) => boolean, fault: WireFault): FaultRule { // eslint-disable-line @typescript-eslint/no-explicit-any
  let left = times;
  return (commandName, input) => {
    if (left <= 0 || !match(commandName, input)) return undefined;
    left--;
    return fault;
  };
}

/**
 * A rule that faults about `percent` % of the requests of the named commands (e.g.
 * 'TransactWriteItemsCommand'), decided by a sequence seeded with `seed`: the same seed faults
 * the same requests, so a property test's counterexample replays.
 */
export function seededFaults(commands: readonly string[], seed: number, percent: number, fault: WireFault): FaultRule {
  let state = seed >>> 0 || 1;
  return (commandName) => {
    if (!commands.includes(commandName)) return undefined;
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state % 100 < percent ? fault : undefined;
  };
}
