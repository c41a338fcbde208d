/**
 * cdk.json / `-c` context keys of the default stack, parsed into TaskQueueProps.
 * Values given with `-c key=value` arrive as strings; "true"/"false" and numbers are
 * accepted as strings too. An unknown `taskq:` key is rejected (a typo must not be
 * silently ignored).
 */
import path from 'node:path';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type { Node } from 'constructs';
import type { TaskQueueProps } from './props.ts';

type Kind = 'string' | 'boolean' | 'number';

interface ContextKey {
  readonly kind: Kind;
  readonly description: string;
  readonly apply: (value: never) => TaskQueueProps;
}

function key<K extends Kind>(
  kind: K,
  description: string,
  apply: (value: K extends 'string' ? string : K extends 'boolean' ? boolean : number) => TaskQueueProps,
): ContextKey {
  return { kind, description, apply: apply as (value: never) => TaskQueueProps };
}

/** Every context key the default stack reads, with the prop it sets. */
export const CONTEXT_KEYS = {
  'taskq:alarmEmail': key('string', 'alarmEmail: e-mail subscribed to the alarm topic', (v) => ({ alarmEmail: v })),
  'taskq:removalPolicy': key('string', "removalPolicy: 'retain' (default) or 'destroy' (dev stacks)", (v) => {
    const policy = { retain: RemovalPolicy.RETAIN, destroy: RemovalPolicy.DESTROY }[v.toLowerCase()];
    if (!policy) throw contextError('taskq:removalPolicy', v, "must be 'retain' or 'destroy'");
    return { removalPolicy: policy };
  }),
  'taskq:fifo': key('boolean', 'fifo: FIFO queues', (v) => ({ fifo: v })),
  'taskq:contentBasedDeduplication': key('boolean', 'contentBasedDeduplication (FIFO only)', (v) => ({ contentBasedDeduplication: v })),
  'taskq:retentionDays': key('number', 'retentionPeriod in days', (v) => ({ retentionPeriod: Duration.days(v) })),
  'taskq:maxReceiveCount': key('number', 'maxReceiveCount of the redrive policy', (v) => ({ maxReceiveCount: v })),
  'taskq:allowLowMaxReceiveCount': key('boolean', 'allowLowMaxReceiveCount: accept a maxReceiveCount below 5', (v) => ({ allowLowMaxReceiveCount: v })),
  'taskq:runtime': key('string', "runtime: 'nodejs22.x' or 'nodejs24.x'", (v) => {
    const runtime = [lambda.Runtime.NODEJS_22_X, lambda.Runtime.NODEJS_24_X].find((r) => r.name === v);
    if (!runtime) throw contextError('taskq:runtime', v, "must be 'nodejs22.x' or 'nodejs24.x'");
    return { runtime };
  }),
  'taskq:memorySize': key('number', 'memorySize of the consumer, MB', (v) => ({ memorySize: v })),
  'taskq:timeoutSeconds': key('number', 'timeout of the consumer, seconds', (v) => ({ timeout: Duration.seconds(v) })),
  'taskq:reservedConcurrency': key('number', 'reservedConcurrentExecutions of the consumer', (v) => ({ reservedConcurrentExecutions: v })),
  'taskq:batchSize': key('number', 'batchSize of the event source', (v) => ({ batchSize: v })),
  'taskq:maxBatchingWindowSeconds': key('number', 'maxBatchingWindow of the event source, seconds', (v) => ({ maxBatchingWindow: Duration.seconds(v) })),
  'taskq:maxConcurrency': key('number', 'maxConcurrency of the event source', (v) => ({ maxConcurrency: v })),
  'taskq:consumerEntry': key('string', 'consumerEntry, relative to the directory cdk runs in', (v) => ({ consumerEntry: path.resolve(v) })),
  'taskq:recentTasksIndex': key('boolean', 'recentTasksIndex: the task table\'s index of recent tasks (taskq console)', (v) => ({ recentTasksIndex: v })),
  'taskq:completionEvents': key('boolean', 'completionEvents: publish TaskSucceeded/TaskDeadLettered/TaskCancelled on the default event bus', (v) => (v ? { completionEvents: {} } : {})),
  'taskq:metricsNamespace': key('string', 'metricsNamespace of the custom metrics', (v) => ({ metricsNamespace: v })),
  'taskq:queueDepthThreshold': key('number', 'alarmOptions.queueDepth.threshold, messages', (v) => ({ alarmOptions: { queueDepth: { threshold: v } } })),
  'taskq:oldestMessageAgeMinutes': key('number', 'alarmOptions.oldestMessageAge.threshold, minutes', (v) => ({
    alarmOptions: { oldestMessageAge: { threshold: Duration.minutes(v) } },
  })),
  'taskq:consumerErrorsThreshold': key('number', 'alarmOptions.consumerErrors.threshold, errors per period', (v) => ({
    alarmOptions: { consumerErrors: { threshold: v } },
  })),
} as const satisfies Record<string, ContextKey>;

export type ContextKeyName = keyof typeof CONTEXT_KEYS;

/** Reads every `taskq:` context key under `node` into TaskQueueProps. */
export function contextProps(node: Node): TaskQueueProps {
  let props: TaskQueueProps = {};
  const known = CONTEXT_KEYS as Record<string, ContextKey>;
  for (const name of Object.keys(allContext(node)).filter((k) => k.startsWith('taskq:'))) {
    const spec = known[name];
    if (!spec) {
      throw contextError(name, allContext(node)[name], `unknown context key; known keys: ${Object.keys(CONTEXT_KEYS).join(', ')}`);
    }
    const raw: unknown = node.tryGetContext(name);
    if (raw === undefined || raw === null || raw === '') continue;
    const value = coerce(name, spec.kind, raw);
    props = merge(props, spec.apply(value as never));
  }
  return props;
}

function allContext(node: Node): Record<string, unknown> {
  return node.getAllContext() as Record<string, unknown>;
}

function coerce(name: string, kind: Kind, raw: unknown): string | number | boolean {
  if (kind === 'string') {
    if (typeof raw !== 'string') throw contextError(name, raw, 'must be a string');
    return raw;
  }
  if (kind === 'boolean') {
    if (typeof raw === 'boolean') return raw;
    if (raw === 'true' || raw === 'false') return raw === 'true';
    throw contextError(name, raw, 'must be true or false');
  }
  const n = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : Number.NaN;
  if (!Number.isFinite(n)) throw contextError(name, raw, 'must be a number');
  return n;
}

function merge(a: TaskQueueProps, b: TaskQueueProps): TaskQueueProps {
  return {
    ...a,
    ...b,
    ...(a.alarmOptions || b.alarmOptions ? { alarmOptions: { ...a.alarmOptions, ...b.alarmOptions } } : {}),
  };
}

/** An invalid `taskq:` context value of the default stack. */
export class TaskQueueContextError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TaskQueueContextError';
  }
}

function contextError(name: string, value: unknown, rule: string): Error {
  return new TaskQueueContextError(`TaskQueueStack: invalid context ${name} (${JSON.stringify(value)}): ${rule}`);
}
