import { describe, expect, it, vi } from 'vitest';
import { resolveTarget, resourcesFromOutputs } from '../../../lib/ops/resolve-target.ts';
import type { LocalState } from '../../../lib/local/state.ts';

const outputs = {
  QueueUrl: 'https://sqs/q',
  QueueArn: 'arn:q',
  DeadLetterQueueUrl: 'https://sqs/dlq',
  DeadLetterQueueArn: 'arn:dlq',
  TableName: 'tasks',
  BucketName: 'claims',
  ClaimPrefix: 'claims/',
};

const state: LocalState = {
  pid: 1,
  startedAt: '2026-01-01T00:00:00.000Z',
  region: 'us-east-1',
  sqsEndpoint: 'http://127.0.0.1:4566',
  s3Endpoint: 'http://127.0.0.1:4566',
  dynamoEndpoint: 'http://127.0.0.1:8000',
  dynamoEngine: 'dynamodb-local',
  stackName: 'TaskQueueStack',
  outputs,
};

describe('resolveTarget', () => {
  it('--local: endpoints, credentials and resources from the state file; flags still win', async () => {
    const target = await resolveTarget({ local: true, table: 'other' }, ['queueUrl', 'tableName'], { readLocalState: async () => state });
    expect(target).toMatchObject({
      mode: 'local',
      region: 'us-east-1',
      endpoints: { sqs: 'http://127.0.0.1:4566', dynamodb: 'http://127.0.0.1:8000' },
      credentials: { accessKeyId: 'local' },
      resources: { queueUrl: 'https://sqs/q', tableName: 'other', deadLetterQueueArn: 'arn:dlq' },
    });
  });

  it('--local with nothing running says how to start it', async () => {
    await expect(resolveTarget({ local: true }, [], { readLocalState: async () => undefined })).rejects.toMatchObject({
      code: 'NO_LOCAL_SYSTEM',
      exitCode: 2,
      message: expect.stringContaining('no local system running — start it with taskq local'),
    });
  });

  it('AWS: reads the stack outputs of --stack (default TaskQueueStack) only when a flag is missing', async () => {
    const source = vi.fn(async () => outputs);
    const fromStack = await resolveTarget({ region: 'eu-west-1' }, ['queueUrl', 'deadLetterQueueUrl'], { stackOutputs: source, env: {} });
    expect(source).toHaveBeenCalledWith('TaskQueueStack', expect.objectContaining({ region: 'eu-west-1' }));
    expect(fromStack).toMatchObject({ mode: 'aws', stackName: 'TaskQueueStack', resources: { queueUrl: 'https://sqs/q', deadLetterQueueUrl: 'https://sqs/dlq' } });

    source.mockClear();
    const fromFlags = await resolveTarget({ queueUrl: 'https://x/q', dlqUrl: 'https://x/d' }, ['queueUrl', 'deadLetterQueueUrl'], { stackOutputs: source, env: {} });
    expect(source).not.toHaveBeenCalled();
    expect(fromFlags.resources).toEqual({ queueUrl: 'https://x/q', deadLetterQueueUrl: 'https://x/d' });

    await resolveTarget({ stack: 'Prod', dlqUrl: 'https://x/d' }, ['queueUrl', 'deadLetterQueueUrl'], { stackOutputs: source, env: {} });
    expect(source).toHaveBeenCalledWith('Prod', expect.anything());
  });

  it('honours --endpoint, else AWS_ENDPOINT_URL, and AWS_REGION', async () => {
    const env = { AWS_ENDPOINT_URL: 'http://localhost:4566', AWS_REGION: 'ap-south-1' };
    const t = await resolveTarget({ queueUrl: 'q' }, ['queueUrl'], { env });
    expect(t).toMatchObject({ region: 'ap-south-1', endpoints: { sqs: 'http://localhost:4566', dynamodb: 'http://localhost:4566', other: 'http://localhost:4566' } });
    const u = await resolveTarget({ queueUrl: 'q', endpoint: 'http://e:1', region: 'us-west-2' }, ['queueUrl'], { env });
    expect(u).toMatchObject({ region: 'us-west-2', endpoints: { sqs: 'http://e:1' } });
  });

  it('a stack without the needed output names the flag to pass', async () => {
    await expect(resolveTarget({}, ['tableName'], { stackOutputs: async () => ({ QueueUrl: 'q' }), env: {} })).rejects.toMatchObject({
      code: 'MISSING_RESOURCE',
      message: expect.stringContaining('--table'),
    });
  });

  it('a missing stack propagates the source\'s not-found error', async () => {
    const notFound = Object.assign(new Error('Stack with id TaskQueueStack does not exist'), { name: 'ValidationError' });
    const { toOpsError } = await import('../../../lib/ops/errors.ts');
    await expect(
      resolveTarget({}, ['queueUrl'], {
        env: {},
        stackOutputs: async () => {
          throw toOpsError(notFound, { region: 'us-east-1' });
        },
      }),
    ).rejects.toMatchObject({ code: 'STACK_NOT_FOUND', exitCode: 2, message: expect.stringContaining('npx cdk deploy') });
  });

  it('maps every STACK_OUTPUTS key', () => {
    expect(resourcesFromOutputs(outputs)).toEqual({
      queueUrl: 'https://sqs/q',
      queueArn: 'arn:q',
      deadLetterQueueUrl: 'https://sqs/dlq',
      deadLetterQueueArn: 'arn:dlq',
      tableName: 'tasks',
      bucketName: 'claims',
      claimPrefix: 'claims/',
    });
  });
});
