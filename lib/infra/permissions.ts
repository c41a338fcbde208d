/**
 * Least-privilege IAM for the task queue. Explicit action lists rather than the L2
 * `grant*` helpers: those add actions the task queue never calls (sqs:GetQueueUrl,
 * dynamodb:Scan/Query, s3:DeleteObject on the whole bucket, kms:ReEncrypt*…).
 *
 * The statements with resource `*` are those of actions that support no resource-level
 * permissions: X-Ray's (xray:PutTraceSegments, xray:PutTelemetryRecords, added by Lambda
 * when tracing is on) on the consumer, and cloudwatch:GetMetricData of the operator grants.
 */
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { acknowledgeClaimPrefixWildcard, acknowledgeMetricDataWildcard } from './nag-acknowledgments.ts';
import { grantScheduleRead, grantScheduleUpdate, type ScheduleResources } from './schedule-permissions.ts';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { DEFAULTS } from '../protocol/resources.ts';
import { ROUTING_ITEM_KEY } from '../protocol/lanes.ts';

/** The actions each role gets; exported so tests and docs state the same lists. */
export const ACTIONS = {
  consumer: {
    /** What the SQS event source mapping needs (it runs with the function's role:
     * Receive/Delete/GetQueueAttributes), ChangeMessageVisibility for the runtime's backoff and
     * re-delays, and SendMessage for the copies the runtime re-sends to its own queue
     * (notBefore hops beyond 15 minutes, records on their last receive, outcome copies). */
    sourceQueue: ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:ChangeMessageVisibility', 'sqs:GetQueueAttributes', 'sqs:SendMessage'],
    /** The runtime dead-letters tasks itself, with the reason as message attributes. */
    deadLetterQueue: ['sqs:SendMessage'],
    /** With lanes: a task that arrives in the wrong lane (a producer's routing cache was stale)
     * is forwarded to its lane's queue. */
    otherLaneQueues: ['sqs:SendMessage'],
    /** Exactly what lib/runtime/task-store.ts calls (test/infra/runtime-permissions.test.ts
     * checks the two agree): PartiQL INSERTs (BatchExecuteStatement) acquire fresh leases,
     * conditional UpdateItem/PutItem handle redeliveries and dead-letters, BatchWriteItem
     * completes a batch, BatchGetItem checks `record`-mode duplicates. No Scan/Query.
     * DeleteItem releases, conditionally, a lease its acquire created (never over a cancel);
     * BatchGetItem also re-reads running tasks' records for a cancel. */
    table: ['dynamodb:PartiQLInsert', 'dynamodb:UpdateItem', 'dynamodb:PutItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem', 'dynamodb:BatchGetItem'],
    /** Claim-check payloads, under the claim prefix only: read, and deleted once their task
     * has SUCCEEDED (S3 DeleteObjects checks s3:DeleteObject for each key; the runtime's
     * deleteClaimsAfterSuccess). Never PutObject, never ListBucket. */
    claimObjects: ['s3:GetObject', 's3:DeleteObject'],
    /** Results too large for the task record, written under the results prefix only. */
    resultObjects: ['s3:PutObject'],
    /** SQS receive/send, S3 get and DynamoDB read/write with a customer-managed key. */
    key: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey'],
  },
  send: {
    /** GetQueueAttributes: the producer's backpressure reads the queue depth. */
    queue: ['sqs:SendMessage', 'sqs:GetQueueAttributes'],
    claimObjects: ['s3:PutObject'],
    /** Send option `dedupe` (lib/client/dedupe.ts): one conditional UpdateItem per send, on the
     * dedupe items only (condition dynamodb:LeadingKeys DEDUPE_LEADING_KEYS). */
    dedupe: ['dynamodb:UpdateItem'],
    /** sendGroup (lib/client/task-group.ts): the group's item and its prepared callback, written
     * once in one transaction of conditional Puts (condition dynamodb:LeadingKeys GROUP_LEADING_KEYS). */
    group: ['dynamodb:PutItem'],
    /** With lanes or fanOut: the routing item, read with GetItem (condition dynamodb:LeadingKeys = the routing key). */
    routingItem: ['dynamodb:GetItem'],
    key: ['kms:GenerateDataKey', 'kms:Decrypt'],
  },
  statusRead: {
    table: ['dynamodb:GetItem'],
    /** waitForResult reads a result stored in S3 (under the results prefix only). */
    resultObjects: ['s3:GetObject'],
    key: ['kms:Decrypt'],
  },
  /** producer.cancel / `taskq cancel`: one conditional UpdateItem on the task's record. */
  cancel: {
    table: ['dynamodb:UpdateItem'],
    key: ['kms:Decrypt'],
  },
  /** `taskq dlq peek / redrive / purge` with the queues named by flags (no stack lookup). */
  redrive: {
    /** Inspect (receive + release with ChangeMessageVisibility), delete after a re-send,
     * count, purge, and run/list/cancel message-move tasks out of it. */
    deadLetterQueue: [
      'sqs:ReceiveMessage',
      'sqs:DeleteMessage',
      'sqs:ChangeMessageVisibility',
      'sqs:PurgeQueue',
      'sqs:GetQueueAttributes',
      'sqs:StartMessageMoveTask',
      'sqs:ListMessageMoveTasks',
      'sqs:CancelMessageMoveTask',
    ],
    /** The destination of a redrive: send (also what a move task does with the caller's
     * permissions), and read its attributes (the CLI checks it exists and reads its ARN). */
    sourceQueue: ['sqs:SendMessage', 'sqs:GetQueueAttributes'],
    key: ['kms:Decrypt', 'kms:GenerateDataKey'],
  },
  /** The read-only operator commands: `taskq stats`, `taskq status`, resolving `--stack` outputs. */
  operatorRead: {
    /** stats: depth, in flight and delayed of both queues. */
    queues: ['sqs:GetQueueAttributes'],
    /** status: a task's record. */
    table: ['dynamodb:GetItem'],
    /** `taskq console`'s recent tasks, when the table has the recent-tasks index (the index only). */
    recentTasksIndex: ['dynamodb:Query'],
    /** The stack's outputs (every command resolves resources from them) and its alarms (stats). */
    stack: ['cloudformation:DescribeStacks', 'cloudformation:ListStackResources'],
    /** stats: the states of the stack's alarms. */
    alarms: ['cloudwatch:DescribeAlarms'],
    /** stats: the source queue's ApproximateAgeOfOldestMessage. GetMetricData supports no
     * resource-level permissions: resource "*" (acknowledged in nag-acknowledgments.ts). */
    metricData: ['cloudwatch:GetMetricData'],
    /** status: a result too large for the record, read from S3 (results prefix only). */
    resultObjects: ['s3:GetObject'],
    /** status on a table encrypted with the key. */
    key: ['kms:Decrypt'],
  },
} as const;

