/**
 * What IAM checks for an AWS SDK command: the action(s) and the resource(s), per the
 * Service Authorization Reference, and the KMS actions the service performs with the
 * caller's credentials when the resource is encrypted with a customer-managed key.
 *
 * Resources are named by role (the source queue, the DLQ, the table, the bucket, the
 * stack…), never by the emulator's names: `lookup` tells which role an emulator resource
 * plays (resource-roles.ts). A command without a mapping here fails loudly — a new kind of
 * AWS call must be mapped before it can pass a test.
 *
 * KMS on the caller's behalf (customer-managed key):
 * - SQS SendMessage(Batch): kms:GenerateDataKey and kms:Decrypt; ReceiveMessage: kms:Decrypt
 *   (SQS developer guide, "Key management": permissions for producers and consumers).
 * - S3 PutObject: kms:GenerateDataKey; GetObject/HeadObject: kms:Decrypt (S3 user guide,
 *   "Using server-side encryption with AWS KMS keys"). DeleteObject(s) and ListBucket use no key.
 * - DynamoDB item reads and writes: kms:Decrypt of the table key, made with the caller's
 *   credentials through DynamoDB (KMS developer guide, "How Amazon DynamoDB uses AWS KMS").
 */
import { TABLE_SCHEMA } from '../../../lib/protocol/resources.ts';
import type { ResourceRole } from './policy-model.ts';

export type Target =
  /** A resource of the task queue, by role; `objectKey` makes a bucket target an object. */
  | { readonly kind: 'resource'; readonly role: ResourceRole; readonly objectKey?: string }
  | { readonly kind: 'stack' }
  /** A CloudWatch alarm by name; no name: every alarm (arn…:alarm:*). */
  | { readonly kind: 'alarm'; readonly name?: string }
  /** An EventBridge event bus by name or ARN (PutEvents). */
  | { readonly kind: 'eventBus'; readonly name: string }
  /** Actions without resource-level permissions: "*". */
  | { readonly kind: 'any' };

export interface ActionCheck {
  readonly action: string;
  readonly target: Target;
  /** KMS actions the service calls with the caller's credentials when the target has a customer-managed key. */
  readonly kms?: readonly string[];
  /** Request context keys the call sets (dynamodb:LeadingKeys: the partition keys of the items it names). */
  readonly context?: Readonly<Record<string, string[]>>;
}

export type AwsService = 'sqs' | 's3' | 'dynamodb' | 'dynamodbstreams' | 'events' | 'cloudformation' | 'cloudwatch';

export interface ServiceCall {
  readonly service: AwsService;
  /** The SDK command without "Command", e.g. SendMessageBatch. */
  readonly command: string;
  readonly input: Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
}

export type LookupKind = 'queue' | 'table' | 'bucket' | 'stack' | 'stream';

/** Which role an emulator resource plays: a role, 'absent' (does not exist: the service answers not-found before any policy), or undefined (not registered). */
export type RoleLookup = (kind: LookupKind, name: string) => ResourceRole | 'stack' | 'absent' | undefined;

/** A call the harness cannot map: an unknown command or a resource no test registered. */
export class UnmappedCallError extends Error {
  constructor(call: ServiceCall, why: string) {
    super(`IAM harness: cannot evaluate ${call.service}:${call.command} — ${why}`);
    this.name = 'UnmappedCallError';
  }
}

const SEND_KMS = ['kms:GenerateDataKey', 'kms:Decrypt'] as const;
const DECRYPT = ['kms:Decrypt'] as const;
const DYNAMO_KMS = ['kms:Decrypt'] as const;

/** The SSE-KMS actions per S3 command (see the file comment). */
const S3_OBJECT_ACTIONS: Record<string, { action: string; kms?: readonly string[] }> = {
  GetObject: { action: 's3:GetObject', kms: DECRYPT },
  HeadObject: { action: 's3:GetObject', kms: DECRYPT },
  PutObject: { action: 's3:PutObject', kms: ['kms:GenerateDataKey'] },
  DeleteObject: { action: 's3:DeleteObject' },
};

