/**
 * Which queues, table and bucket a command works on, and how to reach them:
 *
 * - `--local`: the running local system's connection file (lib/local/state.ts), its
 *   emulator endpoints and the stack outputs it wrote;
 * - otherwise AWS: the CloudFormation outputs of `--stack` (default DEFAULTS.stackName),
 *   read only when a flag does not already name what the command needs.
 *
 * Explicit flags (--queue-url, --dlq-url, --table, --bucket) always win. The sources of
 * local state and stack outputs are injectable, so this file is tested without AWS.
 */
import { LOCAL_CREDENTIALS } from '../local/emulators.ts';
import { readLocalState, localStatePath, type LocalState } from '../local/state.ts';
import { DEFAULTS, OPTIONAL_STACK_OUTPUTS, SCHEDULE_OUTPUTS, STACK_OUTPUTS } from '../protocol/resources.ts';
import { DEFAULT_LANE, LANE_NAME_PATTERN, laneOutputKey, type LaneOutputKey } from '../protocol/lanes.ts';
import { OpsError } from './errors.ts';
import { readLocalAlarms, type AlarmState } from './alarm-state.ts';

export interface TargetResources {
  readonly queueUrl?: string;
  readonly queueArn?: string;
  readonly deadLetterQueueUrl?: string;
  readonly deadLetterQueueArn?: string;
  readonly tableName?: string;
  readonly bucketName?: string;
  readonly claimPrefix?: string;
  readonly consumerFunctionName?: string;
  readonly alarmTopicArn?: string;
  /** The task table's recent-tasks index, when the stack has one (`recentTasksIndex`). */
  readonly recentTasksIndexName?: string;
  /** The Scheduler schedule group of a task queue with schedules. */
  readonly scheduleGroupName?: string;
}

export type ResourceName = keyof TargetResources;

export interface OpsTarget {
  readonly mode: 'aws' | 'local';
  readonly region: string | undefined;
  /** The stack the resources came from, when they did. */
  readonly stackName?: string;
  /** Endpoint override for every service (local emulators, --endpoint, AWS_ENDPOINT_URL). */
  readonly endpoints: { readonly sqs?: string; readonly s3?: string; readonly dynamodb?: string; readonly other?: string };
  /** Fixed credentials (the local emulators); undefined → the SDK's default chain. */
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string };
  readonly resources: TargetResources;
  /** Alarm states the local system published in its state file, if any. */
  readonly localAlarms?: readonly AlarmState[];
}

export interface TargetOptions {
  readonly local?: boolean;
  readonly stack?: string;
  readonly region?: string;
  readonly endpoint?: string;
  readonly queueUrl?: string;
  readonly dlqUrl?: string;
  readonly table?: string;
  readonly bucket?: string;
  /** A named lane: its queue, DLQ and consumer instead of the default lane's (outputs `<Lane>Lane…`, laneOutputKey). */
  readonly lane?: string;
}

/** Reads a stack's outputs; throws (e.g. ValidationError "Stack with id … does not exist") when there is none. */
export type StackOutputsSource = (stackName: string, target: Pick<OpsTarget, 'region' | 'endpoints' | 'credentials'>) => Promise<Record<string, string>>;

export interface ResolveDependencies {
  readonly readLocalState?: () => Promise<LocalState | undefined>;
  readonly stackOutputs?: StackOutputsSource;
  readonly env?: NodeJS.ProcessEnv;
}

/**
 * Resolves the target for a command that needs `needs`. Stack outputs are read only when a
 * needed resource is not given by a flag.
 */
export async function resolveTarget(options: TargetOptions, needs: readonly ResourceName[], deps: ResolveDependencies = {}): Promise<OpsTarget> {
  const env = deps.env ?? process.env;
  const fromFlags = flagResources(options);

  if (options.local) {
    const state = await (deps.readLocalState ?? (() => readLocalState()))();
    if (!state) {
      throw new OpsError('NO_LOCAL_SYSTEM', `no local system running — start it with taskq local (npm start in this repository; looked for ${localStatePath()})`);
    }
    const target: OpsTarget = {
      mode: 'local',
      region: options.region ?? state.region,
      stackName: state.stackName,
      endpoints: { sqs: state.sqsEndpoint, s3: state.s3Endpoint, dynamodb: state.dynamoEndpoint },
      credentials: { ...LOCAL_CREDENTIALS },
      resources: { ...laneResources(state.outputs, options.lane, 'the local system state'), ...fromFlags },
      localAlarms: readLocalAlarms(state),
    };
    requireResources(target, needs);
    return target;
  }

  const endpoint = options.endpoint ?? env.AWS_ENDPOINT_URL;
  const region = options.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  const base = {
    mode: 'aws' as const,
    region,
    endpoints: endpoint ? { sqs: endpoint, s3: endpoint, dynamodb: endpoint, other: endpoint } : {},
  };
  const missing = needs.filter((name) => fromFlags[name] === undefined);
  if (missing.length === 0 && options.lane === undefined) {
    return { ...base, resources: fromFlags };
  }
  const stackName = options.stack ?? DEFAULTS.stackName;
  const source = deps.stackOutputs ?? (await import('./stack-outputs.ts')).describeStackOutputs;
  const outputs = await source(stackName, base);
  const target: OpsTarget = { ...base, stackName, resources: { ...laneResources(outputs, options.lane, `the outputs of stack ${stackName}`), ...fromFlags } };
  requireResources(target, needs, stackName);
  return target;
}

