/**
 * Deduplication and debounce on send: one item per dedupe key in the task table, written by
 * the producer with one conditional UpdateItem per send (ReturnValuesOnConditionCheckFailure
 * ALL_OLD, so a refused write also says why — no read).
 *
 * - `simple`:   the first send of a key starts a task; sends within ttlSeconds of it are skipped
 *               and return its task id.
 * - `throttle`: at most one task per key per fixed window of ttlSeconds (windows aligned to the
 *               epoch); the window's later sends are skipped and return the window's task id.
 * - `debounce`: every send is a new version of the key's pending task (same task id until it
 *               runs), sent with a delay of ttlSeconds; the consumer runs only the latest
 *               version, once the key has been quiet for ttlSeconds (lib/runtime/flow/debounce.ts),
 *               and acknowledges the others. The last payload wins.
 */
import { ConditionalCheckFailedException, UpdateItemCommand, type AttributeValue, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DEBOUNCE_ATTRIBUTE, dedupeItemKey, encodeDebounce } from '../protocol/dedupe.ts';
import { SendError, TaskValidationError } from '../protocol/errors.ts';
import { CONTROL_CHARACTERS, IDEMPOTENCY_KEY_MAX_LENGTH } from '../protocol/limits.ts';
import { TABLE_SCHEMA } from '../protocol/resources.ts';

export type DedupeMode = 'simple' | 'throttle' | 'debounce';

/** Send option `dedupe` (docs/FLOW-CONTROL.md). Needs the producer's tableName. */
export interface DedupeOptions {
  /** The dedupe key (e.g. the document id): 1–256 characters without control characters. */
  readonly key: string;
  /** The window, whole seconds ≥ 1; for debounce, the quiet time before the task runs (at most the queue's retention). */
  readonly ttlSeconds: number;
  /** @default 'simple' */
  readonly mode?: DedupeMode;
}

/** What a send with `dedupe` does. */
export type DedupeClaim =
  | { readonly kind: 'send'; readonly taskId: string; readonly delayMs?: number; readonly attribute?: { readonly name: string; readonly value: string } }
  /** Skipped: the key's task within the window already exists. */
  | { readonly kind: 'skip'; readonly taskId: string };

const MODES = new Set<DedupeMode>(['simple', 'throttle', 'debounce']);
const MAX_RACES = 4;

function invalid(message: string): never {
  throw new TaskValidationError('INVALID_DEDUPE', message);
}

/** Throws INVALID_DEDUPE for options no send could honour. */
export function checkDedupe(d: DedupeOptions, context: { fifo: boolean; retentionSeconds: number; hasTable: boolean }): DedupeMode {
  if (typeof d !== 'object' || d === null) invalid('dedupe must be an object { key, ttlSeconds, mode? }');
  const mode = d.mode ?? 'simple';
  if (!MODES.has(mode)) invalid(`dedupe.mode must be 'simple', 'throttle' or 'debounce', got ${JSON.stringify(d.mode)}`);
  if (typeof d.key !== 'string' || d.key.length === 0 || d.key.length > IDEMPOTENCY_KEY_MAX_LENGTH || CONTROL_CHARACTERS.test(d.key)) {
    invalid(`dedupe.key must be 1–${IDEMPOTENCY_KEY_MAX_LENGTH} characters without control characters`);
  }
  if (!(Number.isInteger(d.ttlSeconds) && d.ttlSeconds >= 1)) invalid(`dedupe.ttlSeconds must be a whole number of seconds ≥ 1, got ${String(d.ttlSeconds)}`);
  if (mode === 'debounce') {
    if (d.ttlSeconds >= context.retentionSeconds) {
      invalid(`dedupe.ttlSeconds ${d.ttlSeconds} (debounce window) must be shorter than the queue's retention (${context.retentionSeconds} s): the delayed task would expire before it runs`);
    }
    if (context.fifo) invalid("dedupe mode 'debounce' needs a per-message delay, which FIFO queues do not have");
  }
  if (!context.hasTable) invalid('dedupe needs the task table: give the producer tableName');
  return mode;
}

export class DedupeStore {
  constructor(
    private readonly dynamo: () => Promise<DynamoDBClient>,
    private readonly tableName: string,
    private readonly now: () => number,
  ) {}

  /** One conditional write (debounce: a second one when a new burst starts). */
  async claim(type: string, d: DedupeOptions, mode: DedupeMode, newTaskId: string): Promise<DedupeClaim> {
    try {
      return mode === 'debounce' ? await this.debounce(type, d, newTaskId) : await this.once(type, d, mode, newTaskId);
    } catch (error) {
      if (error instanceof TaskValidationError) throw error;
      throw new SendError('DEDUPE_FAILED', `dedupe item for key ${JSON.stringify(d.key)} not written: ${(error as Error)?.message ?? String(error)}`, {}, { cause: error });
    }
  }