export interface TaskQueueResources {
  readonly queue: sqs.IQueue;
  readonly deadLetterQueue: sqs.IQueue;
  readonly table: dynamodb.ITable;
  readonly bucket: s3.IBucket;
  readonly claimPrefix: string;
  readonly encryptionKey?: kms.IKey;
  /** The named lanes' queues (the default lane's are `queue` and `deadLetterQueue`). */
  readonly lanes?: readonly LaneQueues[];
  /** The stack writes a routing table: producers read it. */
  readonly routing?: boolean;
}

export interface LaneQueues {
  readonly queue: sqs.IQueue;
  readonly deadLetterQueue: sqs.IQueue;
}

/** Every lane's queues, the default lane first. */
function allLanes(r: TaskQueueResources): LaneQueues[] {
  return [{ queue: r.queue, deadLetterQueue: r.deadLetterQueue }, ...(r.lanes ?? [])];
}

/** What the operator grants also name: the stack the CLI reads outputs from, and the alarms. */
export interface OperatorResources extends TaskQueueResources {
  /** The stack's id (its ARN): the resource of DescribeStacks / ListStackResources. */
  readonly stackId: string;
  /** The task table's recent-tasks index, when it has one. */
  readonly recentTasksIndexName?: string;
  readonly alarms: readonly cloudwatch.IAlarm[];
  /** The schedule group and role, when the task queue has schedules (`taskq schedules`). */
  readonly schedules?: ScheduleResources;
}

/**
 * A lane's consumer: `r.queue`/`r.deadLetterQueue` are its own lane's; with lanes,
 * SendMessage on every other lane's queue (`otherLaneQueues`: forwarding misrouted tasks).
 */
export function grantConsume(grantee: iam.IGrantable, r: TaskQueueResources, otherLaneQueues: readonly sqs.IQueue[] = []): iam.Grant {
  const a = ACTIONS.consumer;
  return combine([
    ...(otherLaneQueues.length > 0
      ? [iam.Grant.addToPrincipal({ grantee, actions: [...a.otherLaneQueues], resourceArns: otherLaneQueues.map((q) => q.queueArn) })]
      : []),
    iam.Grant.addToPrincipal({ grantee, actions: [...a.sourceQueue], resourceArns: [r.queue.queueArn] }),
    iam.Grant.addToPrincipal({ grantee, actions: [...a.deadLetterQueue], resourceArns: [r.deadLetterQueue.queueArn] }),
    iam.Grant.addToPrincipal({ grantee, actions: [...a.table], resourceArns: [r.table.tableArn] }),
    iam.Grant.addToPrincipal({ grantee, actions: [...a.claimObjects], resourceArns: [claimObjectsArn(r)] }),
    iam.Grant.addToPrincipal({ grantee, actions: [...a.resultObjects], resourceArns: [resultObjectsArn(r)] }),
    ...(r.encryptionKey ? [r.encryptionKey.grant(grantee, ...a.key)] : []),
  ]);
}

