/**
 * Counts every billable AWS request the benchmark's code — and the libraries it drives
 * (the runtime, Powertools, sqs-producer) — makes, with an SDK middleware.
 *
 * The middleware is added to every SDK v3 client, including the ones a library creates
 * internally: `installGlobalMeter()` wraps `Client.prototype.send` of @smithy/core (the one
 * base class of every AWS SDK v3 client in this tree) so the first `send` of any client adds
 * the middleware to its stack. Each pipeline's clients are attributed to its meter with
 * `meterClient` (every library here accepts injected clients); a request from any other client
 * lands in `unattributed`, which the report checks is empty. Clients used for setup and for
 * polling the end condition are excluded with `unmetered(client)`.
 *
 * What is recorded, per service and operation:
 * - requests: HTTP attempts (retries included: `$metadata.attempts`);
 * - billed: SQS bills each 64 KiB chunk of a request's payload as one request — computed from
 *   the message bodies and attributes sent (SendMessage[Batch]) or returned (ReceiveMessage);
 * - DynamoDB read / write units: the middleware sets ReturnConsumedCapacity=TOTAL and sums
 *   what DynamoDB reports. Where DynamoDB Local reports nothing, units are computed (and kept
 *   apart as computedWru / computedRru): a write rejected by its condition is billed
 *   max(1, ⌈size of the returned old item / 1 KB⌉) write units — 1 when the item is not
 *   returned (every task-table item is < 1 KB); a PartiQL INSERT ⌈item size / 1 KB⌉ (1 if
 *   rejected), UPDATE / DELETE 1 (items < 1 KB), SELECT 1 read unit when consistent, else ½;
 * - bytes of SQS message payload sent / received, S3 object bytes put / got.
 */
import { Client } from '@smithy/core/client';
import { SQS_BILLING_CHUNK_BYTES } from '../../lib/protocol/limits.ts';

export interface OpStats {
  requests: number;
  /** Billable units of the request (SQS: 64 KiB chunks; others: = requests). */
  billed: number;
  errors: number;
  /** DynamoDB write request units (on-demand) consumed. */
  wru: number;
  /** DynamoDB read request units consumed. */
  rru: number;
  /**
   * Of `wru` / `rru`: units computed here because DynamoDB Local reports none — writes
   * rejected by their condition, and PartiQL statements (BatchExecuteStatement,
   * ExecuteStatement, ExecuteTransaction), for which it returns no ConsumedCapacity.
   */
  computedWru: number;
  computedRru: number;
  payloadBytes: number;
  /** SQS: ReceiveMessage calls that returned no message (idle polling). */
  empty: number;
}

export interface LambdaStats {
  invocations: number;
  /** Sum of handler wall time, ms (unrounded). */
  wallMs: number;
  /** Sum of billed duration: each invocation rounded up to 1 ms. */
  billedMs: number;
  records: number;
}

/** A claim object this meter's clients PUT: its size, when, and when a DeleteObject(s) removed it. */
export interface S3ObjectLife {
  bytes: number;
  putAt: number;
  deletedAt?: number;
}

export class Meter {
  readonly ops = new Map<string, OpStats>();
  /** `bucket/key` → the object's life, for S3 storage: an object is billed until deleted, else for the lifecycle's lifetime. */
  readonly s3Objects = new Map<string, S3ObjectLife>();
  readonly lambda: LambdaStats = { invocations: 0, wallMs: 0, billedMs: 0, records: 0 };

  constructor(readonly label = 'meter') {}

  op(service: string, operation: string): OpStats {
    const key = `${service}:${operation}`;
    let stats = this.ops.get(key);
    if (!stats) {
      stats = { requests: 0, billed: 0, errors: 0, wru: 0, rru: 0, computedWru: 0, computedRru: 0, payloadBytes: 0, empty: 0 };
      this.ops.set(key, stats);
    }
    return stats;
  }

  invocation(wallMs: number, records: number): void {
    this.lambda.invocations += 1;
    this.lambda.wallMs += wallMs;
    this.lambda.billedMs += Math.max(1, Math.ceil(wallMs));
    this.lambda.records += records;
  }

