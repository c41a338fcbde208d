/**
 * Synth-time checks of `lanes` and `fanOut`. A lane's event-source and function settings
 * are checked by the construct's own rules (resolveTaskQueueProps), with the errors renamed
 * to the lane's prop (`lanes.bulk.maxConcurrency`), plus the rules only lanes have.
 */
import { DEFAULT_LANE, LANE_NAME_PATTERN } from '../protocol/lanes.ts';
import type { LaneProps } from './lane-props.ts';
import type { TaskQueueProps } from './props.ts';
import { TaskQueueValidationError, resolveTaskQueueProps, type ResolvedTaskQueueConfig } from './validation.ts';

/** The ESM's smallest maximumConcurrency (ScalingConfig.MaximumConcurrency). */
export const ESM_MIN_MAX_CONCURRENCY = 2;

export interface ResolvedLane {
  readonly name: string;
  readonly types: readonly string[];
  /** The lane's settings as a whole TaskQueue config (queue, event source and consumer). */
  readonly config: ResolvedTaskQueueConfig;
}

/** The props of the lane's own settings, and the lane prop each one is reported as. */
const LANE_PROP_OF: Record<string, string> = {
  reservedConcurrentExecutions: 'reservedConcurrency',
  maxConcurrency: 'maxConcurrency',
  batchSize: 'batchSize',
  maxBatchingWindow: 'maxBatchingWindow',
  memorySize: 'memorySize',
  timeout: 'timeout',
  visibilityTimeout: 'timeout',
};

export function resolveLanes(props: TaskQueueProps): ResolvedLane[] {
  const lanes = props.lanes ?? {};
  const laneOfType = new Map<string, string>();
  const resolved: ResolvedLane[] = [];
  for (const [name, lane] of Object.entries(lanes)) {
    if (!LANE_NAME_PATTERN.test(name)) {
      fail(`lanes.${name}`, name, 'a lane name is 1–24 lower-case letters, digits and single hyphens, starting with a letter (it becomes part of queue names, logical ids and output keys)');
    }
    if (name === DEFAULT_LANE) {
      fail(`lanes.${name}`, name, `"${DEFAULT_LANE}" is the lane of every type no lane names (the construct's own queue and consumer): configure it with the top-level props`);
    }
    if (!Array.isArray(lane.types) || lane.types.length === 0) {
      fail(`lanes.${name}.types`, lane.types, 'a lane needs at least one task type (an empty lane would be a queue and a consumer nothing is sent to)');
    }
    for (const type of lane.types) {
      if (typeof type !== 'string' || type.length === 0) fail(`lanes.${name}.types`, type, 'task types are non-empty strings');
      const other = laneOfType.get(type);
      if (other !== undefined) {
        fail(`lanes.${name}.types`, type, `type ${JSON.stringify(type)} is already in lane ${JSON.stringify(other)}: a type runs in exactly one lane`);
      }
      laneOfType.set(type, name);
    }
    if (lane.maxConcurrency !== undefined && lane.reservedConcurrency !== undefined && lane.maxConcurrency > lane.reservedConcurrency) {
      fail(
        `lanes.${name}.maxConcurrency`,
        lane.maxConcurrency,
        `must not exceed the lane's reservedConcurrency (${lane.reservedConcurrency}): the event source would be throttled by the lane's own function`,
      );
    }
    if (lane.maxConcurrency !== undefined && Number.isInteger(lane.maxConcurrency) && lane.maxConcurrency < ESM_MIN_MAX_CONCURRENCY) {
      fail(`lanes.${name}.maxConcurrency`, lane.maxConcurrency, `the SQS event source's maximum concurrency is at least ${ESM_MIN_MAX_CONCURRENCY}`);
    }
    if (props.fifo && lane.maxBatchingWindow !== undefined && lane.maxBatchingWindow.toSeconds({ integral: false }) > 0) {
      fail(`lanes.${name}.maxBatchingWindow`, lane.maxBatchingWindow, 'a batching window is not supported for FIFO queues (fifo: true makes every lane FIFO)');
    }
    resolved.push({ name, types: [...lane.types], config: resolveLaneConfig(name, lane, props) });
  }
  return resolved;
}

/** Checks `fanOut`: every target is a task type of a named lane (so where it goes is the stack's, and known). */
export function resolveFanOut(props: TaskQueueProps, lanes: readonly ResolvedLane[]): Record<string, string[]> {
  const fanOut = props.fanOut ?? {};
  const known = new Set(lanes.flatMap((lane) => lane.types));
  const resolved: Record<string, string[]> = {};
  for (const [event, targets] of Object.entries(fanOut)) {
    if (event.length === 0) fail('fanOut', event, 'event names are non-empty strings');
    if (!Array.isArray(targets) || targets.length === 0) fail(`fanOut.${event}`, targets, 'an event fans out to at least one task type');
    if (new Set(targets).size !== targets.length) fail(`fanOut.${event}`, targets, 'each target type appears once (its idempotency key is `${eventId}:${target}`)');
    for (const target of targets) {
      if (!known.has(target)) {
        fail(
          `fanOut.${event}`,
          target,
          'targets must be task types of some lane (`lanes.<name>.types`): the stack, not the producer, decides where each target runs',
        );
      }
    }
    resolved[event] = [...targets];
  }
  return resolved;
}

function resolveLaneConfig(name: string, lane: LaneProps, props: TaskQueueProps): ResolvedTaskQueueConfig {
  const laneProps: TaskQueueProps = {
    ...props,
    // Lane queues get path-derived names of their own; the visibility timeout follows the lane's timeout.
    queueName: undefined,
    deadLetterQueueName: undefined,
    visibilityTimeout: undefined,
    lanes: undefined,
    fanOut: undefined,
    reservedConcurrentExecutions: lane.reservedConcurrency,
    maxConcurrency: lane.maxConcurrency,
    batchSize: lane.batchSize,
    maxBatchingWindow: lane.maxBatchingWindow,
    memorySize: lane.memorySize ?? props.memorySize,
    timeout: lane.timeout ?? props.timeout,
  };
  try {
    return resolveTaskQueueProps(laneProps);
  } catch (error) {
    if (error instanceof TaskQueueValidationError && LANE_PROP_OF[error.prop] !== undefined) {
      throw new TaskQueueValidationError(`lanes.${name}.${LANE_PROP_OF[error.prop]}`, error.value, error.rule);
    }
    throw error;
  }
}

function fail(prop: string, value: unknown, rule: string): never {
  throw new TaskQueueValidationError(prop, value, rule);
}
