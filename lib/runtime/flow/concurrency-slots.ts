/**
 * A concurrency limit shared by every consumer instance: the slots of one key in one
 * task-table item — a map of holder id → lease end (epoch ms) and a version number. Taking a
 * slot rewrites the map (expired holders dropped, this one added) on the condition that the
 * version is the one this container last saw; a lost race returns the current item
 * (ReturnValuesOnConditionCheckFailure ALL_OLD). Releasing removes the holder and moves the
 * version on (unconditional). A holder that never releases (its consumer crashed, or the
 * release write failed) stops counting when its lease ends: the end of the invocation that
 * took it, plus the lease margin.
 */
import { ConditionalCheckFailedException, UpdateItemCommand, type AttributeValue, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { TABLE_SCHEMA } from '../../protocol/resources.ts';
import type { Clock } from '../config.ts';

export type SlotDecision =
  | { readonly admitted: true; readonly writes: number }
  /** Refused: all slots are held; `freeAtMs` is when the earliest lease ends (epoch ms). */
  | { readonly admitted: false; readonly freeAtMs: number; readonly writes: number };

interface SlotsSeen {
  readonly version: number | undefined;
  readonly holders: ReadonlyMap<string, number>;
  /** When this view was read from the table (clock ms). */
  readonly at: number;
}

/** A view of the slots this young that says they are all held refuses without a write. */
const FRESH_VIEW_MS = 1000;

const MAX_RACES = 6;
/** An idle key's item is left to the table's TTL this long after its last lease. */
const IDLE_TTL_SECONDS = 3600;

export class ConcurrencySlots {
  private readonly seen = new Map<string, SlotsSeen>();

  constructor(
    private readonly dynamo: DynamoDBClient,
    private readonly tableName: string,
    private readonly clock: Clock,
  ) {}

  // Not put in order per key within a container: under throttling, ten calls in a row would outlast
  // the invocation; a race lost to a sibling costs one write instead.
  async take(itemKey: string, max: number, holder: string, leaseUntil: number): Promise<SlotDecision> {
    let known: SlotsSeen = this.seen.get(itemKey) ?? { version: undefined, holders: new Map(), at: 0 };
    let writes = 0;
    for (let race = 0; race < MAX_RACES; race++) {
      const now = this.clock.now();
      const live = [...known.holders].filter(([, until]) => until > now);
      if (live.length >= max) {
        // A view just read decides; an older one is checked by one write first (holders may have left since).
        if (race > 0 || known.version === undefined || now - known.at < FRESH_VIEW_MS) return { admitted: false, freeAtMs: Math.min(...live.map(([, until]) => until)), writes };
      }
      const holders = new Map(live.length < max ? [...live, [holder, leaseUntil]] : live);
      const version = (known.version ?? 0) + 1;
      writes++;
      try {
        await this.dynamo.send(
          new UpdateItemCommand({
            TableName: this.tableName,
            Key: { [TABLE_SCHEMA.partitionKey]: { S: itemKey } },
            UpdateExpression: 'SET holders = :holders, #v = :version, #ttl = :ttl',
            ConditionExpression: known.version === undefined ? 'attribute_not_exists(#v)' : '#v = :seen',
            ExpressionAttributeNames: { '#ttl': TABLE_SCHEMA.ttlAttribute, '#v': 'version' },
            ExpressionAttributeValues: {
              ':holders': { M: Object.fromEntries([...holders].map(([id, until]) => [id, { N: String(until) }])) },
              ':version': { N: String(version) },
              ':ttl': { N: String(Math.ceil(Math.max(leaseUntil, ...holders.values()) / 1000) + IDLE_TTL_SECONDS) },
              ...(known.version === undefined ? {} : { ':seen': { N: String(known.version) } }),
            },
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        );
        this.seen.set(itemKey, { version, holders, at: now });
        if (holders.has(holder)) return { admitted: true, writes };
        return { admitted: false, freeAtMs: Math.min(...live.map(([, until]) => until)), writes };
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
        known = slotsOf(error.Item, this.clock.now());
        this.seen.set(itemKey, known);
        // Our own earlier try was applied and its response lost (the SDK retried it): the slot is ours.
        if (known.holders.get(holder) === leaseUntil) return { admitted: true, writes };
      }
    }
    return { admitted: false, freeAtMs: this.clock.now() + 1000, writes };
  }

  /** Frees the holder's slot (1 write unit). A failure is the caller's to log: the lease ends anyway. */
  async release(itemKey: string, holder: string): Promise<void> {
    const out = await this.dynamo.send(
      new UpdateItemCommand({
        TableName: this.tableName,
        Key: { [TABLE_SCHEMA.partitionKey]: { S: itemKey } },
        UpdateExpression: 'REMOVE holders.#holder ADD #v :one',
        ConditionExpression: 'attribute_exists(holders)',
        ExpressionAttributeNames: { '#holder': holder, '#v': 'version' },
        ExpressionAttributeValues: { ':one': { N: '1' } },
        // The item after the release: this container's next take starts from it, not from a view it just made stale.
        ReturnValues: 'ALL_NEW',
      }),
    ).catch((error: unknown) => {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      return undefined;
    });
    if (out?.Attributes) this.seen.set(itemKey, slotsOf(out.Attributes, this.clock.now()));
    else this.seen.delete(itemKey);
  }
}

function slotsOf(item: Record<string, AttributeValue> | undefined, at: number): SlotsSeen {
  const version = item?.version?.N;
  const holders = new Map<string, number>();
  for (const [id, until] of Object.entries(item?.holders?.M ?? {})) holders.set(id, Number(until.N));
  return { version: version === undefined ? undefined : Number(version), holders, at };
}
