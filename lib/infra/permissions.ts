/**
 * Least-privilege IAM for the task queue. Explicit action lists rather than the L2
 * `grant*` helpers: those add actions the task queue never calls (sqs:GetQueueUrl,
 * dynamodb:Scan/Query, s3:DeleteObject on the whole bucket, kms:ReEncrypt*…).
 *
 * The single statement with resource `*` in the construct is X-Ray's
 * (xray:PutTraceSegments, xray:PutTelemetryRecords, added by Lambda when tracing is on):
 * those actions support no resource-level permissions.
 */
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sqs from 'aws-cdk-lib/aws-sqs';

/** The actions each role gets; exported so tests and docs state the same lists. */
export const ACTIONS = {
  consumer: {
    /** What the SQS event source mapping needs (it runs with the function's role:
     * Receive/Delete/GetQueueAttributes), ChangeMessageVisibility for the runtime's backoff and
     * re-delays, and SendMessage for the fresh copies the runtime re-sends to its own queue
     * (notBefore hops beyond 15 minutes, records on their last receive). */
    sourceQueue: ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:ChangeMessageVisibility', 'sqs:GetQueueAttributes', 'sqs:SendMessage'],
    /** The runtime dead-letters tasks itself, with the reason as message attributes. */
    deadLetterQueue: ['sqs:SendMessage'],
    /** Exactly what lib/runtime/task-store.ts calls (test/infra/runtime-permissions.test.ts
     * checks the two agree): PartiQL INSERTs (BatchExecuteStatement) acquire fresh leases,
     * conditional UpdateItem/PutItem handle redeliveries and dead-letters, BatchWriteItem
     * completes a batch, BatchGetItem checks `record`-mode duplicates. No Scan/Query. */
    table: ['dynamodb:PartiQLInsert', 'dynamodb:UpdateItem', 'dynamodb:PutItem', 'dynamodb:BatchWriteItem', 'dynamodb:BatchGetItem'],
    /** Claim-check payloads, under the claim prefix only: read, and deleted once their task
     * has SUCCEEDED (S3 DeleteObjects checks s3:DeleteObject for each key; the runtime's
     * deleteClaimsAfterSuccess). Never PutObject, never ListBucket. */
    claimObjects: ['s3:GetObject', 's3:DeleteObject'],
    /** SQS receive/send, S3 get and DynamoDB read/write with a customer-managed key. */
    key: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey'],
  },
  send: {
    /** GetQueueAttributes: the producer's backpressure reads the queue depth. */
    queue: ['sqs:SendMessage', 'sqs:GetQueueAttributes'],
    claimObjects: ['s3:PutObject'],
    key: ['kms:GenerateDataKey', 'kms:Decrypt'],
  },
  statusRead: {
    table: ['dynamodb:GetItem'],
    key: ['kms:Decrypt'],
  },
  redrive: {
    /** Inspect (receive + release with ChangeMessageVisibility), delete, purge, re-send to
     * the DLQ, and run/list/cancel message-move tasks out of it. */
    deadLetterQueue: [
      'sqs:ReceiveMessage',
      'sqs:DeleteMessage',
      'sqs:ChangeMessageVisibility',
      'sqs:SendMessage',
      'sqs:PurgeQueue',
      'sqs:GetQueueAttributes',
      'sqs:StartMessageMoveTask',
      'sqs:ListMessageMoveTasks',
      'sqs:CancelMessageMoveTask',
    ],
    /** The destination of a redrive. */
    sourceQueue: ['sqs:SendMessage'],
    key: ['kms:Decrypt', 'kms:GenerateDataKey'],
  },
} as const;

export interface TaskQueueResources {
  readonly queue: sqs.IQueue;
  readonly deadLetterQueue: sqs.IQueue;
  readonly table: dynamodb.ITable;
  readonly bucket: s3.IBucket;
  readonly claimPrefix: string;
  readonly encryptionKey?: kms.IKey;
}

export function grantConsume(grantee: iam.IGrantable, r: TaskQueueResources): iam.Grant {
  const a = ACTIONS.consumer;
  return combine([
    iam.Grant.addToPrincipal({ grantee, actions: [...a.sourceQueue], resourceArns: [r.queue.queueArn] }),
    iam.Grant.addToPrincipal({ grantee, actions: [...a.deadLetterQueue], resourceArns: [r.deadLetterQueue.queueArn] }),
    iam.Grant.addToPrincipal({ grantee, actions: [...a.table], resourceArns: [r.table.tableArn] }),
    iam.Grant.addToPrincipal({ grantee, actions: [...a.claimObjects], resourceArns: [claimObjectsArn(r)] }),
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
  return combine([
    iam.Grant.addToPrincipalOrResource({ grantee, actions: [...a.queue], resourceArns: [r.queue.queueArn], resource: r.queue }),
    iam.Grant.addToPrincipalOrResource({ grantee, actions: [...a.claimObjects], resourceArns: [claimObjectsArn(r)], resource: r.bucket }),
    ...(r.encryptionKey ? [r.encryptionKey.grant(grantee, ...a.key)] : []),
  ]);
}

export function grantStatusRead(grantee: iam.IGrantable, r: TaskQueueResources): iam.Grant {
  const a = ACTIONS.statusRead;
  return combine([
    iam.Grant.addToPrincipal({ grantee, actions: [...a.table], resourceArns: [r.table.tableArn] }),
    ...(r.encryptionKey ? [r.encryptionKey.grant(grantee, ...a.key)] : []),
  ]);
}

export function grantRedrive(grantee: iam.IGrantable, r: TaskQueueResources): iam.Grant {
  const a = ACTIONS.redrive;
  return combine([
    iam.Grant.addToPrincipal({ grantee, actions: [...a.deadLetterQueue], resourceArns: [r.deadLetterQueue.queueArn] }),
    iam.Grant.addToPrincipal({ grantee, actions: [...a.sourceQueue], resourceArns: [r.queue.queueArn] }),
    ...(r.encryptionKey ? [r.encryptionKey.grant(grantee, ...a.key)] : []),
  ]);
}

function claimObjectsArn(r: TaskQueueResources): string {
  return r.bucket.arnForObjects(`${r.claimPrefix}*`);
}

function combine(grants: iam.Grant[]): iam.Grant {
  return grants.reduce((all, grant) => all.combine(grant));
}
