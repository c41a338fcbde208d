/**
 * Lanes in the consumer: which lane this function runs (TASKQ_LANE) and the stack's routing
 * table (TASKQ_ROUTING, set by the construct). A record whose type belongs to another lane —
 * sent by a producer whose routing cache predates the deployment that moved the type — is
 * forwarded to that lane's queue unchanged (same body and attributes: task id, idempotency key;
 * its attempts are in the task table under the key), never run in the wrong lane.
 */
import { LANE_ENV, laneOf, parseRoutingTable, type RoutingTable } from '../protocol/lanes.ts';

export interface LaneRouting {
  readonly lane: string;
  readonly table: RoutingTable;
}

export function laneRoutingFromEnv(env: NodeJS.ProcessEnv): LaneRouting | undefined {
  const lane = env[LANE_ENV.lane];
  const routing = env[LANE_ENV.routing];
  if (!lane || !routing) return undefined;
  let table: RoutingTable;
  try {
    table = parseRoutingTable(routing);
  } catch (error) {
    throw new Error(`${LANE_ENV.routing} is not a routing table: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (table.lanes[lane] === undefined) throw new Error(`${LANE_ENV.lane}=${lane} is not a lane of ${LANE_ENV.routing} (${Object.keys(table.lanes).join(', ')})`);
  return { lane, table };
}

/** The queue URL a record of `type` must be forwarded to, or undefined when it belongs here. */
export function forwardTarget(routing: LaneRouting | undefined, type: string): { lane: string; queueUrl: string } | undefined {
  if (!routing) return undefined;
  const lane = laneOf(routing.table, type);
  if (lane === routing.lane) return undefined;
  const queueUrl = routing.table.lanes[lane];
  return queueUrl === undefined ? undefined : { lane, queueUrl };
}