/** DynamoDB single-table commands whose action is dynamodb:<command>. */
const DYNAMO_ITEM_COMMANDS = new Set(['GetItem', 'PutItem', 'UpdateItem', 'DeleteItem', 'Query', 'Scan']);

const PARTIQL_VERBS: Record<string, string> = {
  INSERT: 'dynamodb:PartiQLInsert',
  UPDATE: 'dynamodb:PartiQLUpdate',
  DELETE: 'dynamodb:PartiQLDelete',
  SELECT: 'dynamodb:PartiQLSelect',
};

/** The task table's partition key value of an item or key (`{ pk: { S } }`), if it names one. */
function partitionKeyOf(item: unknown): string | undefined {
  const value = (item as Record<string, { S?: string } | undefined> | undefined)?.[TABLE_SCHEMA.partitionKey]?.S;
  return typeof value === 'string' ? value : undefined;
}

export function queueNameFromUrl(url: string): string {
  return decodeURIComponent(new URL(url).pathname.split('/').filter(Boolean).pop() ?? '');
}

function queueNameFromArn(arn: string): string {
  return arn.split(':').pop() ?? '';
}

/** The table a PartiQL statement works on: INSERT INTO t, UPDATE t, DELETE FROM t, SELECT … FROM t ("quoted" or bare). */
export function partiqlTarget(statement: string): { action: string; table: string } | undefined {
  const verb = /^\s*(\w+)/.exec(statement)?.[1]?.toUpperCase();
  const action = verb ? PARTIQL_VERBS[verb] : undefined;
  if (!action) return undefined;
  const identifier = String.raw`("(?:[^"]|"")+"|[A-Za-z0-9_.-]+)`;
  const pattern = { INSERT: `^\\s*INSERT\\s+INTO\\s+${identifier}`, UPDATE: `^\\s*UPDATE\\s+${identifier}`, DELETE: `^\\s*DELETE\\s+FROM\\s+${identifier}`, SELECT: `\\sFROM\\s+${identifier}` }[verb as 'INSERT'];
  const raw = new RegExp(pattern, 'i').exec(statement)?.[1];
  if (!raw) return undefined;
  const table = raw.startsWith('"') ? raw.slice(1, -1).replaceAll('""', '"') : raw;
  return { action, table };
}

