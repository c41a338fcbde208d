/**
 * The task table as the consumer uses it: leases, completion records, status. One item per
 * idempotency key (`pk`), written with the low-level DynamoDB client; every expression is
 * built once per container.
 *
 * Calls per batch on the normal path (lease mode, first delivery): one BatchExecuteStatement
 * of PartiQL INSERTs (≤ 25 per call) acquires the leases of all fresh tasks — an INSERT
 * fails with DuplicateItem when the item exists, which is exactly "absent" as a condition —
 * and one BatchWriteItem (≤ 25 per call) writes all completions. Redeliveries and
 * duplicates take the single-item path: one conditional UpdateItem with
 * ReturnValuesOnConditionCheckFailure ALL_OLD, which says why it failed without a read.
 */
import {
  BatchExecuteStatementCommand,
  DeleteItemCommand,
  BatchGetItemCommand,
  BatchWriteItemCommand,
  ConditionalCheckFailedException,
  PutItemCommand,
  UpdateItemCommand,
  type AttributeValue,
  type BatchGetItemCommandOutput,
  type KeysAndAttributes,
  type DynamoDBClient,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import { TABLE_SCHEMA } from '../protocol/resources.ts';

export type Item = Record<string, AttributeValue>;

export interface AcquireRequest {
  readonly key: string;
  readonly taskId: string;
  readonly type: string;
  readonly createdAt: string;
  readonly leaseUntil: number;
  /**
   * A lease that ended before this time (epoch ms) may be taken over: now, less the takeover
   * grace (RuntimeOptions.takeoverGraceMs).
   */
  readonly takeoverBeforeMs: number;
  readonly nowIso: string;
  readonly expiresAt: number;
  /**
   * This invocation's lease owner token. Written with the lease, so that a write of ours the
   * SDK retried (its first try applied, the response lost) is recognised as our own lease,
   * never taken for another copy's.
   */
  readonly owner: string;
  /**
   * The copy is a DLQ redrive with this identity (message.ts redriveIdOf): it resets a task
   * that is not SUCCEEDED with fresh attempts, once — the record keeps the id it reset for.
   */
  readonly redriveId?: string;
}

export type AcquireResult =
  /**
   * The caller holds the lease. `previous` is the item to restore on a release (undefined:
   * delete it — it was created by this acquire). `redriveId` is the redrive the record has
   * consumed (kept in every write of the record).
   */
  | { readonly kind: 'acquired'; readonly attempts: number; readonly previous: Item | undefined; readonly previousLeaseExpired: boolean; readonly redriveId: string | undefined }
  | { readonly kind: 'succeeded' }
  /** DEAD_LETTERED and the copy is no redrive: a leftover copy, acknowledged without running. */
  | { readonly kind: 'deadLettered' }
  /** A producer cancelled the task (CANCELLED): every copy is acknowledged without running, a redrive's too. */
  | { readonly kind: 'cancelled' }
  | { readonly kind: 'leased'; readonly leaseUntil: number }
  /** The key belongs to a task of another type: the producer reused an idempotency key. */
  | { readonly kind: 'conflict'; readonly existingType: string }
  /** The call failed (throttling, access denied...): retry the message later, no attempt counted. */
  | { readonly kind: 'error'; readonly error: unknown };

const PK = TABLE_SCHEMA.partitionKey;
const TTL = TABLE_SCHEMA.ttlAttribute;

export const S = (value: string): AttributeValue => ({ S: value });
export const N = (value: number): AttributeValue => ({ N: String(value) });

const NAMES = {
  '#pk': PK,
  '#s': 'status',
  '#a': 'attempts',
  '#l': 'leaseUntil',
  '#id': 'taskId',
  '#t': 'type',
  '#c': 'createdAt',
  '#u': 'updatedAt',
  '#x': TTL,
  '#n': 'nextAttemptAt',
  '#d': 'deadLetterReason',
  '#r': 'result',
  '#rt': 'resultTruncated',
  '#rf': 'resultRef',
  '#o': 'owner',
  '#rd': 'redriveId',
  '#dl': 'deadLetterId',
};

const ACQUIRE_SET = 'SET #s = :ip, #l = :lu, #o = :o, #id = :id, #t = :t, #c = if_not_exists(#c, :c), #u = :u, #x = :x REMOVE #n, #d, #r, #rt, #rf, #dl';
/**
 * Absent; or a task of the same type, neither SUCCEEDED nor DEAD_LETTERED (redrives take their
 * own path), with no live lease. A key held by another task type is a conflict, never taken.
 */
const ACQUIRE_UPDATE = `${ACQUIRE_SET} ADD #a :one`;
const ACQUIRE_CONDITION = 'attribute_not_exists(#pk) OR (#t = :t AND #s <> :ok AND #s <> :dead AND #s <> :cx AND (attribute_not_exists(#l) OR #l < :now))';
/**
 * A redrive (a copy carrying a redrive id the record has not consumed) of a task that is not
 * SUCCEEDED and holds no live lease runs again with fresh attempts; the record keeps the id.
 */
const REDRIVE_UPDATE = 'SET #s = :ip, #l = :lu, #o = :o, #id = :id, #t = :t, #c = if_not_exists(#c, :c), #u = :u, #x = :x, #a = :one, #rd = :rid REMOVE #n, #d, #r, #rt, #rf, #dl';
const REDRIVE_CONDITION =
  'attribute_not_exists(#pk) OR (#t = :t AND #s <> :ok AND #s <> :cx AND (attribute_not_exists(#l) OR #l < :now) AND (attribute_not_exists(#rd) OR #rd <> :rid))';
/** The unknown-type path records DEAD_LETTERED unless a live, finished or other-type task owns the key. */
const MARK_CONDITION = 'attribute_not_exists(#pk) OR (#t = :t AND #s <> :ok AND #s <> :cx AND (attribute_not_exists(#l) OR #l < :now))';
/** `record` mode's failure writes: never over a SUCCEEDED written by a concurrent copy, nor over a cancel. */
const UNLESS_SUCCEEDED_CONDITION = 'attribute_not_exists(#pk) OR (#s <> :ok AND #s <> :cx)';
/**
 * A lease holder's conditional completion (after an overrun, or from an outcome copy): only
 * while the record still carries its owner token — which a retry of its own completion also
 * finds, since every completion it writes keeps the token.
 */
const STILL_MINE_CONDITION = 'attribute_not_exists(#pk) OR #o = :o';
/**
 * The lease holder's other writes (RETRYING, DEAD_LETTERED, a release): also never over a
 * CANCELLED a producer wrote while the handler ran — or a retry would run a cancelled task.
 * Only a SUCCEEDED may replace it (the run finished first: docs/GUARANTEES.md, cancellation).
 */
const STILL_MINE_LIVE_CONDITION = 'attribute_not_exists(#pk) OR (#o = :o AND #s <> :cx)';
const RELEASE_DELETE_CONDITION = '#o = :o AND #s <> :cx';

function names(expression: string): Record<string, string> {
  const used: Record<string, string> = {};
  for (const match of expression.matchAll(/#[a-z]+/g)) used[match[0]] = NAMES[match[0] as keyof typeof NAMES];
  return used;
}

const ACQUIRE_NAMES = names(`${ACQUIRE_UPDATE} ${ACQUIRE_CONDITION}`);
const REDRIVE_NAMES = names(`${REDRIVE_UPDATE} ${REDRIVE_CONDITION}`);
const MARK_NAMES = names(MARK_CONDITION);
const STILL_MINE_NAMES = names(STILL_MINE_CONDITION);
const STILL_MINE_LIVE_NAMES = names(STILL_MINE_LIVE_CONDITION);
const RELEASE_DELETE_NAMES = names(RELEASE_DELETE_CONDITION);
const UNLESS_SUCCEEDED_NAMES = names(UNLESS_SUCCEEDED_CONDITION);

const V_IN_PROGRESS = S('IN_PROGRESS');
const V_SUCCEEDED = S('SUCCEEDED');
const V_DEAD = S('DEAD_LETTERED');
const V_CANCELLED = S('CANCELLED');
const V_ONE = N(1);

/** The values both lease-taking writes (acquire, redrive) set and test. */
function leaseValues(r: AcquireRequest): Record<string, AttributeValue> {
  return {
    ':ip': V_IN_PROGRESS,
    ':lu': N(r.leaseUntil),
    ':o': S(r.owner),
    ':ok': V_SUCCEEDED,
    ':now': N(r.takeoverBeforeMs),
    ':id': S(r.taskId),
    ':t': S(r.type),
    ':c': S(r.createdAt),
    ':u': S(r.nowIso),
    ':x': N(r.expiresAt),
    ':one': V_ONE,
    ':cx': V_CANCELLED,
  };
}

function isConditionalFailure(error: unknown): error is ConditionalCheckFailedException {
  return error instanceof ConditionalCheckFailedException || (error as { name?: string })?.name === 'ConditionalCheckFailedException';
}

/**
 * Errors worth retrying within an invocation: throttling, server errors, timeouts and network
 * errors — which Node reports with `code` (ECONNRESET…) on an error named plain `Error`.
 */
export function isTransient(error: unknown): boolean {
  const e = error as { name?: string; code?: string; $retryable?: unknown; $metadata?: { httpStatusCode?: number } } | undefined;
  const text = `${e?.name ?? ''} ${e?.code ?? ''}`;
  if (/Throttl|ProvisionedThroughput|RequestLimit|InternalServer|ServiceUnavailable|TimeoutError|ECONN|EPIPE|ETIMEDOUT|EAI_AGAIN|ENOTFOUND|socket hang up/i.test(text)) return true;
  return e?.$retryable !== undefined || (e?.$metadata?.httpStatusCode ?? 0) >= 500;
}

/**
 * Our own lease, found by a retried write whose first try applied: acquired with the attempts
 * it set. The item before that first try is unknown, so a release rolls back what an acquire
 * changes — one attempt and the lease — or deletes an item the acquire created.
 */
function ownLease(old: Item): AcquireResult {
  const attempts = numberOf(old, 'attempts') ?? 1;
  let previous: Item | undefined;
  if (attempts > 1) {
    const { leaseUntil: _l, owner: _o, ...rest } = old;
    previous = { ...rest, status: S('RETRYING'), attempts: N(attempts - 1) };
  }
  return { kind: 'acquired', attempts, previous, previousLeaseExpired: false, redriveId: stringOf(old, 'redriveId') };
}

export function numberOf(item: Item | undefined, name: string): number | undefined {
  const v = item?.[name]?.N;
  return v === undefined ? undefined : Number(v);
}

export function stringOf(item: Item | undefined, name: string): string | undefined {
  return item?.[name]?.S;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class TaskStore {
  private readonly insertStatement: string;
  /** False once the engine refused PartiQL (e.g. dynalite): then every acquire is an UpdateItem. */
  private partiqlUsable = true;

  constructor(
    private readonly dynamo: DynamoDBClient,
    private readonly tableName: string,
  ) {
    this.insertStatement = `INSERT INTO "${tableName.replaceAll('"', '""')}" VALUE {'${PK}': ?, 'taskId': ?, 'type': ?, 'status': ?, 'attempts': ?, 'leaseUntil': ?, 'owner': ?, 'createdAt': ?, 'updatedAt': ?, '${TTL}': ?}`;
  }

  /**
   * Acquires the leases of tasks believed fresh with PartiQL INSERTs, 25 per call. Returns,
   * per request, 'acquired' (attempt 1), 'exists' (take the UpdateItem path) or an error.
   */
  async insertMany(requests: readonly AcquireRequest[]): Promise<('acquired' | 'exists' | { error: unknown })[]> {
    if (!this.partiqlUsable) return requests.map(() => 'exists' as const);
    const results: ('acquired' | 'exists' | { error: unknown })[] = new Array(requests.length);
    const chunks: number[][] = [];
    for (let i = 0; i < requests.length; i += 25) chunks.push([...Array(Math.min(25, requests.length - i)).keys()].map((k) => i + k));
    await Promise.all(
      chunks.map(async (indexes) => {
        try {
          const response = await this.dynamo.send(
            new BatchExecuteStatementCommand({
              Statements: indexes.map((i) => {
                const r = requests[i]!;
                return {
                  Statement: this.insertStatement,
                  Parameters: [S(r.key), S(r.taskId), S(r.type), V_IN_PROGRESS, V_ONE, N(r.leaseUntil), S(r.owner), S(r.createdAt), S(r.nowIso), N(r.expiresAt)],
                };
              }),
            }),
          );
          indexes.forEach((requestIndex, position) => {
            const error = response.Responses?.[position]?.Error;
            if (!error) results[requestIndex] = 'acquired';
            else if (error.Code === 'DuplicateItem' || error.Code === 'ConditionalCheckFailed') results[requestIndex] = 'exists';
            else results[requestIndex] = { error: Object.assign(new Error(error.Message ?? error.Code ?? 'statement failed'), { name: error.Code ?? 'Error' }) };
          });
        } catch (error) {
          const name = (error as { name?: string })?.name;
          if (name === 'UnknownOperationException' || name === 'UnrecognizedClientException' || (name === 'ValidationException' && /partiql|statement/i.test(String((error as Error).message)))) {
            this.partiqlUsable = false;
            for (const i of indexes) results[i] = 'exists';
          } else {
            for (const i of indexes) results[i] = { error };
          }
        }
      }),
    );
    return results;
  }

  /**
   * The single-item acquire: one conditional UpdateItem. A DEAD_LETTERED record answers
   * 'deadLettered' (a leftover copy; redrives call acquireRedrive). When the condition fails
   * on our own lease — our earlier try applied and its response was lost, so the SDK retried —
   * the lease is ours: 'acquired', never 'leased'.
   */
  async acquire(r: AcquireRequest): Promise<AcquireResult> {
    return this.leaseWrite(r, ACQUIRE_UPDATE, ACQUIRE_CONDITION, ACQUIRE_NAMES, { ...leaseValues(r), ':dead': V_DEAD }, (old) => {
      const status = stringOf(old, 'status');
      if (status === 'SUCCEEDED') return { kind: 'succeeded' };
      if (status === 'DEAD_LETTERED') return { kind: 'deadLettered' };
      if (status === 'CANCELLED') return { kind: 'cancelled' };
      // A lease that looked live to DynamoDB; without ALL_OLD (an engine lacking it) assume one visibility's worth.
      return { kind: 'leased', leaseUntil: numberOf(old, 'leaseUntil') ?? r.leaseUntil };
    });
  }

  /**
   * A redrive: resets a task that is not SUCCEEDED and holds no live lease — DEAD_LETTERED, or
   * left RETRYING/IN_PROGRESS when its dead-lettering was not recorded — with fresh attempts,
   * unless the record already consumed this redrive id; then the copy is a plain one.
   */
  async acquireRedrive(r: AcquireRequest & { readonly redriveId: string }): Promise<AcquireResult> {
    const values = { ...leaseValues(r), ':rid': S(r.redriveId) };
    return this.leaseWrite(r, REDRIVE_UPDATE, REDRIVE_CONDITION, REDRIVE_NAMES, values, async (old) => {
      const status = stringOf(old, 'status');
      if (status === 'SUCCEEDED') return { kind: 'succeeded' };
      if (status === 'CANCELLED') return { kind: 'cancelled' };
      const leaseUntil = numberOf(old, 'leaseUntil');
      if (leaseUntil !== undefined && leaseUntil >= r.takeoverBeforeMs) return { kind: 'leased', leaseUntil };
      // This redrive was consumed already (another copy of it reset the task): a plain copy.
      return this.acquire({ ...r, redriveId: undefined });
    }, r.redriveId);
  }

  /** One conditional lease-taking UpdateItem; `otherwise` reads a failed condition's ALL_OLD. */
  private async leaseWrite(
    r: AcquireRequest,
    update: string,
    condition: string,
    expressionNames: Record<string, string>,
    values: Record<string, AttributeValue>,
    otherwise: (old: Item | undefined) => AcquireResult | Promise<AcquireResult>,
    consumedRedrive?: string,
  ): Promise<AcquireResult> {
    try {
      const response = await this.dynamo.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: { [PK]: S(r.key) },
          UpdateExpression: update,
          ConditionExpression: condition,
          ExpressionAttributeNames: expressionNames,
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_OLD',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      const previous = response.Attributes && Object.keys(response.Attributes).length > 0 ? response.Attributes : undefined;
      return {
        kind: 'acquired',
        attempts: consumedRedrive !== undefined ? 1 : (numberOf(previous, 'attempts') ?? 0) + 1,
        previous,
        previousLeaseExpired: consumedRedrive === undefined && stringOf(previous, 'status') === 'IN_PROGRESS',
        redriveId: consumedRedrive ?? stringOf(previous, 'redriveId'),
      };
    } catch (error) {
      if (!isConditionalFailure(error)) return { kind: 'error', error };
      const old = error.Item;
      if (old !== undefined && stringOf(old, 'owner') === r.owner && numberOf(old, 'leaseUntil') === r.leaseUntil) return ownLease(old);
      const existingType = stringOf(old, 'type');
      if (existingType !== undefined && existingType !== r.type) return { kind: 'conflict', existingType };
      return otherwise(old);
    }
  }

  /** Consistent reads of many keys (record mode), 100 per call. Missing keys are absent from the map. */
  async getMany(keys: readonly string[]): Promise<Map<string, Item>> {
    const found = new Map<string, Item>();
    const chunks: string[][] = [];
    for (let i = 0; i < keys.length; i += 100) chunks.push(keys.slice(i, i + 100));
    await Promise.all(
      chunks.map(async (chunk) => {
        let request: Record<string, { Keys: Item[]; ConsistentRead: boolean; ProjectionExpression: string; ExpressionAttributeNames: Record<string, string> }> | undefined = {
          [this.tableName]: {
            Keys: chunk.map((key) => ({ [PK]: S(key) })),
            ConsistentRead: true,
            ProjectionExpression: '#pk, #s, #a, #u, #t, #l, #o, #rd',
            ExpressionAttributeNames: { '#pk': PK, '#s': 'status', '#a': 'attempts', '#u': 'updatedAt', '#t': 'type', '#l': 'leaseUntil', '#o': 'owner', '#rd': 'redriveId' },
          },
        };
        for (let round = 0; request && round < 6; round++) {
          if (round > 0) await sleep(25 * 2 ** round);
          const response: BatchGetItemCommandOutput = await this.dynamo.send(new BatchGetItemCommand({ RequestItems: request }));
          for (const item of response.Responses?.[this.tableName] ?? []) {
            const key = item[PK]?.S;
            if (key !== undefined) found.set(key, item);
          }
          const unprocessed: KeysAndAttributes | undefined = response.UnprocessedKeys?.[this.tableName];
          request = unprocessed?.Keys?.length ? { [this.tableName]: unprocessed as never } : undefined;
        }
        if (request) throw Object.assign(new Error('BatchGetItem left keys unprocessed'), { name: 'ProvisionedThroughputExceededException' });
      }),
    );
    return found;
  }

  /**
   * Unconditional puts and deletes, 25 per BatchWriteItem, UnprocessedItems retried with
   * backoff while `until()` allows. Returns the keys that could not be written.
   */
  async writeMany(writes: readonly { key: string; put?: Item }[], until: () => boolean): Promise<Set<string>> {
    const failed = new Set<string>();
    const chunks: (typeof writes)[] = [];
    for (let i = 0; i < writes.length; i += 25) chunks.push(writes.slice(i, i + 25));
    await Promise.all(
      chunks.map(async (chunk) => {
        let pending: WriteRequest[] = chunk.map((w) => (w.put ? { PutRequest: { Item: w.put } } : { DeleteRequest: { Key: { [PK]: S(w.key) } } }));
        for (let round = 0; pending.length > 0 && round < 8; round++) {
          if (round > 0) {
            if (!until()) break;
            await sleep(Math.min(1000, 20 * 2 ** round));
          }
          try {
            const response = await this.dynamo.send(new BatchWriteItemCommand({ RequestItems: { [this.tableName]: pending } }));
            pending = response.UnprocessedItems?.[this.tableName] ?? [];
          } catch (error) {
            if (!isTransient(error)) break;
          }
        }
        for (const request of pending) {
          const key = (request.PutRequest?.Item ?? request.DeleteRequest?.Key)?.[PK]?.S;
          if (key !== undefined) failed.add(key);
        }
      }),
    );
    return failed;
  }

  /**
   * A lease holder's completion when its lease may have run out (an overrun), or an outcome
   * copy's: written only while the record still carries the holder's owner token.
   */
  async putIfStillMine(item: Item, owner: string): Promise<'written' | 'lost'> {
    const succeeded = item.status?.S === 'SUCCEEDED';
    try {
      await this.dynamo.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: item,
          ConditionExpression: succeeded ? STILL_MINE_CONDITION : STILL_MINE_LIVE_CONDITION,
          ExpressionAttributeNames: succeeded ? STILL_MINE_NAMES : STILL_MINE_LIVE_NAMES,
          ExpressionAttributeValues: succeeded ? { ':o': S(owner) } : { ':o': S(owner), ':cx': V_CANCELLED },
        }),
      );
      return 'written';
    } catch (error) {
      if (isConditionalFailure(error)) return 'lost';
      throw error;
    }
  }

  /**
   * Releases a lease this invocation's acquire created (the item did not exist before): deleted
   * while it is still ours and not cancelled meanwhile (a cancel must outlive the release).
   */
  async deleteIfStillMine(key: string, owner: string): Promise<'written' | 'lost'> {
    try {
      await this.dynamo.send(
        new DeleteItemCommand({
          TableName: this.tableName,
          Key: { [PK]: S(key) },
          ConditionExpression: RELEASE_DELETE_CONDITION,
          ExpressionAttributeNames: RELEASE_DELETE_NAMES,
          ExpressionAttributeValues: { ':o': S(owner), ':cx': V_CANCELLED },
        }),
      );
      return 'written';
    } catch (error) {
      if (isConditionalFailure(error)) return 'lost';
      throw error;
    }
  }

  /** One unconditional PutItem (record mode's SUCCEEDED from an outcome copy, as its batch write would have been). */
  async writeOne(item: Item): Promise<void> {
    await this.dynamo.send(new PutItemCommand({ TableName: this.tableName, Item: item }));
  }

  /**
   * `record` mode holds no lease, so a copy that failed must not overwrite the SUCCEEDED
   * another copy wrote meanwhile (a later duplicate would then run again).
   */
  async putUnlessSucceeded(item: Item): Promise<'written' | 'succeeded'> {
    try {
      await this.dynamo.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: item,
          ConditionExpression: UNLESS_SUCCEEDED_CONDITION,
          ExpressionAttributeNames: UNLESS_SUCCEEDED_NAMES,
          ExpressionAttributeValues: { ':ok': V_SUCCEEDED, ':cx': V_CANCELLED },
        }),
      );
      return 'written';
    } catch (error) {
      if (isConditionalFailure(error)) return 'succeeded';
      throw error;
    }
  }

  /** Records DEAD_LETTERED for a task nobody holds (e.g. an unknown type); false when a live or finished task owns the key. */
  async markDeadLettered(item: Item, nowMs: number): Promise<boolean> {
    try {
      await this.dynamo.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: item,
          ConditionExpression: MARK_CONDITION,
          ExpressionAttributeNames: MARK_NAMES,
          ExpressionAttributeValues: { ':ok': V_SUCCEEDED, ':cx': V_CANCELLED, ':now': N(nowMs), ':t': item.type! },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionalFailure(error)) return false;
      throw error;
    }
  }
}
