/**
 * `--lane <name>`: the CLI's stats and dlq commands work on a named lane's queue, DLQ and
 * consumer (its `<Lane>Lane…` outputs), keeping the stack's shared table and bucket; an
 * unknown lane is an error listing the stack's lanes.
 */
import { describe, expect, it } from 'vitest';
import { resolveTarget } from '../../../lib/ops/resolve-target.ts';

const outputs = {
  QueueUrl: 'https://sqs/default',
  QueueArn: 'arn:default',
  DeadLetterQueueUrl: 'https://sqs/default-dlq',
  DeadLetterQueueArn: 'arn:default-dlq',
  ConsumerFunctionName: 'consumer-default',
  TableName: 'tasks',
  BucketName: 'claims',
  BulkLaneQueueUrl: 'https://sqs/bulk',
  BulkLaneQueueArn: 'arn:bulk',
  BulkLaneDeadLetterQueueUrl: 'https://sqs/bulk-dlq',
  BulkLaneDeadLetterQueueArn: 'arn:bulk-dlq',
  BulkLaneConsumerFunctionName: 'consumer-bulk',
  CriticalPathLaneQueueUrl: 'https://sqs/critical',
};

describe('--lane', () => {
  it('a named lane: its queue, DLQ and consumer; the shared table and bucket', async () => {
    const target = await resolveTarget({ lane: 'bulk' }, ['queueUrl', 'deadLetterQueueUrl'], { stackOutputs: async () => outputs, env: {} });
    expect(target.resources).toEqual({
      queueUrl: 'https://sqs/bulk',
      queueArn: 'arn:bulk',
      deadLetterQueueUrl: 'https://sqs/bulk-dlq',
      deadLetterQueueArn: 'arn:bulk-dlq',
      consumerFunctionName: 'consumer-bulk',
      tableName: 'tasks',
      bucketName: 'claims',
    });
  });

  it('a hyphenated lane name maps to its PascalCase outputs; a lane without a DLQ output does not inherit the default DLQ', async () => {
    const target = await resolveTarget({ lane: 'critical-path' }, ['queueUrl'], { stackOutputs: async () => outputs, env: {} });
    expect(target.resources.queueUrl).toBe('https://sqs/critical');
    expect(target.resources.deadLetterQueueUrl).toBeUndefined();
    await expect(resolveTarget({ lane: 'critical-path' }, ['deadLetterQueueUrl'], { stackOutputs: async () => outputs, env: {} })).rejects.toMatchObject({ code: 'MISSING_RESOURCE' });
  });

  it('--lane default is the default lane', async () => {
    const target = await resolveTarget({ lane: 'default' }, ['queueUrl'], { stackOutputs: async () => outputs, env: {} });
    expect(target.resources.queueUrl).toBe('https://sqs/default');
  });

  it('an unknown lane names the stack and lists its lanes; a malformed name is a usage error', async () => {
    await expect(resolveTarget({ lane: 'bluk' }, ['queueUrl'], { stackOutputs: async () => outputs, env: {} })).rejects.toMatchObject({
      code: 'MISSING_RESOURCE',
      message: expect.stringMatching(/stack TaskQueueStack name no lane "bluk" \(no output BlukLaneQueueUrl\); its lanes: Bulk, CriticalPath/),
    });
    await expect(resolveTarget({ lane: 'Bulk' }, ['queueUrl'], { stackOutputs: async () => outputs, env: {} })).rejects.toMatchObject({ code: 'USAGE' });
  });

  it('--local with --lane reads the lane outputs of the local state', async () => {
    const state = { pid: 1, startedAt: '', region: 'us-east-1', sqsEndpoint: 'http://x', s3Endpoint: 'http://x', dynamoEndpoint: 'http://y', dynamoEngine: 'dynamodb-local', stackName: 'S', outputs };
    const target = await resolveTarget({ local: true, lane: 'bulk' }, ['deadLetterQueueUrl'], { readLocalState: async () => state });
    expect(target.resources.deadLetterQueueUrl).toBe('https://sqs/bulk-dlq');
  });
});
