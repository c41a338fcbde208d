/**
 * The task table (idempotency + status, one item per idempotency key) and the claim-check
 * bucket (payloads too large for a message).
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import { DEFAULTS, RECENT_TASKS_INDEX, TABLE_SCHEMA } from '../protocol/resources.ts';
import { DEFAULT_RECORD_TTL_SECONDS } from '../protocol/task-record.ts';

/** Stored results expire with the task records' default TTL (30 days). */
const RESULT_OBJECT_EXPIRATION_DAYS = DEFAULT_RECORD_TTL_SECONDS / 86_400;
import { TASK_QUEUE_DEFAULTS, type TaskQueueProps } from './props.ts';
import type { ResolvedTaskQueueConfig } from './validation.ts';

export function createTaskTable(scope: Construct, config: ResolvedTaskQueueConfig, props: TaskQueueProps): dynamodb.Table {
  const retain = config.removalPolicy === RemovalPolicy.RETAIN;
  const table = new dynamodb.Table(scope, 'TaskTable', {
    ...(props.tableName !== undefined ? { tableName: props.tableName } : {}),
    partitionKey: { name: TABLE_SCHEMA.partitionKey, type: dynamodb.AttributeType.STRING },
    // On demand: task traffic is bursty; no capacity planning, no throttling at a spike.
    billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
    timeToLiveAttribute: TABLE_SCHEMA.ttlAttribute,
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
    ...(props.encryptionKey
      ? { encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED, encryptionKey: props.encryptionKey }
      : { encryption: dynamodb.TableEncryption.DEFAULT }),
    removalPolicy: config.removalPolicy,
    // A retained table is production data: also refuse a stray DeleteTable call.
    deletionProtection: retain,
    // Completion events read every write's old and new image (a transition is published once).
    ...(props.completionEvents ? { stream: dynamodb.StreamViewType.NEW_AND_OLD_IMAGES } : {}),
  });
  if (props.recentTasksIndex) addRecentTasksIndex(table);
  return table;
}

/** The opt-in index `taskq console` lists recent tasks from (see TaskQueueProps.recentTasksIndex). */
function addRecentTasksIndex(table: dynamodb.Table): void {
  const i = RECENT_TASKS_INDEX;
  table.addGlobalSecondaryIndex({
    indexName: i.indexName,
    partitionKey: { name: i.partitionKey, type: dynamodb.AttributeType.STRING },
    sortKey: { name: i.sortKey, type: dynamodb.AttributeType.STRING },
    // Only what a listing shows: a smaller index item costs fewer write units.
    projectionType: dynamodb.ProjectionType.INCLUDE,
    nonKeyAttributes: [...i.projectedAttributes],
  });
}

export function createClaimBucket(scope: Construct, config: ResolvedTaskQueueConfig, props: TaskQueueProps, key?: kms.IKey): s3.Bucket {
  const destroy = config.removalPolicy === RemovalPolicy.DESTROY;
  return new s3.Bucket(scope, 'ClaimBucket', {
    ...(props.bucketName !== undefined ? { bucketName: props.bucketName } : {}),
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
    enforceSSL: true,
    minimumTLSVersion: 1.2,
    ...(key
      ? { encryption: s3.BucketEncryption.KMS, encryptionKey: key, bucketKeyEnabled: true }
      : { encryption: s3.BucketEncryption.S3_MANAGED }),
    // Versioning off: claim objects are written once under a unique key and never
    // overwritten; versions would only keep expired payloads alive (and billed) longer.
    versioned: false,
    lifecycleRules: [
      {
        id: 'expire-claim-objects',
        prefix: config.claimPrefix,
        expiration: Duration.days(config.claimObjectExpirationDays),
      },
      {
        // Results too large for the task record live as long as the record (its TTL, 30 days by default).
        id: 'expire-result-objects',
        prefix: DEFAULTS.resultPrefix,
        expiration: Duration.days(RESULT_OBJECT_EXPIRATION_DAYS),
      },
      {
        id: 'abort-incomplete-multipart-uploads',
        abortIncompleteMultipartUploadAfter: Duration.days(config.abortIncompleteMultipartUploadAfterDays),
      },
    ],
    ...(props.serverAccessLogsBucket
      ? {
          serverAccessLogsBucket: props.serverAccessLogsBucket,
          serverAccessLogsPrefix: props.serverAccessLogsPrefix ?? TASK_QUEUE_DEFAULTS.serverAccessLogsPrefix,
        }
      : {}),
    removalPolicy: config.removalPolicy,
    autoDeleteObjects: destroy,
  });
}
