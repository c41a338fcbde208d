/**
 * A lane: a set of task types with a queue, a dead-letter queue, an event source mapping and
 * a consumer function of its own, so a backlog of one lane never delays another's tasks.
 * Priorities are lanes: a high lane with reserved capacity, a low lane capped.
 */
import type { Duration } from 'aws-cdk-lib';

export interface LaneProps {
  /**
   * The task types this lane runs. Each type is in at most one lane; types in no lane run in
   * the default lane (the construct's own queue and consumer).
   */
  readonly types: string[];
  /**
   * Reserved concurrency of the lane's consumer function: capacity no other lane (or function
   * of the account) can take, and a cap. Lambda keeps 100 of the account's concurrency
   * unreserved, so reservations must leave that much.
   * @default none — the lane shares the account's unreserved concurrency.
   */
  readonly reservedConcurrency?: number;
  /**
   * Maximum concurrent invocations by the lane's SQS event source (2 – 1,000); not above
   * `reservedConcurrency` when both are set. Caps a low-priority lane without reserving.
   * @default none — the event source scales up to the available concurrency.
   */
  readonly maxConcurrency?: number;
  /**
   * Records per invocation of the lane's consumer (1 – 10,000; ≤ 10 for FIFO). Above 10 a
   * batching window of at least 1 second is required.
   * @default 10 — as the default lane.
   */
  readonly batchSize?: number;
  /**
   * How long the lane's event source gathers records before invoking (0 – 300 s). Not
   * available for FIFO queues.
   * @default none (0 s) — tasks start as soon as they arrive.
   */
  readonly maxBatchingWindow?: Duration;
  /**
   * Memory of the lane's consumer function, MB (128 – 10,240).
   * @default the construct's `memorySize` (256 unless set).
   */
  readonly memorySize?: number;
  /**
   * Timeout of the lane's consumer function (1 s – 15 min). The lane queue's visibility
   * timeout is derived from it (6 × timeout + batching window).
   * @default the construct's `timeout` (30 seconds unless set).
   */
  readonly timeout?: Duration;
}