  /** A send that was claimed but could not be sent: the key is freed (best effort), so the next send is not skipped for nothing. */
  async release(type: string, d: DedupeOptions, mode: DedupeMode, taskId: string): Promise<void> {
    if (mode === 'debounce') return; // the burst's other versions (or the next send) still carry it
    const dynamo = await this.dynamo();
    await dynamo
      .send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: key(dedupeItemKey(mode, type, d.key)),
          UpdateExpression: 'SET #until = :zero',
          ConditionExpression: 'taskId = :mine',
          ExpressionAttributeNames: { '#until': 'until' },
          ExpressionAttributeValues: { ':zero': { N: '0' }, ':mine': { S: taskId } },
        }),
      )
      .catch(() => undefined);
  }

  private async once(type: string, d: DedupeOptions, mode: 'simple' | 'throttle', newTaskId: string): Promise<DedupeClaim> {
    const now = this.now();
    const windowMs = d.ttlSeconds * 1000;
    const until = mode === 'simple' ? now + windowMs : (Math.floor(now / windowMs) + 1) * windowMs;
    const dynamo = await this.dynamo();
    try {
      await dynamo.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: key(dedupeItemKey(mode, type, d.key)),
          UpdateExpression: 'SET taskId = :id, #until = :until, #ttl = :ttl',
          ConditionExpression: 'attribute_not_exists(#until) OR #until <= :now',
          ExpressionAttributeNames: { '#until': 'until', '#ttl': TABLE_SCHEMA.ttlAttribute },
          ExpressionAttributeValues: { ':id': { S: newTaskId }, ':until': { N: String(until) }, ':now': { N: String(now) }, ':ttl': { N: String(Math.ceil(until / 1000) + 3600) } },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return { kind: 'send', taskId: newTaskId };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      return { kind: 'skip', taskId: error.Item?.taskId?.S ?? newTaskId };
    }
  }

  private async debounce(type: string, d: DedupeOptions, newTaskId: string): Promise<DedupeClaim> {
    const dynamo = await this.dynamo();
    const itemKey = dedupeItemKey('debounce', type, d.key);
    const windowMs = d.ttlSeconds * 1000;
    const sent = (taskId: string, version: number): DedupeClaim => ({
      kind: 'send',
      taskId,
      delayMs: windowMs,
      attribute: { name: DEBOUNCE_ATTRIBUTE, value: encodeDebounce({ key: d.key, version, windowMs }) },
    });
    for (let race = 0; race < MAX_RACES; race++) {
      const now = this.now();
      const ttl = { N: String(Math.ceil((now + windowMs) / 1000) + 3600) };
      let old: Record<string, AttributeValue> | undefined;
      try {
        // The key's pending task (not yet taken by a consumer): a new version of it.
        const out = await dynamo.send(
          new UpdateItemCommand({
            TableName: this.tableName,
            Key: key(itemKey),
            UpdateExpression: 'SET #v = #v + :one, lastSendAt = :now, #ttl = :ttl',
            ConditionExpression: 'attribute_exists(#v) AND (attribute_not_exists(ranVersion) OR ranVersion <> #v)',
            ExpressionAttributeNames: { '#v': 'version', '#ttl': TABLE_SCHEMA.ttlAttribute },
            ExpressionAttributeValues: { ':one': { N: '1' }, ':now': { N: String(now) }, ':ttl': ttl },
            ReturnValues: 'ALL_NEW',
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        );
        return sent(out.Attributes!.taskId!.S!, Number(out.Attributes!.version!.N));
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
        old = error.Item;
      }
      // No pending task (none yet, or the last one was taken): a new one, on the condition nothing changed.
      const previous = old?.version?.N;
      const version = previous === undefined ? 1 : Number(previous) + 1;
      try {
        await dynamo.send(
          new UpdateItemCommand({
            TableName: this.tableName,
            Key: key(itemKey),
            UpdateExpression: 'SET taskId = :id, #v = :version, lastSendAt = :now, #ttl = :ttl REMOVE ranVersion',
            ConditionExpression: previous === undefined ? 'attribute_not_exists(#v)' : '#v = :previous',
            ExpressionAttributeNames: { '#v': 'version', '#ttl': TABLE_SCHEMA.ttlAttribute },
            ExpressionAttributeValues: {
              ':id': { S: newTaskId },
              ':version': { N: String(version) },
              ':now': { N: String(now) },
              ':ttl': ttl,
              ...(previous === undefined ? {} : { ':previous': { N: previous } }),
            },
          }),
        );
        return sent(newTaskId, version);
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
      }
    }
    throw new Error(`debounce key ${JSON.stringify(d.key)} is contended: ${MAX_RACES} conditional writes lost in a row`);
  }
}

function key(pk: string): Record<string, AttributeValue> {
  return { [TABLE_SCHEMA.partitionKey]: { S: pk } };
}

/** The retention the producer assumes for the debounce-window check: the TaskQueue construct's default (4 days). */
export const DEFAULT_QUEUE_RETENTION_SECONDS = 4 * 24 * 3600;