/**
 * Producers may live in another account: `addToPrincipalOrResource` writes the identity
 * policy for a principal of this account, and a queue-policy / bucket-policy statement for
 * one of another account (which then needs its own identity policy too).
 */
export function grantSend(grantee: iam.IGrantable, r: TaskQueueResources): iam.Grant {
  const a = ACTIONS.send;
  if (Construct.isConstruct(grantee.grantPrincipal)) {
    acknowledgeClaimPrefixWildcard(
      grantee.grantPrincipal,
      r.bucket,
      r.claimPrefix,
      's3:PutObject (claim-check uploads of TaskQueue.grantSend) is scoped to the claim-check prefix of the bucket: producers write each payload under a new unique key, so the prefix wildcard is the narrowest possible resource.',
    );
  }
  return combine([
    ...allLanes(r).map(({ queue }) => iam.Grant.addToPrincipalOrResource({ grantee, actions: [...a.queue], resourceArns: [queue.queueArn], resource: queue })),
    iam.Grant.addToPrincipalOrResource({ grantee, actions: [...a.claimObjects], resourceArns: [claimObjectsArn(r)], resource: r.bucket }),
    iam.Grant.addToPrincipal({
      grantee,
      actions: [...a.dedupe],
      resourceArns: [r.table.tableArn],
      conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [DEDUPE_LEADING_KEYS] } },
    }),
    iam.Grant.addToPrincipal({
      grantee,
      actions: [...a.group],
      resourceArns: [r.table.tableArn],
      conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [GROUP_LEADING_KEYS] } },
    }),
    ...(r.routing
      ? [
          // An identity-policy grant: a producer of another account reads no routing table (it sends to the default queue URL).
          iam.Grant.addToPrincipal({
            grantee,
            actions: [...a.routingItem],
            resourceArns: [r.table.tableArn],
            conditions: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [ROUTING_ITEM_KEY] } },
          }),
        ]
      : []),
    ...(r.encryptionKey ? [r.encryptionKey.grant(grantee, ...a.key)] : []),
  ]);
}

/**
 * The keys a producer may write: the dedupe items (lib/protocol/dedupe.ts dedupeItemKey,
 * U+001F then `dedupe:`). IAM policies cannot hold a control character, so `?` stands for it;
 * a task record's key matches only if its idempotency key starts with one character then
 * `dedupe:`. A same-account grant: the table has no resource policy for another account.
 */
export const DEDUPE_LEADING_KEYS = '?dedupe:*';

/** The group items a producer writes (lib/protocol/group.ts: U+001F then `group:`), `?` standing for U+001F as above. */
export const GROUP_LEADING_KEYS = '?group:*';

export function grantStatusRead(grantee: iam.IGrantable, r: TaskQueueResources): iam.Grant {
  const a = ACTIONS.statusRead;
  acknowledgeResultPrefixWildcard(grantee, r);
  return combine([
    iam.Grant.addToPrincipal({ grantee, actions: [...a.table], resourceArns: [r.table.tableArn] }),
    iam.Grant.addToPrincipal({ grantee, actions: [...a.resultObjects], resourceArns: [resultObjectsArn(r)] }),
    ...(r.encryptionKey ? [r.encryptionKey.grant(grantee, ...a.key)] : []),
  ]);
}

export function grantCancel(grantee: iam.IGrantable, r: TaskQueueResources): iam.Grant {
  const a = ACTIONS.cancel;
  return combine([
    iam.Grant.addToPrincipal({ grantee, actions: [...a.table], resourceArns: [r.table.tableArn] }),
    ...(r.encryptionKey ? [r.encryptionKey.grant(grantee, ...a.key)] : []),
  ]);
}

export function grantRedrive(grantee: iam.IGrantable, r: TaskQueueResources): iam.Grant {
  const a = ACTIONS.redrive;
  return combine([
    iam.Grant.addToPrincipal({ grantee, actions: [...a.deadLetterQueue], resourceArns: allLanes(r).map((l) => l.deadLetterQueue.queueArn) }),
    iam.Grant.addToPrincipal({ grantee, actions: [...a.sourceQueue], resourceArns: allLanes(r).map((l) => l.queue.queueArn) }),
    ...(r.encryptionKey ? [r.encryptionKey.grant(grantee, ...a.key)] : []),
  ]);
}