export function actionChecks(call: ServiceCall, lookup: RoleLookup): ActionCheck[] {
  const role = (kind: LookupKind, name: string): ResourceRole | 'stack' | 'absent' => {
    const found = lookup(kind, name);
    if (found === undefined) {
      throw new UnmappedCallError(call, `the ${kind} "${name}" plays no registered role (register it with registerResources / registerAbsent in test/support/iam/resource-roles.ts)`);
    }
    return found;
  };
  /** A check on a task-queue resource, or none when the resource does not exist. */
  const on = (kind: LookupKind, name: string, action: string, kms?: readonly string[], objectKey?: string): ActionCheck[] => {
    const r = role(kind, name);
    if (r === 'absent') return [];
    if (r === 'stack') return [{ action, target: { kind: 'stack' } }];
    return [{ action, target: { kind: 'resource', role: r, ...(objectKey !== undefined ? { objectKey } : {}) }, ...(kms ? { kms } : {}) }];
  };
  const input = call.input;
  const unmapped = (): never => {
    throw new UnmappedCallError(call, 'no IAM mapping for this command (add it to test/support/iam/sdk-call-actions.ts)');
  };

  switch (call.service) {
    case 'sqs': {
      const queue = (action: string, kms?: readonly string[]) => on('queue', queueNameFromUrl(input.QueueUrl), action, kms);
      switch (call.command) {
        case 'SendMessage':
        case 'SendMessageBatch':
          return queue('sqs:SendMessage', SEND_KMS);
        case 'ReceiveMessage':
          return queue('sqs:ReceiveMessage', DECRYPT);
        case 'DeleteMessage':
        case 'DeleteMessageBatch':
          return queue('sqs:DeleteMessage');
        case 'ChangeMessageVisibility':
        case 'ChangeMessageVisibilityBatch':
          return queue('sqs:ChangeMessageVisibility');
        case 'GetQueueAttributes':
          return queue('sqs:GetQueueAttributes');
        case 'PurgeQueue':
          return queue('sqs:PurgeQueue');
        case 'GetQueueUrl':
          return on('queue', input.QueueName, 'sqs:GetQueueUrl');
        case 'StartMessageMoveTask': {
          // The move task receives, deletes and reads the DLQ's attributes, and sends to the
          // destination (or, without one, to the queues whose redrive policy names the DLQ),
          // with the caller's permissions.
          const source = queueNameFromArn(input.SourceArn);
          const destination = input.DestinationArn
            ? on('queue', queueNameFromArn(input.DestinationArn), 'sqs:SendMessage', SEND_KMS)
            : [{ action: 'sqs:SendMessage', target: { kind: 'resource', role: 'queue' }, kms: SEND_KMS } satisfies ActionCheck];
          return [
            ...on('queue', source, 'sqs:StartMessageMoveTask'),
            ...on('queue', source, 'sqs:ReceiveMessage', DECRYPT),
            ...on('queue', source, 'sqs:DeleteMessage'),
            ...on('queue', source, 'sqs:GetQueueAttributes'),
            ...destination,
          ];
        }
        case 'ListMessageMoveTasks':
          return on('queue', queueNameFromArn(input.SourceArn), 'sqs:ListMessageMoveTasks');
        case 'CancelMessageMoveTask': {
          // A task handle is base64 JSON naming the source queue ARN.
          let source: string | undefined;
          try {
            const decoded = JSON.parse(Buffer.from(String(input.TaskHandle), 'base64').toString('utf8')) as Record<string, unknown>;
            source = (decoded.sourceArn ?? decoded.SourceArn) as string | undefined;
          } catch {
            source = undefined;
          }
          if (!source) throw new UnmappedCallError(call, 'the task handle names no source queue');
          return on('queue', queueNameFromArn(source), 'sqs:CancelMessageMoveTask');
        }
        default:
          return unmapped();
      }
    }
    case 's3': {
      if (call.command === 'DeleteObjects') {
        // DeleteObjects is authorized as s3:DeleteObject on each key.
        const keys = ((input.Delete?.Objects ?? []) as { Key: string }[]).map((o) => o.Key);
        return keys.flatMap((key) => on('bucket', input.Bucket, 's3:DeleteObject', undefined, key));
      }
      if (call.command === 'ListObjectsV2' || call.command === 'ListObjects') return on('bucket', input.Bucket, 's3:ListBucket');
      const object = S3_OBJECT_ACTIONS[call.command];
      if (!object) return unmapped();
      return on('bucket', input.Bucket, object.action, object.kms, String(input.Key));
    }
    case 'dynamodb': {
      // Single-item commands and batches name their items' partition keys: IAM sets dynamodb:LeadingKeys to them, so
      // a grant conditioned on it (dedupe, group, routing items) is evaluated on the keys really used.
      const withKeys = (checks: ActionCheck[], items: unknown[]): ActionCheck[] => {
        const values = [...new Set(items.map(partitionKeyOf))];
        if (values.length === 0 || values.some((v) => v === undefined)) return checks;
        return checks.map((c) => ({ ...c, context: { 'dynamodb:LeadingKeys': values as string[] } }));
      };
      if (['GetItem', 'UpdateItem', 'DeleteItem'].includes(call.command)) return withKeys(on('table', input.TableName, `dynamodb:${call.command}`, DYNAMO_KMS), [input.Key]);
      if (call.command === 'PutItem') return withKeys(on('table', input.TableName, 'dynamodb:PutItem', DYNAMO_KMS), [input.Item]);
      if (DYNAMO_ITEM_COMMANDS.has(call.command)) return on('table', input.TableName, `dynamodb:${call.command}`, DYNAMO_KMS);
      switch (call.command) {
        case 'BatchGetItem':
          return Object.entries((input.RequestItems ?? {}) as Record<string, { Keys?: unknown[] }>).flatMap(([table, r]) => withKeys(on('table', table, 'dynamodb:BatchGetItem', DYNAMO_KMS), r.Keys ?? []));
        case 'BatchWriteItem':
          return Object.entries((input.RequestItems ?? {}) as Record<string, { PutRequest?: { Item?: unknown }; DeleteRequest?: { Key?: unknown } }[]>).flatMap(([table, requests]) =>
            withKeys(on('table', table, 'dynamodb:BatchWriteItem', DYNAMO_KMS), requests.map((q) => q.PutRequest?.Item ?? q.DeleteRequest?.Key)),
          );
        case 'ExecuteStatement':
        case 'BatchExecuteStatement': {
          const statements: string[] = call.command === 'ExecuteStatement' ? [input.Statement] : (input.Statements ?? []).map((s: { Statement: string }) => s.Statement);
          return statements.flatMap((statement) => {
            const target = partiqlTarget(statement);
            if (!target) throw new UnmappedCallError(call, `cannot read the verb and table of the PartiQL statement ${JSON.stringify(statement)}`);
            return on('table', target.table, target.action, DYNAMO_KMS);
          });
        }
        case 'TransactWriteItems':
          // Each item is authorized as its single-item action, on its own key.
          return (input.TransactItems ?? []).flatMap((item: Record<string, { TableName: string; Key?: unknown; Item?: unknown }>) => {
            const [kind, body] = Object.entries(item)[0]!;
            const action = { ConditionCheck: 'dynamodb:ConditionCheckItem', Put: 'dynamodb:PutItem', Update: 'dynamodb:UpdateItem', Delete: 'dynamodb:DeleteItem' }[kind];
            if (!action) throw new UnmappedCallError(call, `unknown transaction item ${kind}`);
            return withKeys(on('table', body.TableName, action, DYNAMO_KMS), [body.Item ?? body.Key]);
          });
        case 'DescribeTable':
          return on('table', input.TableName, 'dynamodb:DescribeTable');
        default:
          return unmapped();
      }
    }
    case 'dynamodbstreams': {
      // Streams actions are dynamodb:* on the stream ARN; a shard iterator names its stream (AWS's and DynamoDB Local's alike).
      switch (call.command) {
        case 'DescribeStream':
        case 'GetShardIterator':
          return on('stream', String(input.StreamArn), `dynamodb:${call.command}`);
        case 'GetRecords': {
          const stream = /arn:aws:dynamodb:[^|]*?\/stream\/[^|]+/.exec(String(input.ShardIterator))?.[0];
          if (!stream) throw new UnmappedCallError(call, 'the shard iterator names no stream ARN');
          return on('stream', stream, 'dynamodb:GetRecords');
        }
        case 'ListStreams':
          return [{ action: 'dynamodb:ListStreams', target: { kind: 'any' } }];
        default:
          return unmapped();
      }
    }
    case 'events':
      switch (call.command) {
        case 'PutEvents':
          // Authorized per bus the entries name (no name: the account's default bus).
          return [...new Set(((input.Entries ?? []) as { EventBusName?: string }[]).map((e) => e.EventBusName || 'default'))].map((name) => ({ action: 'events:PutEvents', target: { kind: 'eventBus', name } }));
        default:
          return unmapped();
      }
    case 'cloudformation':
      switch (call.command) {
        case 'DescribeStacks':
        case 'ListStackResources':
        case 'DescribeStackResources':
          if (!input.StackName) return [{ action: `cloudformation:${call.command}`, target: { kind: 'any' } }];
          return on('stack', input.StackName, `cloudformation:${call.command}`);
        default:
          return unmapped();
      }
    case 'cloudwatch':
      switch (call.command) {
        case 'DescribeAlarms': {
          const names: string[] = input.AlarmNames ?? [];
          if (names.length === 0) return [{ action: 'cloudwatch:DescribeAlarms', target: { kind: 'alarm' } }];
          return names.map((name) => ({ action: 'cloudwatch:DescribeAlarms', target: { kind: 'alarm', name } }));
        }
        case 'GetMetricData':
        case 'GetMetricStatistics':
        case 'ListMetrics':
          return [{ action: `cloudwatch:${call.command}`, target: { kind: 'any' } }];
        default:
          return unmapped();
      }
  }
}
