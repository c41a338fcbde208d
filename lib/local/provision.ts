/**
 * Creates the template's queues, tables and buckets on the emulators, resolves every
 * reference (redrive policy DLQ ARN, function environment, alarm dimensions, outputs) to
 * the local resources, and returns what the rest of the local system runs from.
 */
import { CreateQueueCommand, GetQueueAttributesCommand, SetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import {
  CreateTableCommand,
  DescribeTableCommand,
  UpdateTimeToLiveCommand,
  PutItemCommand,
  type PutItemCommandInput,
  type CreateTableCommandInput,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import { STACK_OUTPUTS } from '../protocol/resources.ts';
import { resolveIntrinsics, resolveString, type IntrinsicContext } from './intrinsics.ts';
import { resolveLocalSchedules, type LocalSchedule } from './local-schedules.ts';
import type { LocalModel } from './template.ts';

/** The account id the emulators use in ARNs. */
export const LOCAL_ACCOUNT_ID = '000000000000';

export interface LocalQueue {
  readonly logicalId: string;
  readonly name: string;
  readonly url: string;
  readonly arn: string;
  readonly fifo: boolean;
  /** The SQS attributes it was created with (strings, as SQS takes them). */
  readonly attributes: Readonly<Record<string, string>>;
}

export interface LocalTable {
  readonly logicalId: string;
  readonly name: string;
  readonly arn: string;
  /** TTL attribute, when the template enables TTL. */
  readonly ttlAttribute?: string;
  /** False when the emulator refused TTL (dynalite): items never expire locally. */
  readonly ttlApplied: boolean;
  /** The table's stream, when the template enables one and the emulator has streams (DynamoDB Local). */
  readonly streamArn?: string;
}

export interface LocalBucket {
  readonly logicalId: string;
  readonly name: string;
  readonly arn: string;
}

export interface LocalFunction {
  readonly logicalId: string;
  readonly name: string;
  readonly arn: string;
  readonly timeoutSeconds: number;
  readonly memoryMB: number;
  readonly reservedConcurrency?: number;
  /** The template's environment variables with local values. */
  readonly environment: Readonly<Record<string, string>>;
}

export interface LocalMapping {
  readonly logicalId: string;
  readonly queue: LocalQueue;
  readonly function: LocalFunction;
  readonly batchSize: number;
  readonly maximumBatchingWindowInSeconds: number;
  readonly maximumConcurrency?: number;
  readonly reportBatchItemFailures: boolean;
  readonly enabled: boolean;
}

/** A DynamoDB stream → function mapping (completion events). */
export interface LocalStreamMapping {
  readonly logicalId: string;
  readonly table: LocalTable;
  readonly streamArn: string;
  readonly function: LocalFunction;
  readonly batchSize: number;
  readonly startingPosition: 'TRIM_HORIZON' | 'LATEST';
  readonly maximumRetryAttempts: number;
  /** Where an abandoned batch is described: a queue of the template. */
  readonly onFailureQueue?: LocalQueue;
  readonly enabled: boolean;
}

export interface LocalAlarmDefinition {
  readonly logicalId: string;
  /** The alarm's CloudFormation properties with every reference resolved to local values. */
  readonly properties: Record<string, unknown>;
}

export interface ProvisionedSystem {
  readonly stackName: string;
  readonly region: string;
  readonly queues: readonly LocalQueue[];
  readonly tables: readonly LocalTable[];
  readonly buckets: readonly LocalBucket[];
  readonly functions: readonly LocalFunction[];
  readonly mappings: readonly LocalMapping[];
  /** The table-stream mappings (completion events). */
  readonly streamMappings: readonly LocalStreamMapping[];
  readonly alarms: readonly LocalAlarmDefinition[];
  /** The template's Scheduler schedules with their target queues resolved. */
  readonly schedules: readonly LocalSchedule[];
  /** Stack outputs with local values, keyed like the deployed stack's (STACK_OUTPUTS). */
  readonly outputs: Readonly<Record<string, string>>;
  /** Things that behave differently locally (e.g. TTL refused by dynalite). */
  readonly warnings: readonly string[];
}

export interface ProvisionClients {
  readonly sqs: SQSClient;
  readonly dynamo: DynamoDBClient;
  readonly s3: S3Client;
}

/** SQS attributes taken from AWS::SQS::Queue properties (the rest — SSE, KMS, tags — has no local effect). */
const QUEUE_ATTRIBUTES = [
  'DelaySeconds',
  'MaximumMessageSize',
  'MessageRetentionPeriod',
  'ReceiveMessageWaitTimeSeconds',
  'VisibilityTimeout',
  'FifoQueue',
  'ContentBasedDeduplication',
  'DeduplicationScope',
  'FifoThroughputLimit',
] as const;

export async function provision(model: LocalModel, clients: ProvisionClients, region: string): Promise<ProvisionedSystem> {
  const warnings: string[] = [];
  const queues = new Map<string, LocalQueue>();
  const tables = new Map<string, LocalTable>();
  const buckets = new Map<string, LocalBucket>();
  const functions = new Map<string, LocalFunction>();

  const context: IntrinsicContext = {
    region,
    accountId: LOCAL_ACCOUNT_ID,
    stackName: model.stackName,
    ref(id) {
      return queues.get(id)?.url ?? tables.get(id)?.name ?? buckets.get(id)?.name ?? functions.get(id)?.name ?? notEmulatedRef(id);
    },
    getAtt(id, attribute) {
      const queue = queues.get(id);
      if (queue) return ({ Arn: queue.arn, QueueName: queue.name, QueueUrl: queue.url } as Record<string, string>)[attribute];
      const table = tables.get(id);
      // A stream the emulator lacks (dynalite) still resolves, so its mapping can be skipped with a warning.
      if (table) return ({ Arn: table.arn, StreamArn: table.streamArn ?? `${table.arn}/stream/not-emulated` } as Record<string, string>)[attribute];
      const bucket = buckets.get(id);
      if (bucket) {
        return (
          {
            Arn: bucket.arn,
            DomainName: `${bucket.name}.s3.amazonaws.com`,
            RegionalDomainName: `${bucket.name}.s3.${region}.amazonaws.com`,
          } as Record<string, string>
        )[attribute];
      }
      const fn = functions.get(id);
      if (fn) return ({ Arn: fn.arn } as Record<string, string>)[attribute];
      return notEmulatedAtt(id, attribute);
    },
  };

  // Names and ARNs of resources that exist only in AWS (topics, roles, log groups,
  // dashboards): outputs and alarm actions may mention them; nothing runs behind them.
  const notEmulatedName = (id: string) => `${model.stackName}-${id}`;
  function notEmulatedRef(id: string): string | undefined {
    const type = model.notEmulated[id];
    if (type === 'AWS::SNS::Topic') return `arn:aws:sns:${region}:${LOCAL_ACCOUNT_ID}:${notEmulatedName(id)}`;
    if (type === 'AWS::CloudWatch::Dashboard' || type === 'AWS::Logs::LogGroup' || type === 'AWS::IAM::Role') return notEmulatedName(id);
    return undefined;
  }
  function notEmulatedAtt(id: string, attribute: string): string | undefined {
    const type = model.notEmulated[id];
    if (attribute !== 'Arn' && attribute !== 'TopicArn') return undefined;
    if (type === 'AWS::SNS::Topic') return notEmulatedRef(id);
    if (type === 'AWS::IAM::Role') return `arn:aws:iam::${LOCAL_ACCOUNT_ID}:role/${notEmulatedName(id)}`;
    if (type === 'AWS::Logs::LogGroup') return `arn:aws:logs:${region}:${LOCAL_ACCOUNT_ID}:log-group:${notEmulatedName(id)}:*`;
    return undefined;
  }

  // Queues: created first without redrive settings (they only need names), then the redrive
  // policies — whose DLQ ARNs now resolve — are set, so no creation order is needed.
  // RedriveAllowPolicy (which sources may use a DLQ) is a permission, and fauxqs does not
  // know it: it is resolved (so a broken reference still fails) but not applied.
  for (const spec of model.queues) {
    const attributes: Record<string, string> = {};
    for (const name of QUEUE_ATTRIBUTES) {
      const value = resolveIntrinsics(spec.properties[name], context, `${spec.logicalId}.${name}`);
      if (value !== undefined) attributes[name] = String(value);
    }
    if (spec.fifo) attributes.FifoQueue = 'true';
    const created = await clients.sqs.send(new CreateQueueCommand({ QueueName: spec.name, Attributes: attributes }));
    const arn = await queueArn(clients.sqs, created.QueueUrl!);
    queues.set(spec.logicalId, { logicalId: spec.logicalId, name: spec.name, url: created.QueueUrl!, arn, fifo: spec.fifo, attributes });
  }
  for (const spec of model.queues) {
    const redrive: Record<string, string> = {};
    if (spec.properties.RedriveAllowPolicy !== undefined) resolveIntrinsics(spec.properties.RedriveAllowPolicy, context, `${spec.logicalId}.RedriveAllowPolicy`);
    if (spec.properties.RedrivePolicy !== undefined) {
      const value = resolveIntrinsics(spec.properties.RedrivePolicy, context, `${spec.logicalId}.RedrivePolicy`);
      redrive.RedrivePolicy = typeof value === 'string' ? value : JSON.stringify(value);
    }
    if (Object.keys(redrive).length === 0) continue;
    const queue = queues.get(spec.logicalId)!;
    await clients.sqs.send(new SetQueueAttributesCommand({ QueueUrl: queue.url, Attributes: redrive }));
    queues.set(spec.logicalId, { ...queue, attributes: { ...queue.attributes, ...redrive } });
  }

  for (const spec of model.tables) {
    const p = spec.properties;
    const streamViewType = (p.StreamSpecification as { StreamViewType?: string } | undefined)?.StreamViewType;
    const input = {
      TableName: spec.name,
      KeySchema: resolveIntrinsics(p.KeySchema, context, `${spec.logicalId}.KeySchema`),
      AttributeDefinitions: resolveIntrinsics(p.AttributeDefinitions, context, `${spec.logicalId}.AttributeDefinitions`),
      BillingMode: (p.BillingMode as string | undefined) ?? 'PROVISIONED',
      ...(p.ProvisionedThroughput ? { ProvisionedThroughput: resolveIntrinsics(p.ProvisionedThroughput, context, `${spec.logicalId}.ProvisionedThroughput`) } : {}),
      ...(p.GlobalSecondaryIndexes ? { GlobalSecondaryIndexes: indexes(resolveIntrinsics(p.GlobalSecondaryIndexes, context, `${spec.logicalId}.GlobalSecondaryIndexes`)) } : {}),
      ...(p.LocalSecondaryIndexes ? { LocalSecondaryIndexes: indexes(resolveIntrinsics(p.LocalSecondaryIndexes, context, `${spec.logicalId}.LocalSecondaryIndexes`)) } : {}),
      ...(streamViewType ? { StreamSpecification: { StreamEnabled: true, StreamViewType: streamViewType } } : {}),
    } as CreateTableCommandInput;
    if (input.BillingMode === 'PROVISIONED' && !input.ProvisionedThroughput) {
      (input as { ProvisionedThroughput: unknown }).ProvisionedThroughput = { ReadCapacityUnits: 5, WriteCapacityUnits: 5 };
    }
    // Provisioning again (a changed template, as a deployment update) keeps the table and its items.
    const created = await clients.dynamo.send(new CreateTableCommand(input)).catch(async (error: unknown) => {
      if ((error as Error).name !== 'ResourceInUseException') throw error;
      return { TableDescription: (await clients.dynamo.send(new DescribeTableCommand({ TableName: spec.name }))).Table };
    });
    await waitForTableActive(clients.dynamo, spec.name);
    const ttl = p.TimeToLiveSpecification as { AttributeName?: string; Enabled?: boolean } | undefined;
    let ttlApplied = false;
    if (ttl?.Enabled && ttl.AttributeName) {
      try {
        await clients.dynamo.send(
          new UpdateTimeToLiveCommand({ TableName: spec.name, TimeToLiveSpecification: { AttributeName: ttl.AttributeName, Enabled: true } }),
        );
        ttlApplied = true;
      } catch (error) {
        warnings.push(`table ${spec.name}: the emulator refused TTL on ${ttl.AttributeName} (${(error as Error).name}); items never expire locally`);
      }
    }
    const streamArn = streamViewType ? created.TableDescription?.LatestStreamArn : undefined;
    if (streamViewType && !streamArn) warnings.push(`table ${spec.name}: the emulator has no streams (dynalite?): nothing reads its stream locally — use DynamoDB Local`);
    tables.set(spec.logicalId, {
      logicalId: spec.logicalId,
      name: spec.name,
      ...(streamArn ? { streamArn } : {}),
      arn: created.TableDescription?.TableArn ?? `arn:aws:dynamodb:${region}:${LOCAL_ACCOUNT_ID}:table/${spec.name}`,
      ...(ttl?.Enabled && ttl.AttributeName ? { ttlAttribute: ttl.AttributeName } : {}),
      ttlApplied,
    });
  }

  for (const spec of model.buckets) {
    await clients.s3.send(new CreateBucketCommand({ Bucket: spec.name })).catch((error: unknown) => {
      if ((error as Error).name !== 'BucketAlreadyOwnedByYou') throw error;
    });
    buckets.set(spec.logicalId, { logicalId: spec.logicalId, name: spec.name, arn: `arn:aws:s3:::${spec.name}` });
  }

  // Functions: their names first (environment variables may reference any function), then values.
  for (const spec of model.functions) {
    functions.set(spec.logicalId, {
      logicalId: spec.logicalId,
      name: spec.name,
      arn: `arn:aws:lambda:${region}:${LOCAL_ACCOUNT_ID}:function:${spec.name}`,
      timeoutSeconds: spec.timeoutSeconds,
      memoryMB: spec.memoryMB,
      ...(spec.reservedConcurrency !== undefined ? { reservedConcurrency: spec.reservedConcurrency } : {}),
      environment: {},
    });
  }
  for (const spec of model.functions) {
    const environment: Record<string, string> = {};
    for (const [name, value] of Object.entries(spec.environment)) {
      environment[name] = resolveString(value, context, `${spec.logicalId}.Environment.Variables.${name}`);
    }
    functions.set(spec.logicalId, { ...functions.get(spec.logicalId)!, environment });
  }

  const mappings: LocalMapping[] = [];
  const streamMappings: LocalStreamMapping[] = [];
  for (const spec of model.mappings) {
    const sourceArn = resolveString(spec.eventSourceArn, context, `${spec.logicalId}.EventSourceArn`);
    const functionName = resolveString(spec.functionName, context, `${spec.logicalId}.FunctionName`);
    const fn = [...functions.values()].find((f) => f.name === functionName || f.arn === functionName);
    if (!fn) throw new Error(`${spec.logicalId}: function ${functionName} is not a function of this template`);
    const streamTable = [...tables.values()].find((t) => t.streamArn !== undefined && t.streamArn === sourceArn);
    const streamOf = model.tables.find((t) => sourceArn.includes(`table/${t.name}/stream/`));
    if (streamTable || streamOf) {
      if (!streamTable) {
        warnings.push(`${spec.logicalId}: the stream of table ${streamOf!.name} is not emulated here: its function does not run locally`);
        continue;
      }
      const failureArn = spec.onFailureDestination === undefined ? undefined : resolveString(spec.onFailureDestination, context, `${spec.logicalId}.DestinationConfig`);
      const onFailureQueue = failureArn === undefined ? undefined : [...queues.values()].find((q) => q.arn === failureArn);
      if (failureArn !== undefined && !onFailureQueue) warnings.push(`${spec.logicalId}: the on-failure destination ${failureArn} is not a queue of this template: abandoned batches are only logged`);
      streamMappings.push({
        logicalId: spec.logicalId,
        table: streamTable,
        streamArn: streamTable.streamArn!,
        function: fn,
        batchSize: spec.batchSize,
        startingPosition: spec.startingPosition === 'LATEST' ? 'LATEST' : 'TRIM_HORIZON',
        maximumRetryAttempts: spec.maximumRetryAttempts ?? -1,
        ...(onFailureQueue ? { onFailureQueue } : {}),
        enabled: spec.enabled,
      });
      continue;
    }
    const queue = [...queues.values()].find((q) => q.arn === sourceArn);
    if (!queue) throw new Error(`${spec.logicalId}: event source ${sourceArn} is not a queue or table stream of this template (only SQS and DynamoDB stream sources run locally)`);
    mappings.push({
      logicalId: spec.logicalId,
      queue,
      function: fn,
      batchSize: spec.batchSize,
      maximumBatchingWindowInSeconds: spec.maximumBatchingWindowInSeconds,
      ...(spec.maximumConcurrency !== undefined ? { maximumConcurrency: spec.maximumConcurrency } : {}),
      reportBatchItemFailures: spec.reportBatchItemFailures,
      enabled: spec.enabled,
    });
  }

  const alarms = model.alarms.map((spec) => ({
    logicalId: spec.logicalId,
    properties: resolveIntrinsics(
      // Actions point at topics that do not exist locally; they are not evaluated.
      Object.fromEntries(Object.entries(spec.properties).filter(([k]) => !['AlarmActions', 'OKActions', 'InsufficientDataActions'].includes(k))),
      context,
      spec.logicalId,
    ) as Record<string, unknown>,
  }));

  // Deploy-time SDK calls: the routing table item (a DynamoDB PutItem) is written as in AWS.
  // The Update call is the template's current desired state (Create on a first deployment is the same call).
  for (const spec of model.sdkCalls) {
    const text = resolveString(spec.update ?? spec.create, context, `${spec.logicalId}.Update`);
    const call = JSON.parse(text) as { service?: string; action?: string; parameters?: Record<string, unknown> };
    if (call.service === 'DynamoDB' && call.action === 'putItem' && call.parameters) {
      await clients.dynamo.send(new PutItemCommand(call.parameters as unknown as PutItemCommandInput));
    } else {
      warnings.push(`${spec.logicalId}: the SDK call ${call.service}.${call.action} is not run locally`);
    }
  }
  const schedules = resolveLocalSchedules(model.schedules, context, [...queues.values()]);

  const outputs: Record<string, string> = {};
  for (const [key, value] of Object.entries(model.outputs)) outputs[key] = resolveString(value, context, `Outputs.${key}`);
  const missing = Object.values(STACK_OUTPUTS).filter((key) => !(key in outputs));
  if (missing.length > 0) warnings.push(`the template has no output ${missing.join(', ')}: the CLI and SDK helpers cannot find those locally`);

  return {
    stackName: model.stackName,
    region,
    queues: [...queues.values()],
    tables: [...tables.values()],
    buckets: [...buckets.values()],
    functions: [...functions.values()],
    mappings,
    streamMappings,
    alarms,
    schedules,
    outputs,
    warnings,
  };
}

async function queueArn(sqs: SQSClient, queueUrl: string): Promise<string> {
  const r = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }));
  return r.Attributes!.QueueArn!;
}

/** Index definitions without the properties CreateTable does not take (contributor insights, warm throughput…). */
function indexes(value: unknown): unknown {
  if (!Array.isArray(value)) return value;
  return value.map((index: Record<string, unknown>) => {
    const { IndexName, KeySchema, Projection, ProvisionedThroughput } = index;
    return { IndexName, KeySchema, Projection, ...(ProvisionedThroughput ? { ProvisionedThroughput } : {}) };
  });
}

async function waitForTableActive(dynamo: DynamoDBClient, tableName: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const d = await dynamo.send(new DescribeTableCommand({ TableName: tableName }));
    if (d.Table?.TableStatus === 'ACTIVE') return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`table ${tableName} did not become ACTIVE`);
}
