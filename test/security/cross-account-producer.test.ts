/**
 * A producer in another account cannot be given rights by an identity policy written here:
 * grantSend must put the statements on the queue's and the bucket's resource policies.
 */
import * as iam from 'aws-cdk-lib/aws-iam';
import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { TaskQueue } from '../../lib/infra/task-queue.ts';
import { allAllowStatements, testApp } from '../infra/helpers.ts';

const OTHER_ACCOUNT = '222222222222';

function principalIsOtherAccount(raw: Record<string, unknown>): boolean {
  return JSON.stringify(raw.Principal ?? '').includes(OTHER_ACCOUNT);
}

describe('grantSend to a principal of another account', () => {
  const stack = new Stack(testApp(), 'CrossAccount', { env: { account: '111111111111', region: 'us-east-1' } });
  const tq = new TaskQueue(stack, 'Tasks');
  const grant = tq.grantSend(new iam.AccountPrincipal(OTHER_ACCOUNT));
  const template = Template.fromStack(stack);
  const theirs = allAllowStatements(template).filter((s) => principalIsOtherAccount(s.raw));

  it('succeeds', () => {
    expect(grant.success).toBe(true);
  });

  it('allows sqs:SendMessage through the queue policy', () => {
    const queuePolicies = Object.values(template.findResources('AWS::SQS::QueuePolicy'));
    const statements = queuePolicies.flatMap((p) => p.Properties.PolicyDocument.Statement as Record<string, unknown>[]);
    const granted = statements.filter((s) => s.Effect === 'Allow' && principalIsOtherAccount(s)).flatMap((s) => [s.Action].flat());
    expect(granted).toContain('sqs:SendMessage');
  });

  it('allows s3:PutObject under the claim prefix only, through the bucket policy', () => {
    const put = theirs.filter((s) => s.actions.includes('s3:PutObject'));
    expect(put).toHaveLength(1);
    expect(put[0]!.resources.every((r) => r.endsWith('/claims/*'))).toBe(true);
  });

  it('gives it nothing on the task table', () => {
    expect(theirs.flatMap((s) => s.actions).filter((a) => a.startsWith('dynamodb:'))).toEqual([]);
  });
});
