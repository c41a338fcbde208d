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
}

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

  async take(itemKey: string, max: number, holder: string, leaseUntil: number): Promise<SlotDecision> {
    let known: SlotsSeen = this.seen.get(itemKey) ?? { version: undefined, holders: new Map() };
    let writes = 0;
    for (let race = 0; race < MAX_RACES; race++) {
      const now = this.clock.now();
      const live = [...known.holders].filter(([, until]) => until > now);
      if (live.length >= max) {
        // Only a lease seen live is known to hold: ask the table once before refusing on a cached view.
        if (race > 0 || known.version === undefined) return { admitted: false, freeAtMs: Math.min(...live.map(([, until]) => until)), writes };
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
        this.seen.set(itemKey, { version, holders });
        if (holders.has(holder)) return { admitted: true, writes };
        return { admitted: false, freeAtMs: Math.min(...live.map(([, until]) => until)), writes };
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
        known = slotsOf(error.Item);
        this.seen.set(itemKey, known);
      }
    }
    return { admitted: false, freeAtMs: this.clock.now() + 1000, writes };
  }

  /** Frees the holder's slot (1 write unit). A failure is the caller's to log: the lease ends anyway. */
  async release(itemKey: string, holder: string): Promise<void> {
    await this.dynamo.send(
      new UpdateItemCommand({
        TableName: this.tableName,
        Key: { [TABLE_SCHEMA.partitionKey]: { S: itemKey } },
        UpdateExpression: 'REMOVE holders.#holder ADD #v :one',
        ConditionExpression: 'attribute_exists(holders)',
        ExpressionAttributeNames: { '#holder': holder, '#v': 'version' },
        ExpressionAttributeValues: { ':one': { N: '1' } },
      }),
    ).catch((error: unknown) => {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    });
    this.seen.delete(itemKey);
  }
}

function slotsOf(item: Record<string, AttributeValue> | undefined): SlotsSeen {
  const version = item?.version?.N;
  const holders = new Map<string, number>();
  for (const [id, until] of Object.entries(item?.holders?.M ?? {})) holders.set(id, Number(until.N));
  return { version: version === undefined ? undefined : Number(version), holders };
}