function flagResources(options: TargetOptions): TargetResources {
  const r: { -readonly [K in ResourceName]?: string } = {};
  if (options.queueUrl) r.queueUrl = options.queueUrl;
  if (options.dlqUrl) r.deadLetterQueueUrl = options.dlqUrl;
  if (options.table) r.tableName = options.table;
  if (options.bucket) r.bucketName = options.bucket;
  return r;
}

/** Maps the stack outputs (keys of STACK_OUTPUTS) to resources. */
export function resourcesFromOutputs(outputs: Readonly<Record<string, string>>): TargetResources {
  const r: { -readonly [K in ResourceName]?: string } = {};
  const pick = (key: ResourceName, output: string) => {
    const value = outputs[output];
    if (value) r[key] = value;
  };
  pick('queueUrl', STACK_OUTPUTS.queueUrl);
  pick('queueArn', STACK_OUTPUTS.queueArn);
  pick('deadLetterQueueUrl', STACK_OUTPUTS.deadLetterQueueUrl);
  pick('deadLetterQueueArn', STACK_OUTPUTS.deadLetterQueueArn);
  pick('tableName', STACK_OUTPUTS.tableName);
  pick('bucketName', STACK_OUTPUTS.bucketName);
  pick('claimPrefix', STACK_OUTPUTS.claimPrefix);
  pick('consumerFunctionName', STACK_OUTPUTS.consumerFunctionName);
  pick('alarmTopicArn', STACK_OUTPUTS.alarmTopicArn);
  pick('recentTasksIndexName', OPTIONAL_STACK_OUTPUTS.recentTasksIndexName);
  pick('scheduleGroupName', SCHEDULE_OUTPUTS.scheduleGroupName);
  return r;
}

/**
 * The resources of `lane` (default: the default lane): its queue, DLQ and consumer from the
 * lane's outputs, the shared table and bucket from the stack's.
 */
export function laneResources(outputs: Readonly<Record<string, string>>, lane: string | undefined, where: string): TargetResources {
  const shared = resourcesFromOutputs(outputs);
  if (lane === undefined || lane === DEFAULT_LANE) return shared;
  if (!LANE_NAME_PATTERN.test(lane)) throw new OpsError('USAGE', `--lane ${JSON.stringify(lane)}: lane names are lower-case letters, digits and single hyphens`);
  const pick = (key: LaneOutputKey) => outputs[laneOutputKey(lane, key)];
  const queueUrl = pick('queueUrl');
  if (queueUrl === undefined) {
    const lanes = Object.keys(outputs)
      .map((key) => /^([A-Z][A-Za-z0-9]*)Lane(?:QueueUrl)$/.exec(key)?.[1])
      .filter((name): name is string => name !== undefined);
    throw new OpsError('MISSING_RESOURCE', `${where} name no lane ${JSON.stringify(lane)} (no output ${laneOutputKey(lane, 'queueUrl')})${lanes.length ? `; its lanes: ${lanes.join(', ')} (as output prefixes)` : '; it has no named lanes'}`);
  }
  const own: { -readonly [K in ResourceName]?: string } = { ...shared, queueUrl };
  const set = (name: ResourceName, key: LaneOutputKey) => {
    const value = pick(key);
    if (value) own[name] = value;
    else delete own[name];
  };
  set('queueArn', 'queueArn');
  set('deadLetterQueueUrl', 'deadLetterQueueUrl');
  set('deadLetterQueueArn', 'deadLetterQueueArn');
  set('consumerFunctionName', 'consumerFunctionName');
  return own;
}

const FLAG_OF: Partial<Record<ResourceName, string>> = {
  queueUrl: '--queue-url',
  deadLetterQueueUrl: '--dlq-url',
  tableName: '--table',
  bucketName: '--bucket',
};

function requireResources(target: OpsTarget, needs: readonly ResourceName[], stackName?: string): void {
  const missing = needs.filter((name) => target.resources[name] === undefined);
  if (missing.length === 0) return;
  const where = target.mode === 'local' ? 'the local system state' : `the outputs of stack ${stackName}`;
  const hints = missing.map((name) => (FLAG_OF[name] ? `${name} (${FLAG_OF[name]})` : name)).join(', ');
  throw new OpsError('MISSING_RESOURCE', `${where} do not name ${hints} — pass the flag explicitly`);
}

/** The resource, which resolveTarget guaranteed when it was in `needs`. */
export function required(target: OpsTarget, name: ResourceName): string {
  const value = target.resources[name];
  if (value === undefined) throw new OpsError('MISSING_RESOURCE', `no ${name} resolved${FLAG_OF[name] ? `: pass ${FLAG_OF[name]}` : ''}`);
  return value;
}