/**
 * The read-only operator commands: `taskq stats` (queue attributes, alarm states, age of the
 * oldest message), `taskq status` (a task's record), and the `--stack` lookup every command
 * makes. No receive: `dlq peek` hides messages while it reads them.
 */
export function grantOperatorRead(grantee: iam.IGrantable, r: OperatorResources): iam.Grant {
  const a = ACTIONS.operatorRead;
  grantMetricData(grantee, a.metricData);
  acknowledgeResultPrefixWildcard(grantee, r);
  return combine([
    iam.Grant.addToPrincipal({ grantee, actions: [...a.resultObjects], resourceArns: [resultObjectsArn(r)] }),
    iam.Grant.addToPrincipal({ grantee, actions: [...a.queues], resourceArns: allLanes(r).flatMap((l) => [l.queue.queueArn, l.deadLetterQueue.queueArn]) }),
    iam.Grant.addToPrincipal({ grantee, actions: [...a.table], resourceArns: [r.table.tableArn] }),
    ...(r.recentTasksIndexName
      ? [iam.Grant.addToPrincipal({ grantee, actions: [...a.recentTasksIndex], resourceArns: [`${r.table.tableArn}/index/${r.recentTasksIndexName}`] })]
      : []),
    iam.Grant.addToPrincipal({ grantee, actions: [...a.stack], resourceArns: [r.stackId] }),
    iam.Grant.addToPrincipal({ grantee, actions: [...a.alarms], resourceArns: r.alarms.map((alarm) => alarm.alarmArn) }),
    ...(r.encryptionKey ? [r.encryptionKey.grant(grantee, ...a.key)] : []),
    ...(r.schedules ? [grantScheduleRead(grantee, r.schedules)] : []),
  ]);
}

/** Every `taskq` command: the read-only ones, `send`, `cancel`, the DLQ's peek / redrive / purge, and pausing / resuming schedules. */
export function grantOperate(grantee: iam.IGrantable, r: OperatorResources): iam.Grant {
  return combine([
    grantOperatorRead(grantee, r),
    grantSend(grantee, r),
    grantCancel(grantee, r),
    grantRedrive(grantee, r),
    ...(r.schedules ? [grantScheduleUpdate(grantee, r.schedules)] : []),
  ]);
}

const METRIC_DATA_POLICY_ID = 'TaskQueueOperatorMetricData';

/**
 * GetMetricData on "*" goes into an inline policy of its own, created next to the principal
 * (in its stack: no cross-stack cycle), so the cdk-nag acknowledgment of its "*" covers that
 * statement only — a wildcard added to the principal's other policies is still reported.
 * Principals that take no inline policy get the statement through the usual grant.
 */
function grantMetricData(grantee: iam.IGrantable, actions: readonly string[]): void {
  const principal = grantee.grantPrincipal;
  if (!isIdentity(principal)) {
    iam.Grant.addToPrincipal({ grantee, actions: [...actions], resourceArns: ['*'] });
    return;
  }
  if (principal.node.tryFindChild(METRIC_DATA_POLICY_ID)) return;
  const policy = new iam.Policy(principal, METRIC_DATA_POLICY_ID, {
    statements: [new iam.PolicyStatement({ actions: [...actions], resources: ['*'] })],
  });
  principal.attachInlinePolicy(policy);
  acknowledgeMetricDataWildcard(policy);
}

function isIdentity(principal: iam.IPrincipal): principal is iam.IPrincipal & iam.IIdentity {
  return Construct.isConstruct(principal) && typeof (principal as Partial<iam.IIdentity>).attachInlinePolicy === 'function';
}

function claimObjectsArn(r: TaskQueueResources): string {
  return r.bucket.arnForObjects(`${r.claimPrefix}*`);
}

function acknowledgeResultPrefixWildcard(grantee: iam.IGrantable, r: TaskQueueResources): void {
  if (!Construct.isConstruct(grantee.grantPrincipal)) return;
  acknowledgeClaimPrefixWildcard(
    grantee.grantPrincipal,
    r.bucket,
    DEFAULTS.resultPrefix,
    's3:GetObject (results too large for the task record, read by waitForResult and `taskq status`) is scoped to the results prefix of the bucket: each result has its own key, so the prefix wildcard is the narrowest possible resource.',
  );
}

function resultObjectsArn(r: TaskQueueResources): string {
  return r.bucket.arnForObjects(`${DEFAULTS.resultPrefix}*`);
}

function combine(grants: iam.Grant[]): iam.Grant {
  return grants.reduce((all, grant) => all.combine(grant));
}
