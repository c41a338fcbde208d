/**
 * Fan-out: one event delivered to several task types, each in its own lane. The targets come
 * from the stack's routing table (`fanOut` on the construct), not from the producer, so adding
 * a subscriber is a stack change. Each target is a task of its own with idempotency key
 * `<eventId>:<target>`: its own attempts, DLQ reason and duplicate suppression.
 */
import { TaskValidationError } from '../protocol/errors.ts';
import type { BatchSendResult } from './task-producer.ts';
import type { RoutingTableReader } from './routing.ts';
import type { SendOptions, TaskInput } from './task-message.ts';

export interface PublishOptions extends Omit<SendOptions, 'taskId' | 'idempotencyKey' | 'deduplicationId'> {
  /**
   * The event's id, stable across retries of the publish (an order id, an upstream message
   * id): each target's idempotency key is `<eventId>:<target>`, so publishing the same event
   * twice runs each target once.
   */
  readonly eventId: string;
}

export interface PublishResult {
  readonly event: string;
  readonly eventId: string;
  /** One result per target, in the routing table's order. */
  readonly targets: readonly ({ readonly type: string } & BatchSendResult)[];
}

/** The idempotency key of one target of an event. */
export function fanOutIdempotencyKey(eventId: string, target: string): string {
  return `${eventId}:${target}`;
}

export async function publishEvent(
  routing: RoutingTableReader,
  sendBatch: (tasks: readonly TaskInput[]) => Promise<BatchSendResult[]>,
  event: string,
  payload: unknown,
  options: PublishOptions,
): Promise<PublishResult> {
  if (typeof options?.eventId !== 'string' || options.eventId.length === 0) {
    throw new TaskValidationError('INVALID_OPTIONS', 'publish needs options.eventId, a non-empty string stable across retries of the publish');
  }
  const { eventId, ...sendOptions } = options;
  const targets = await routing.fanOutTargets(event);
  const results = await sendBatch(targets.map((type) => ({ ...sendOptions, type, payload, idempotencyKey: fanOutIdempotencyKey(eventId, type) })));
  return { event, eventId, targets: targets.map((type, i) => ({ type, ...results[i]! })) };
}