  /** Totals per service. */
  services(): Record<string, { requests: number; billed: number; wru: number; rru: number; errors: number }> {
    const out: Record<string, { requests: number; billed: number; wru: number; rru: number; errors: number }> = {};
    for (const [key, s] of this.ops) {
      const service = key.split(':')[0]!;
      const t = (out[service] ??= { requests: 0, billed: 0, wru: 0, rru: 0, errors: 0 });
      t.requests += s.requests;
      t.billed += s.billed;
      t.wru += s.wru;
      t.rru += s.rru;
      t.errors += s.errors;
    }
    return out;
  }

  toJSON(): { ops: Record<string, OpStats>; lambda: LambdaStats } {
    return { ops: Object.fromEntries([...this.ops].sort(([a], [b]) => a.localeCompare(b))), lambda: { ...this.lambda } };
  }
}

/**
 * Requests of clients no pipeline claimed (`meterClient`) land here: a library that created
 * a client of its own behind our back would show up in this meter, and the report checks it
 * stays empty.
 */
export const unattributed = new Meter('unattributed');

const meterOfStack = new WeakMap<object, Meter>();

/** Bills every request of `client` to `meter` (and instruments it). */
export function meterClient<C extends object>(client: C, meter: Meter): C {
  instrument(client);
  const stack = (client as unknown as StackOwner).middlewareStack;
  meterOfStack.set(stack, meter);
  return client;
}

interface StackOwner {
  middlewareStack: { add: (mw: unknown, options: Record<string, unknown>) => void };
  handlers?: unknown;
}

const excluded = new WeakSet<object>();
const instrumentedStacks = new WeakSet<object>();

/** Marks a client (setup, end-condition polling) as not billed to any pipeline. */
export function unmetered<C extends object>(client: C): C {
  excluded.add(client);
  const stack = (client as unknown as StackOwner).middlewareStack;
  if (stack) excluded.add(stack);
  return client;
}

let installed = false;

/** Instruments every SDK v3 client of this process on its first send. Idempotent. */
export function installGlobalMeter(): void {
  if (installed) return;
  installed = true;
  const proto = Client.prototype as unknown as { send: (...args: unknown[]) => unknown };
  const original = proto.send;
  proto.send = function send(this: StackOwner, ...args: unknown[]) {
    instrument(this);
    return original.apply(this, args);
  };
}

/** Adds the counting middleware to one client (explicit form of the global hook). */
export function instrument<C extends object>(client: C): C {
  const owner = client as unknown as StackOwner;
  const stack = owner.middlewareStack;
  if (!stack || instrumentedStacks.has(stack) || excluded.has(client) || excluded.has(stack)) return client;
  instrumentedStacks.add(stack);
  stack.add(
    (next: (args: { input: Record<string, unknown> }) => Promise<{ output: Record<string, unknown> }>, context: Record<string, unknown>) =>
      async (args: { input: Record<string, unknown> }) => {
        if (excluded.has(stack)) return next(args);
        const meter = meterOfStack.get(stack) ?? unattributed;
        const service = serviceOf(String(context.clientName ?? ''));
        const operation = operationOf(service, String(context.commandName ?? ''));
        if (service === 'dynamodb' && RETURNS_CAPACITY.has(operation) && args.input.ReturnConsumedCapacity === undefined) {
          args = { ...args, input: { ...args.input, ReturnConsumedCapacity: 'TOTAL' } };
        }
        const stats = meter.op(service, operation);
        try {
          const result = await next(args);
          const output = result.output;
          const attempts = Number((output.$metadata as { attempts?: number } | undefined)?.attempts ?? 1);
          stats.requests += attempts;
          account(stats, service, operation, args.input, output, attempts);
          if (service === 's3') trackObjects(meter, operation, args.input, output);
          return result;
        } catch (error) {
          const e = error as { name?: string; Item?: Record<string, unknown>; $metadata?: { attempts?: number } };
          const attempts = Number(e.$metadata?.attempts ?? 1);
          stats.requests += attempts;
          stats.errors += 1;
          stats.billed += attempts;
          if (service === 'dynamodb' && e.name === 'ConditionalCheckFailedException') {
            const units = Math.max(1, Math.ceil(itemSize(e.Item) / 1024));
            stats.wru += units;
            stats.computedWru += units;
          }
          throw error;
        }
      },
    { step: 'initialize', name: 'benchMeter', priority: 'high', override: true },
  );
  delete owner.handlers; // the client's handler cache was built without the middleware
  return client;
}

