/**
 * The source queue and its dead-letter queue.
 *
 * The DLQ's redrive-allow policy must name the source queue, and the source queue's redrive
 * policy names the DLQ: referencing each other's resources would be a circular dependency
 * in CloudFormation. The cycle is broken by giving the source queue a name known at synth
 * time (the user's, or a deterministic one derived from the construct path) and building
 * its ARN from that name.
 */
import { ArnFormat, Names, Stack } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { SQS_MAX_MESSAGE_BYTES } from '../protocol/limits.ts';
import type { ResolvedTaskQueueConfig } from './validation.ts';

export interface TaskQueues {
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;
}

export function createQueues(scope: Construct, config: ResolvedTaskQueueConfig, encryptionKey?: kms.IKey): TaskQueues {
  const stack = Stack.of(scope);
  const sourceQueueName = config.queueName ?? defaultQueueName(scope, config.fifo);
  const sourceQueueArn = stack.formatArn({
    service: 'sqs',
    resource: sourceQueueName,
    arnFormat: ArnFormat.NO_RESOURCE_NAME,
  });

  const encryption = encryptionKey
    ? { encryption: sqs.QueueEncryption.KMS, encryptionMasterKey: encryptionKey }
    : { encryption: sqs.QueueEncryption.SQS_MANAGED };
  const fifo = config.fifo ? { fifo: true } : {};

  const deadLetterQueue = new sqs.Queue(scope, 'DeadLetterQueue', {
    ...(config.deadLetterQueueName !== undefined ? { queueName: config.deadLetterQueueName } : {}),
    ...fifo,
    ...encryption,
    enforceSSL: true,
    // Explicit, not CloudFormation's default: the producer's claim-check threshold and the
    // consumer's dead-letter headroom are computed against this size.
    maxMessageSizeBytes: SQS_MAX_MESSAGE_BYTES,
    retentionPeriod: config.deadLetterRetentionPeriod,
    // Dead letters wait here up to 14 days for a human: RETAIN keeps them when the stack goes.
    removalPolicy: config.removalPolicy,
    redriveAllowPolicy: {
      redrivePermission: sqs.RedrivePermission.BY_QUEUE,
      sourceQueues: [sqs.Queue.fromQueueAttributes(scope, 'SourceQueueRef', { queueArn: sourceQueueArn, queueName: sourceQueueName })],
    },
  });

  const queue = new sqs.Queue(scope, 'Queue', {
    queueName: sourceQueueName,
    ...fifo,
    ...(config.fifo && config.contentBasedDeduplication ? { contentBasedDeduplication: true } : {}),
    ...encryption,
    enforceSSL: true,
    maxMessageSizeBytes: SQS_MAX_MESSAGE_BYTES,
    retentionPeriod: config.retentionPeriod,
    visibilityTimeout: config.visibilityTimeout,
    deadLetterQueue: { queue: deadLetterQueue, maxReceiveCount: config.maxReceiveCount },
    // Accepted tasks not yet run are data too. Retained, the queue keeps its name: deploying
    // the same stack again fails with "already exists" until it is drained and deleted — on
    // purpose, a human decides what happens to those tasks (docs/ARCHITECTURE.md, Removal).
    removalPolicy: config.removalPolicy,
  });

  return { queue, deadLetterQueue };
}

/** `<path-derived name>-<hash>` (+ `.fifo`), ≤ 80 characters, stable across deployments. */
function defaultQueueName(scope: Construct, fifo: boolean): string {
  const suffix = `-tasks${fifo ? '.fifo' : ''}`;
  const name = Names.uniqueResourceName(scope, { maxLength: 80 - suffix.length, separator: '-' });
  return `${name}${suffix}`;
}
