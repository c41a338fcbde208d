/**
 * The synthesized CloudFormation template of the default stack (bin/app.ts's TaskQueueStack),
 * read into the parts the local system reproduces: queues, tables, buckets, functions, event
 * source mappings, alarms and outputs. Local resources are created from this, never from a
 * second description, so the laptop cannot drift from what `npx cdk deploy` deploys.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TaskQueueProps } from '../infra/props.ts';

export interface CfnResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
  readonly DependsOn?: string | string[];
  readonly Condition?: string;
}

export interface CfnTemplate {
  readonly Resources: Record<string, CfnResource>;
  readonly Outputs?: Record<string, { readonly Value: unknown; readonly Description?: string }>;
  readonly Conditions?: Record<string, unknown>;
}

export interface SynthOptions {
  /** Stack id (and name). @default DEFAULTS.stackName (`TaskQueueStack`) */
  readonly stackName?: string;
  /** Directory whose cdk.json `context` applies (as `npx cdk synth` would). @default process.cwd() */
  readonly cwd?: string;
  /** Extra context, over cdk.json's. */
  readonly context?: Record<string, unknown>;
  /**
   * TaskQueue props given in code (lanes, fanOut: what context cannot say), as TaskQueueStack's
   * `taskQueue`; context keys still override them.
   * @default {} — the stack as `npx cdk deploy` deploys it
   */
  readonly taskQueue?: TaskQueueProps;
}

/**
 * Synthesizes the default stack in-process, with cdk.json's context and asset bundling
 * skipped (`aws:cdk:bundling-stacks: []`: the local system runs functions/ from source).
 */
export interface SynthesizedStack {
  readonly template: CfnTemplate;
  readonly stackName: string;
  /** The context the app was synthesized with (cdk.json's, then the options'). */
  readonly context: Readonly<Record<string, unknown>>;
}

export async function synthesizeTemplate(options: SynthOptions = {}): Promise<SynthesizedStack> {
  const [{ App }, { TaskQueueStack }, { DEFAULTS }] = await Promise.all([
    import('aws-cdk-lib'),
    import('../infra/task-queue-stack.ts'),
    import('../protocol/resources.ts'),
  ]);
  const stackName = options.stackName ?? DEFAULTS.stackName;
  const cdkJsonContext = await readCdkJsonContext(options.cwd ?? process.cwd());
  const outdir = await mkdtemp(join(tmpdir(), 'taskq-local-synth-'));
  const context = { ...cdkJsonContext, ...options.context };
  try {
    const app = new App({ outdir, context: { ...context, 'aws:cdk:bundling-stacks': [] } });
    const stack = new TaskQueueStack(app, stackName, options.taskQueue ? { taskQueue: options.taskQueue } : {});
    const assembly = app.synth();
    const template = assembly.getStackByName(stack.stackName).template as CfnTemplate;
    return { template, stackName: stack.stackName, context };
  } finally {
    await rm(outdir, { recursive: true, force: true });
  }
}

async function readCdkJsonContext(cwd: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(join(cwd, 'cdk.json'), 'utf8');
  } catch {
    return {};
  }
  const parsed = JSON.parse(text) as { context?: Record<string, unknown> };
  return parsed.context ?? {};
}

// ───────────────────────────── the parts the local system reproduces ─────────────────────────────

export interface QueueSpec {
  readonly logicalId: string;
  /** Local queue name: QueueName when set, else derived from the stack name and logical id. */
  readonly name: string;
  readonly fifo: boolean;
  readonly properties: Record<string, unknown>;
}

export interface TableSpec {
  readonly logicalId: string;
  readonly name: string;
  readonly properties: Record<string, unknown>;
}

export interface BucketSpec {
  readonly logicalId: string;
  readonly name: string;
}

export interface FunctionSpec {
  readonly logicalId: string;
  readonly name: string;
  /** Seconds. Lambda's default: 3. */
  readonly timeoutSeconds: number;
  /** MB. Lambda's default: 128. */
  readonly memoryMB: number;
  readonly reservedConcurrency?: number;
  /** Environment variables, values still CloudFormation (resolved at provisioning). */
  readonly environment: Record<string, unknown>;
  readonly runtime?: string;
  readonly handler?: string;
}

