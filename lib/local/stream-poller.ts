/**
 * A DynamoDB Streams event source mapping on the laptop: reads a table's stream on DynamoDB
 * Local (DescribeStream, GetShardIterator, GetRecords) and invokes the function with
 * Lambda-shaped batches, as the template's AWS::Lambda::EventSourceMapping says — batch size,
 * starting position, partial batch responses (retry from the reported record), the retry limit
 * and the on-failure destination (a description of the abandoned batch, as Lambda writes it).
 * Shards are read in order, a child after its parent. The mapping's filter is not applied: the
 * completion-events function ignores what the filter would have dropped.
 */
import {
  DescribeStreamCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type DynamoDBStreamsClient,
  type _Record as StreamRecord,
} from '@aws-sdk/client-dynamodb-streams';

export type LambdaStreamHandler = (event: { Records: unknown[] }, context?: unknown) => Promise<{ batchItemFailures?: { itemIdentifier: string }[] } | void>;

/** What Lambda writes to a stream mapping's on-failure destination (the records themselves stay in the stream). */
export interface StreamBatchFailure {
  readonly requestContext: { readonly condition: 'RetryAttemptsExhausted'; readonly approximateInvokeCount: number; readonly functionArn: string };
  readonly DDBStreamBatchInfo: {
    readonly shardId: string;
    readonly startSequenceNumber: string;
    readonly endSequenceNumber: string;
    readonly batchSize: number;
    readonly streamArn: string;
  };
  readonly timestamp: string;
}

export interface StreamPollerOptions {
  readonly streams: DynamoDBStreamsClient;
  readonly streamArn: string;
  readonly handler: LambdaStreamHandler;
  readonly functionArn: string;
  /** @default 100 */
  readonly batchSize?: number;
  /** @default 'TRIM_HORIZON' */
  readonly startingPosition?: 'TRIM_HORIZON' | 'LATEST';
  /** Retries of a failing batch before it is abandoned; -1: until it succeeds. @default -1 */
  readonly maximumRetryAttempts?: number;
  /** Where an abandoned batch is described (the on-failure destination). */
  readonly onFailure?: (failure: StreamBatchFailure) => Promise<void>;
  /** @default 200 */
  readonly pollIntervalMs?: number;
  readonly onInvocation?: (result: { records: number; failed: boolean }) => void;
  readonly onError?: (error: unknown) => void;
}

interface ShardState {
  iterator: string | undefined;
  pending: StreamRecord[];
  attempts: number;
  closed: boolean;
}

export class StreamPoller {
  private readonly shards = new Map<string, ShardState>();
  private readonly finished = new Set<string>();
  private running = false;
  private loop: Promise<void> | undefined;
  private lastDescribe = 0;
  private parents = new Map<string, string | undefined>();

  constructor(private readonly options: StreamPollerOptions) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }

  /** Reads and invokes until nothing is left to read now (tests). */
  async drain(): Promise<void> {
    for (let i = 0; i < 50; i++) {
      const progressed = await this.tick(true);
      if (!progressed) return;
    }
  }

  private async run(): Promise<void> {
    while (this.running) {
      try {
        await this.tick(false);
      } catch (error) {
        this.options.onError?.(error);
      }
      await new Promise((resolve) => setTimeout(resolve, this.options.pollIntervalMs ?? 200));
    }
  }

  /** One pass over the readable shards; true when it read or invoked anything. */
  private async tick(forceDescribe: boolean): Promise<boolean> {
    if (forceDescribe || Date.now() - this.lastDescribe > 1000) await this.discoverShards();
    let progressed = false;
    for (const [shardId, shard] of this.shards) {
      const parent = this.parents.get(shardId);
      if (parent !== undefined && this.shards.has(parent) && !this.finished.has(parent)) continue;
      if (shard.pending.length === 0 && shard.iterator !== undefined) {
        const out = await this.options.streams.send(new GetRecordsCommand({ ShardIterator: shard.iterator, Limit: 1000 }));
        shard.pending = out.Records ?? [];
        shard.iterator = out.NextShardIterator;
        if (shard.iterator === undefined) shard.closed = true;
      }
      if (shard.pending.length > 0) {
        progressed = true;
        await this.invoke(shardId, shard);
      } else if (shard.closed) {
        this.finished.add(shardId);
      }
    }
    return progressed;
  }

  private async discoverShards(): Promise<void> {
    this.lastDescribe = Date.now();
    const out = await this.options.streams.send(new DescribeStreamCommand({ StreamArn: this.options.streamArn }));
    for (const shard of out.StreamDescription?.Shards ?? []) {
      const id = shard.ShardId!;
      if (this.shards.has(id)) continue;
      this.parents.set(id, shard.ParentShardId);
      // A shard found after the first look (a child) is read from its start, whatever the mapping's position.
      const type = this.shards.size === 0 ? (this.options.startingPosition ?? 'TRIM_HORIZON') : 'TRIM_HORIZON';
      const iterator = await this.options.streams.send(new GetShardIteratorCommand({ StreamArn: this.options.streamArn, ShardId: id, ShardIteratorType: type }));
      this.shards.set(id, { iterator: iterator.ShardIterator, pending: [], attempts: 0, closed: iterator.ShardIterator === undefined });
    }
  }

  private async invoke(shardId: string, shard: ShardState): Promise<void> {
    const batch = shard.pending.slice(0, this.options.batchSize ?? 100);
    let failedAt = -1;
    try {
      const response = await this.options.handler({ Records: batch.map((r) => ({ ...r, eventSourceARN: this.options.streamArn })) });
      const first = response?.batchItemFailures?.[0]?.itemIdentifier;
      if (first !== undefined) {
        failedAt = batch.findIndex((r) => r.dynamodb?.SequenceNumber === first);
        // An identifier that names no record of the batch fails the whole batch, as on Lambda.
        if (failedAt < 0) failedAt = 0;
      }
    } catch (error) {
      this.options.onError?.(error);
      failedAt = 0;
    }
    this.options.onInvocation?.({ records: batch.length, failed: failedAt >= 0 });
    if (failedAt < 0) {
      shard.pending = shard.pending.slice(batch.length);
      shard.attempts = 0;
      return;
    }
    shard.pending = shard.pending.slice(failedAt);
    shard.attempts++;
    const max = this.options.maximumRetryAttempts ?? -1;
    if (max >= 0 && shard.attempts > max) {
      const abandoned = batch.slice(failedAt);
      await this.options.onFailure?.({
        requestContext: { condition: 'RetryAttemptsExhausted', approximateInvokeCount: shard.attempts, functionArn: this.options.functionArn },
        DDBStreamBatchInfo: {
          shardId,
          startSequenceNumber: abandoned[0]!.dynamodb!.SequenceNumber!,
          endSequenceNumber: abandoned.at(-1)!.dynamodb!.SequenceNumber!,
          batchSize: abandoned.length,
          streamArn: this.options.streamArn,
        },
        timestamp: new Date().toISOString(),
      });
      shard.pending = shard.pending.slice(abandoned.length);
      shard.attempts = 0;
    }
  }
}