const RETURNS_CAPACITY = new Set([
  'BatchExecuteStatement',
  'ExecuteStatement',
  'ExecuteTransaction',
  'PutItem',
  'UpdateItem',
  'DeleteItem',
  'GetItem',
  'Query',
  'Scan',
  'BatchWriteItem',
  'BatchGetItem',
  'TransactWriteItems',
  'TransactGetItems',
]);
const DOC_TO_ITEM_OP: Record<string, string> = {
  Put: 'PutItem',
  Get: 'GetItem',
  Update: 'UpdateItem',
  Delete: 'DeleteItem',
  BatchWrite: 'BatchWriteItem',
  BatchGet: 'BatchGetItem',
  TransactWrite: 'TransactWriteItems',
  TransactGet: 'TransactGetItems',
};

function serviceOf(clientName: string): string {
  const n = clientName.toLowerCase();
  if (n.includes('dynamodb')) return 'dynamodb';
  if (n.includes('sqs')) return 'sqs';
  if (n.includes('s3')) return 's3';
  return n.replace(/client$/, '') || 'unknown';
}

function operationOf(service: string, commandName: string): string {
  const op = commandName.replace(/Command$/, '');
  return service === 'dynamodb' ? (DOC_TO_ITEM_OP[op] ?? op) : op;
}

function account(stats: OpStats, service: string, operation: string, input: Record<string, unknown>, output: Record<string, unknown>, attempts: number): void {
  if (service === 'sqs') {
    let bytes = 0;
    if (operation === 'SendMessage') bytes = messageSize(input.MessageBody, input.MessageAttributes);
    else if (operation === 'SendMessageBatch') {
      for (const entry of (input.Entries as Array<Record<string, unknown>> | undefined) ?? []) bytes += messageSize(entry.MessageBody, entry.MessageAttributes);
    } else if (operation === 'ReceiveMessage') {
      const messages = (output.Messages as Array<Record<string, unknown>> | undefined) ?? [];
      if (messages.length === 0) stats.empty += 1;
      for (const m of messages) bytes += messageSize(m.Body, m.MessageAttributes);
    }
    stats.payloadBytes += bytes;
    stats.billed += attempts * Math.max(1, Math.ceil(bytes / SQS_BILLING_CHUNK_BYTES));
    return;
  }
  stats.billed += attempts;
  if (service === 'dynamodb') {
    if (STATEMENT_OPS.has(operation) && output.ConsumedCapacity === undefined) {
      statementUnits(stats, operation, input, output);
      return;
    }
    const consumed = output.ConsumedCapacity as { CapacityUnits?: number; ReadCapacityUnits?: number; WriteCapacityUnits?: number } | Array<{ CapacityUnits?: number }> | undefined;
    const total = Array.isArray(consumed) ? consumed.reduce((s, c) => s + (c.CapacityUnits ?? 0), 0) : (consumed?.CapacityUnits ?? 0);
    if (READ_OPS.has(operation)) stats.rru += total;
    else stats.wru += total;
    return;
  }
  if (service === 's3') {
    if (operation === 'PutObject') stats.payloadBytes += bodySize(input.Body);
    else if (operation === 'GetObject') stats.payloadBytes += Number(output.ContentLength ?? 0);
  }
}

/** Records PUTs and successful deletes of objects, so storage is billed for how long each object really lived. */
function trackObjects(meter: Meter, operation: string, input: Record<string, unknown>, output: Record<string, unknown>): void {
  const bucket = String(input.Bucket ?? '');
  const now = Date.now();
  const deleted = (key: unknown) => {
    const life = meter.s3Objects.get(`${bucket}/${String(key)}`);
    if (life && life.deletedAt === undefined) life.deletedAt = now;
  };
  if (operation === 'PutObject') meter.s3Objects.set(`${bucket}/${String(input.Key)}`, { bytes: bodySize(input.Body), putAt: now });
  else if (operation === 'DeleteObject') deleted(input.Key);
  else if (operation === 'DeleteObjects') {
    const failed = new Set(((output.Errors as Array<{ Key?: string }> | undefined) ?? []).map((e) => e.Key));
    for (const o of ((input.Delete as { Objects?: Array<{ Key?: string }> } | undefined)?.Objects ?? [])) if (!failed.has(o.Key)) deleted(o.Key);
  }
}