export interface MappingSpec {
  readonly logicalId: string;
  readonly eventSourceArn: unknown;
  readonly functionName: unknown;
  /** Lambda's default for SQS: 10. */
  readonly batchSize: number;
  /** Lambda's default for SQS: 0. */
  readonly maximumBatchingWindowInSeconds: number;
  readonly maximumConcurrency?: number;
  readonly reportBatchItemFailures: boolean;
  readonly enabled: boolean;
  /** Stream sources: where reading starts (TRIM_HORIZON or LATEST). */
  readonly startingPosition?: string;
  /** Stream sources: retries of a failing batch; -1 (Lambda's default) until the record expires. */
  readonly maximumRetryAttempts?: number;
  /** Stream sources: the on-failure destination's ARN, unresolved. */
  readonly onFailureDestination?: unknown;
}

/** An AwsCustomResource (Custom::AWS): an SDK call CloudFormation makes at deploy time. */
export interface SdkCallSpec {
  readonly logicalId: string;
  /** Its Create and Update calls (JSON, values still CloudFormation). */
  readonly create: unknown;
  readonly update: unknown;
}

export interface AlarmSpec {
  readonly logicalId: string;
  /** CloudFormation properties of the AWS::CloudWatch::Alarm, unresolved. */
  readonly properties: Record<string, unknown>;
}

export interface ScheduleSpec {
  readonly logicalId: string;
  /** CloudFormation properties of the AWS::Scheduler::Schedule, unresolved. */
  readonly properties: Record<string, unknown>;
}

/** Resource types that exist only in AWS and have no local counterpart (nothing to run). */
const NOT_EMULATED = new Set([
  'AWS::SQS::QueuePolicy',
  'AWS::S3::BucketPolicy',
  'AWS::IAM::Role',
  'AWS::IAM::Policy',
  'AWS::Logs::LogGroup',
  'AWS::SNS::Topic',
  'AWS::SNS::TopicPolicy',
  'AWS::SNS::Subscription',
  'AWS::CloudWatch::Dashboard',
  'AWS::CDK::Metadata',
  'AWS::KMS::Key',
  'AWS::KMS::Alias',
  'AWS::Lambda::Permission',
  'Custom::S3AutoDeleteObjects',
  // A namespace for the schedules; the local scheduler runs the schedules themselves.
  'AWS::Scheduler::ScheduleGroup',
]);

export interface LocalModel {
  readonly stackName: string;
  readonly queues: readonly QueueSpec[];
  readonly tables: readonly TableSpec[];
  readonly buckets: readonly BucketSpec[];
  readonly functions: readonly FunctionSpec[];
  readonly mappings: readonly MappingSpec[];
  readonly alarms: readonly AlarmSpec[];
  /** Deploy-time SDK calls (the lanes' routing table item). */
  readonly sdkCalls: readonly SdkCallSpec[];
  /** EventBridge Scheduler schedules, fired by lib/local/local-scheduler.ts. */
  readonly schedules: readonly ScheduleSpec[];
  /** Resources that only matter in AWS (IAM, policies, log groups, topics, dashboards…), by logical id. */
  readonly notEmulated: Readonly<Record<string, string>>;
  readonly outputs: Readonly<Record<string, unknown>>;
}

