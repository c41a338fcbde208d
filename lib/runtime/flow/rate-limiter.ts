/**
 * A rate limit shared by every consumer instance: GCRA (the token bucket written as one
 * number) in one task-table item per bucket. The item holds the bucket's theoretical arrival
 * time `tat` (epoch ms): a task may start at tat − (burst − 1) · interval, and taking that
 * start moves tat on by one interval (interval = 1000 / perSecond ms). A start at most
 * `maxHoldMs` away is reserved and the consumer holds the task until then (so the limit is
 * used fully, without a trip through the queue); a later one is refused, and the task goes
 * back to the queue until then — reservations push tat on, so that time includes the tasks
 * already holding a start.
 *
 * One conditional UpdateItem per admitted task (1 write unit), with no race between consumers:
 * while the bucket is busy (tat ≥ now) the update adds one interval to tat atomically, on the
 * condition that tat is still within the reach (now + maxHoldMs + tolerance) — the new tat,
 * returned by the write, says when the task may start; an idle bucket is reset to now + one
 * interval, on the condition that it is still idle. A write that fails returns the current
 * item (ReturnValuesOnConditionCheckFailure ALL_OLD), so no read is ever needed. A refusal
 * that the last seen tat already decides costs nothing: tat only grows, so a stale value can
 * only make a refusal cost one failed write, never refuse wrongly.
 */
import { ConditionalCheckFailedException, UpdateItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { TABLE_SCHEMA } from '../../protocol/resources.ts';
import type { Clock } from '../config.ts';

export interface RateLimitDecision {
  readonly admitted: boolean;
  /** Admitted: when the task may start (epoch ms, ≤ now + maxHoldMs). Refused: when the bucket would admit one. */
  readonly startAt: number;
  /** Conditional writes made (each one write unit, refused or not). */
  readonly writes: number;
}

/** Races lost in a row before the task is refused as if the bucket were empty. */
const MAX_RACES = 4;
/** An idle bucket's item is left to the table's TTL this long after its tat. */
const IDLE_TTL_SECONDS = 3600;

export class RateLimiter {
  /** The last tat seen per bucket item (undefined: assumed absent). */
  private readonly seen = new Map<string, number>();

  constructor(
    private readonly dynamo: DynamoDBClient,
    private readonly tableName: string,
    private readonly clock: Clock,
  ) {}

  // Calls for one key are not put in order: the increment is atomic, so concurrent takes do not race.
  async take(itemKey: string, perSecond: number, burst: number, maxHoldMs: number): Promise<RateLimitDecision> {
    const interval = 1000 / perSecond;
    const tolerance = (burst - 1) * interval;
    let known = this.seen.get(itemKey);
    let writes = 0;
    for (let race = 0; race < MAX_RACES; race++) {
      const now = this.clock.now();
      if (known !== undefined && known - tolerance - now > maxHoldMs) return { admitted: false, startAt: known - tolerance, writes };
      // A bucket this container saw busy within the last second is most likely still busy (others take tokens
      // meanwhile): try the increment first; a wrong guess costs one failed write either way. A tat just read
      // from the table decides: one already past means the bucket is idle (the increment's condition would fail).
      const busy = known !== undefined && (race > 0 ? known >= now : known >= now - 1000);
      writes++;
      try {
        const response = await this.dynamo.send(
          new UpdateItemCommand({
            TableName: this.tableName,
            Key: { [TABLE_SCHEMA.partitionKey]: { S: itemKey } },
            ...(busy
              ? {
                  UpdateExpression: 'SET tat = tat + :interval, #ttl = :ttl',
                  ConditionExpression: 'tat BETWEEN :now AND :reach',
                  ExpressionAttributeValues: {
                    ':interval': { N: String(interval) },
                    ':now': { N: String(now) },
                    ':reach': { N: String(now + maxHoldMs + tolerance) },
                    ':ttl': { N: String(Math.ceil((now + maxHoldMs + tolerance) / 1000) + IDLE_TTL_SECONDS) },
                  },
                }
              : {
                  UpdateExpression: 'SET tat = :next, #ttl = :ttl',
                  ConditionExpression: 'attribute_not_exists(tat) OR tat < :now',
                  ExpressionAttributeValues: {
                    ':next': { N: String(now + interval) },
                    ':now': { N: String(now) },
                    ':ttl': { N: String(Math.ceil((now + interval) / 1000) + IDLE_TTL_SECONDS) },
                  },
                }),
            ExpressionAttributeNames: { '#ttl': TABLE_SCHEMA.ttlAttribute },
            ReturnValues: 'UPDATED_NEW',
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        );
        const tat = Number(response.Attributes?.tat?.N ?? now + interval);
        this.seen.set(itemKey, tat);
        return { admitted: true, startAt: Math.max(now, tat - interval - tolerance), writes };
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
        const current = error.Item?.tat?.N;
        known = current === undefined ? undefined : Number(current);
        if (known === undefined) this.seen.delete(itemKey);
        else this.seen.set(itemKey, known);
      }
    }
    // Contended: the others are taking the tokens; come back after one interval.
    return { admitted: false, startAt: this.clock.now() + interval, writes };
  }
}
