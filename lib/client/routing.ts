/**
 * The producer's view of the stack's routing table (lib/protocol/lanes.ts): one GetItem on the
 * task table, cached for `cacheTtlMs`, so moving a type between lanes needs no producer
 * change — the producer picks the new lane up within one TTL after the deployment, and a task
 * it sent to the old lane in between is forwarded there by the old lane's consumer.
 *
 * A failed read keeps using the last table it had (retrying after a short pause); with no
 * table yet it fails the send (ROUTING_FAILED), nothing sent. No routing item (a stack without
 * lanes or fan-out): every type goes to the producer's `queueUrl`.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SendError, TaskValidationError } from '../protocol/errors.ts';
import { ROUTING_ATTRIBUTE, ROUTING_ITEM_KEY, parseRoutingTable, queueUrlOf, type RoutingTable } from '../protocol/lanes.ts';
import { TABLE_SCHEMA } from '../protocol/resources.ts';

export interface RoutingOptions {
  /**
   * How long a read routing table is used before it is read again, ms.
   * @default 60000 — a type that moves lanes reaches producers within a minute; one GetItem
   *   per producer per minute costs nothing worth counting (docs/ARCHITECTURE.md, "Routing").
   */
  readonly cacheTtlMs?: number;
}

export const ROUTING_DEFAULTS = {
  cacheTtlMs: 60_000,
  /** After a failed read with a table in hand: try again after this long, not on every send. */
  retryAfterFailureMs: 5_000,
} as const;

export class RoutingTableReader {
  private cached: { table: RoutingTable | undefined; until: number } | undefined;
  private reading: Promise<RoutingTable | undefined> | undefined;

  constructor(
    private readonly dynamo: () => Promise<DynamoDBClient>,
    private readonly tableName: string,
    private readonly cacheTtlMs: number,
    private readonly now: () => number,
  ) {}

  /** The routing table (cached), or undefined when the stack wrote none. */
  async table(): Promise<RoutingTable | undefined> {
    const cached = this.cached;
    if (cached && this.now() < cached.until) return cached.table;
    // Concurrent sends share one read.
    this.reading ??= this.read().finally(() => {
      this.reading = undefined;
    });
    return this.reading;
  }

  /** Where a task of `type` goes: its lane's queue, or `fallback` without a routing table. */
  async queueUrlFor(type: string, fallback: string): Promise<string> {
    const table = await this.table();
    return table ? queueUrlOf(table, type) : fallback;
  }

  /** The task types `event` fans out to. @throws TaskValidationError UNKNOWN_EVENT */
  async fanOutTargets(event: string): Promise<readonly string[]> {
    const targets = (await this.table())?.fanOut[event];
    if (!targets || targets.length === 0) {
      throw new TaskValidationError('UNKNOWN_EVENT', `the stack's routing table has no fan-out for event ${JSON.stringify(event)}: add it to the TaskQueue's fanOut`);
    }
    return targets;
  }

  private async read(): Promise<RoutingTable | undefined> {
    try {
      const client = await this.dynamo();
      const { GetItemCommand } = await import('@aws-sdk/client-dynamodb');
      const out = await client.send(
        new GetItemCommand({
          TableName: this.tableName,
          Key: { [TABLE_SCHEMA.partitionKey]: { S: ROUTING_ITEM_KEY } },
          ProjectionExpression: '#routing',
          ExpressionAttributeNames: { '#routing': ROUTING_ATTRIBUTE },
        }),
      );
      const text = out.Item?.[ROUTING_ATTRIBUTE]?.S;
      const table = text === undefined ? undefined : parseRoutingTable(text);
      this.cached = { table, until: this.now() + this.cacheTtlMs };
      return table;
    } catch (error) {
      if (this.cached) {
        this.cached = { table: this.cached.table, until: this.now() + Math.min(this.cacheTtlMs, ROUTING_DEFAULTS.retryAfterFailureMs) };
        return this.cached.table;
      }
      const awsCode = (error as { name?: string })?.name;
      throw new SendError('ROUTING_FAILED', `reading the routing table from ${this.tableName} failed: ${(error as Error)?.message ?? String(error)}`, awsCode ? { awsCode } : {}, { cause: error });
    }
  }
}