/** Reads the template into the local model; fails on a resource type it does not know. */
export function readTemplate(template: CfnTemplate, stackName: string): LocalModel {
  const queues: QueueSpec[] = [];
  const tables: TableSpec[] = [];
  const buckets: BucketSpec[] = [];
  const functions: FunctionSpec[] = [];
  const mappings: MappingSpec[] = [];
  const alarms: AlarmSpec[] = [];
  const sdkCalls: SdkCallSpec[] = [];
  const schedules: ScheduleSpec[] = [];
  const notEmulated: Record<string, string> = {};
  const unknown: string[] = [];

  for (const [logicalId, resource] of Object.entries(template.Resources ?? {})) {
    if (resource.Condition !== undefined) throw new Error(`${logicalId}: resources with a Condition are not supported locally`);
    const p = resource.Properties ?? {};
    switch (resource.Type) {
      case 'AWS::SQS::Queue': {
        const fifo = p.FifoQueue === true || p.FifoQueue === 'true';
        const explicit = literalString(p.QueueName, `${logicalId}.QueueName`);
        queues.push({ logicalId, fifo, properties: p, name: explicit ?? localName(stackName, logicalId, 80 - (fifo ? 5 : 0)) + (fifo ? '.fifo' : '') });
        break;
      }
      case 'AWS::DynamoDB::Table':
      case 'AWS::DynamoDB::GlobalTable':
        tables.push({ logicalId, properties: p, name: literalString(p.TableName, `${logicalId}.TableName`) ?? localName(stackName, logicalId, 255) });
        break;
      case 'AWS::S3::Bucket':
        buckets.push({ logicalId, name: literalString(p.BucketName, `${logicalId}.BucketName`) ?? bucketName(stackName, logicalId) });
        break;
      case 'AWS::Lambda::Function': {
        const variables = ((p.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {}) as Record<string, unknown>;
        const spec: FunctionSpec = {
          logicalId,
          name: literalString(p.FunctionName, `${logicalId}.FunctionName`) ?? localName(stackName, logicalId, 64),
          timeoutSeconds: numberOr(p.Timeout, 3),
          memoryMB: numberOr(p.MemorySize, 128),
          environment: variables,
          ...(p.ReservedConcurrentExecutions !== undefined ? { reservedConcurrency: numberOr(p.ReservedConcurrentExecutions, 0) } : {}),
          ...(typeof p.Runtime === 'string' ? { runtime: p.Runtime } : {}),
          ...(typeof p.Handler === 'string' ? { handler: p.Handler } : {}),
        };
        functions.push(spec);
        break;
      }
      case 'AWS::Lambda::EventSourceMapping': {
        const scaling = p.ScalingConfig as { MaximumConcurrency?: unknown } | undefined;
        const types = Array.isArray(p.FunctionResponseTypes) ? p.FunctionResponseTypes : [];
        mappings.push({
          logicalId,
          eventSourceArn: p.EventSourceArn,
          functionName: p.FunctionName,
          batchSize: numberOr(p.BatchSize, 10),
          maximumBatchingWindowInSeconds: numberOr(p.MaximumBatchingWindowInSeconds, 0),
          ...(scaling?.MaximumConcurrency !== undefined ? { maximumConcurrency: numberOr(scaling.MaximumConcurrency, 0) } : {}),
          reportBatchItemFailures: types.includes('ReportBatchItemFailures'),
          enabled: p.Enabled === undefined ? true : p.Enabled === true || p.Enabled === 'true',
          ...(typeof p.StartingPosition === 'string' ? { startingPosition: p.StartingPosition } : {}),
          ...(p.MaximumRetryAttempts !== undefined ? { maximumRetryAttempts: numberOr(p.MaximumRetryAttempts, -1) } : {}),
          ...((p.DestinationConfig as { OnFailure?: { Destination?: unknown } } | undefined)?.OnFailure?.Destination !== undefined
            ? { onFailureDestination: (p.DestinationConfig as { OnFailure: { Destination: unknown } }).OnFailure.Destination }
            : {}),
        });
        break;
      }
      case 'AWS::CloudWatch::Alarm':
        alarms.push({ logicalId, properties: p });
        break;
      case 'Custom::AWS':
        sdkCalls.push({ logicalId, create: p.Create, update: p.Update });
        break;
      case 'AWS::Scheduler::Schedule':
        schedules.push({ logicalId, properties: p });
        break;
      default:
        if (NOT_EMULATED.has(resource.Type)) notEmulated[logicalId] = resource.Type;
        else unknown.push(`${logicalId} (${resource.Type})`);
    }
  }
  if (unknown.length > 0) {
    throw new Error(`the template has resources the local system does not know how to run: ${unknown.join(', ')}`);
  }
  const outputs: Record<string, unknown> = {};
  for (const [key, output] of Object.entries(template.Outputs ?? {})) outputs[key] = output.Value;
  return { stackName, queues, tables, buckets, functions, mappings, alarms, sdkCalls, schedules, notEmulated, outputs };
}

/** `<stack>-<logical id>`, cut to a service's length limit (CloudFormation adds a random suffix; locally names are stable). */
function localName(stackName: string, logicalId: string, maxLength: number): string {
  return `${stackName}-${logicalId}`.replace(/[^A-Za-z0-9_-]/g, '-').slice(0, maxLength);
}

/** S3 bucket names: 3–63 lower-case letters, digits and hyphens. */
function bucketName(stackName: string, logicalId: string): string {
  return `${stackName}-${logicalId}`
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, '-')
    .replace(/-+/g, '-')
    .slice(0, 63)
    .replace(/^-|-$/g, '');
}

function literalString(value: unknown, where: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string') return value;
  throw new Error(`${where}: a name computed by an intrinsic function is not supported locally (${JSON.stringify(value)})`);
}

function numberOr(value: unknown, fallback: number): number {
  if (value === undefined || value === null) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n)) throw new Error(`expected a number, got ${JSON.stringify(value)}`);
  return n;
}