const STATEMENT_OPS = new Set(['BatchExecuteStatement', 'ExecuteStatement', 'ExecuteTransaction']);

interface Statement {
  Statement?: string;
  Parameters?: unknown[];
  ConsistentRead?: boolean;
}

/** Units of PartiQL statements, which DynamoDB Local does not report (see the header). */
function statementUnits(stats: OpStats, operation: string, input: Record<string, unknown>, output: Record<string, unknown>): void {
  const statements: Statement[] =
    operation === 'BatchExecuteStatement'
      ? ((input.Statements as Statement[] | undefined) ?? [])
      : operation === 'ExecuteTransaction'
        ? ((input.TransactStatements as Statement[] | undefined) ?? [])
        : [input as Statement];
  const responses = (output.Responses as Array<{ Error?: unknown }> | undefined) ?? [];
  const factor = operation === 'ExecuteTransaction' ? 2 : 1; // transactions bill 2 units per unit
  statements.forEach((st, i) => {
    const text = (st.Statement ?? '').trimStart().toUpperCase();
    let wru = 0;
    let rru = 0;
    if (text.startsWith('SELECT')) rru = st.ConsistentRead || operation === 'ExecuteTransaction' ? 1 : 0.5;
    else if (text.startsWith('INSERT') && !responses[i]?.Error) wru = Math.max(1, Math.ceil(insertedItemSize(st) / 1024));
    else wru = 1;
    stats.wru += wru * factor;
    stats.rru += rru * factor;
    stats.computedWru += wru * factor;
    stats.computedRru += rru * factor;
  });
}

/** Size of the item of `INSERT INTO "t" VALUE {'a': ?, 'b': ?}` from its parameters. */
function insertedItemSize(st: Statement): number {
  const names = [...(st.Statement ?? '').matchAll(/'([^']+)'\s*:\s*\?/g)].map((m) => m[1]!);
  const params = st.Parameters ?? [];
  let bytes = 0;
  names.forEach((name, i) => {
    bytes += Buffer.byteLength(name) + attributeValueSize(params[i]);
  });
  return bytes;
}

const READ_OPS = new Set(['GetItem', 'Query', 'Scan', 'BatchGetItem', 'TransactGetItems']);

function messageSize(body: unknown, attributes: unknown): number {
  let bytes = typeof body === 'string' ? Buffer.byteLength(body) : 0;
  for (const [name, value] of Object.entries((attributes as Record<string, { DataType?: string; StringValue?: string; BinaryValue?: Uint8Array }> | undefined) ?? {})) {
    bytes += Buffer.byteLength(name) + Buffer.byteLength(value.DataType ?? '') + (value.StringValue ? Buffer.byteLength(value.StringValue) : 0) + (value.BinaryValue?.byteLength ?? 0);
  }
  return bytes;
}

function bodySize(body: unknown): number {
  if (typeof body === 'string') return Buffer.byteLength(body);
  if (body instanceof Uint8Array) return body.byteLength;
  return 0;
}

/** DynamoDB item size as DynamoDB bills it: attribute names + values (approximation for S/N/B/BOOL, nested). */
export function itemSize(item: Record<string, unknown> | undefined): number {
  if (!item) return 0;
  let bytes = 0;
  for (const [name, value] of Object.entries(item)) bytes += Buffer.byteLength(name) + attributeValueSize(value);
  return bytes;
}

function attributeValueSize(value: unknown): number {
  if (value === null || typeof value !== 'object') return 1;
  const v = value as Record<string, unknown>;
  if (typeof v.S === 'string') return Buffer.byteLength(v.S);
  if (typeof v.N === 'string') return Math.ceil(v.N.replace(/^-|\.|^0+/g, '').length / 2) + 1;
  if (v.B instanceof Uint8Array) return v.B.byteLength;
  if (typeof v.BOOL === 'boolean' || v.NULL !== undefined) return 1;
  if (v.M && typeof v.M === 'object') return 3 + itemSize(v.M as Record<string, unknown>);
  if (Array.isArray(v.L)) return 3 + v.L.reduce((s: number, x: unknown) => s + 1 + attributeValueSize(x), 0);
  return 1;
}
