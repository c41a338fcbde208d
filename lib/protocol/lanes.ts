/**
 * Lanes and the routing table: names the construct, the producer, the consumer and the CLI
 * agree on. A lane is a queue + DLQ + consumer of its own for a set of task types; the
 * routing table (one item in the task table, written by the stack) says which lane's queue
 * each type goes to and which task types an event fans out to.
 */
import { STACK_OUTPUTS } from './resources.ts';

/** The lane of every type no lane names: the construct's own queue and consumer. */
export const DEFAULT_LANE = 'default';

/** Lane names: lower-case letters, digits and single hyphens, starting with a letter, ≤ 24 characters. */
export const LANE_NAME_PATTERN = /^[a-z](?:[a-z0-9]|-(?=[a-z0-9])){0,23}$/;

/** Consumer environment variables of lanes (beside ENV in resources.ts). */
export const LANE_ENV = {
  /** The lane this consumer runs. */
  lane: 'TASKQ_LANE',
  /**
   * JSON of the stack's routing (RoutingTable): a record of a type that belongs to another
   * lane is forwarded to that lane's queue instead of run here.
   */
  routing: 'TASKQ_ROUTING',
} as const;

/**
 * The routing table item's partition key in the task table. Reserved: no task id or
 * idempotency key may be this (envelope.ts RESERVED_KEYS; the producer refuses it with
 * INVALID_TASK_ID / INVALID_IDEMPOTENCY_KEY, the consumer dead-letters it as a bad envelope).
 */
export const ROUTING_ITEM_KEY = 'taskq:routing';
/** The attribute holding the routing table as JSON (a string, so it reads back exactly as written). */
export const ROUTING_ATTRIBUTE = 'routing';

/** What the stack writes and producers read: where each type goes, and what events fan out to. */
export interface RoutingTable {
  /** Queue URL of every lane, the default lane included. */
  readonly lanes: Readonly<Record<string, string>>;
  /** The lane of each type a named lane lists; every other type goes to the default lane. */
  readonly types: Readonly<Record<string, string>>;
  /** Event name → the task types it is delivered to, one task each. */
  readonly fanOut: Readonly<Record<string, readonly string[]>>;
}

/** The lane of a type under a routing table. */
export function laneOf(table: RoutingTable, type: string): string {
  return table.types[type] ?? DEFAULT_LANE;
}

/** The queue URL a task of `type` is sent to under a routing table. */
export function queueUrlOf(table: RoutingTable, type: string): string {
  const lane = laneOf(table, type);
  const url = table.lanes[lane];
  if (url === undefined) throw new Error(`routing table: type ${JSON.stringify(type)} is in lane ${JSON.stringify(lane)}, which has no queue`);
  return url;
}

/** Parses and checks a routing table read from the task table or the environment. */
export function parseRoutingTable(text: string): RoutingTable {
  const value = JSON.parse(text) as Partial<RoutingTable>;
  const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (!isRecord(value) || !isRecord(value.lanes) || !isRecord(value.types) || !isRecord(value.fanOut)) {
    throw new Error('routing table: expected an object with lanes, types and fanOut');
  }
  if (typeof value.lanes[DEFAULT_LANE] !== 'string') throw new Error(`routing table: no queue for the ${DEFAULT_LANE} lane`);
  return value as RoutingTable;
}

/** `critical-path` → `CriticalPath`: lane names inside logical ids and output keys. */
export function lanePascalName(lane: string): string {
  return lane
    .split('-')
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
}

/** Stack outputs each named lane has (the default lane keeps STACK_OUTPUTS' keys). */
export const LANE_OUTPUT_KEYS = ['queueUrl', 'queueArn', 'deadLetterQueueUrl', 'deadLetterQueueArn', 'consumerFunctionName', 'consumerLogGroupName'] as const;
export type LaneOutputKey = (typeof LANE_OUTPUT_KEYS)[number];

/** The output key of a lane's resource: `QueueUrl` for the default lane, `BulkLaneQueueUrl` for lane `bulk`. */
export function laneOutputKey(lane: string, key: LaneOutputKey): string {
  return lane === DEFAULT_LANE ? STACK_OUTPUTS[key] : `${lanePascalName(lane)}Lane${STACK_OUTPUTS[key]}`;
}
