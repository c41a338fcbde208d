/**
 * cdk-nag: the AwsSolutions and Serverless packs report zero unacknowledged findings —
 * errors and warnings — for the default stack and for non-default configurations; every
 * acknowledgment is specific and carries a reason.
 */
import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { describe, expect, it } from 'vitest';
import { TaskQueueStack } from '../../lib/infra/task-queue-stack.ts';
import { TaskQueue } from '../../lib/infra/task-queue.ts';
import { DEFAULTS } from '../../lib/protocol/resources.ts';
import { testApp, testStack } from './helpers.ts';

function findings(scope: IConstruct): string[] {
  return [new AwsSolutionsChecks(), new ServerlessChecks()].flatMap((pack) =>
    pack
      .validateScope(scope)
      .violations.flatMap((v) => v.violatingResources.map((r) => `${v.severity} ${v.ruleName} at ${r.constructPath}`)),
  );
}

function acknowledgments(scope: IConstruct): { path: string; id: string; reason: string }[] {
  return scope.node.findAll().flatMap((c) =>
    c.node.metadata
      .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((m) =>
        Object.entries(m.data as Record<string, string>).map(([id, reason]) => ({ path: c.node.path, id: id.replace(/^annotation::/i, ''), reason })),
      ),
  );
}

describe('cdk-nag AwsSolutions + Serverless', () => {
  it('the default stack has zero findings', () => {
    const stack = new TaskQueueStack(testApp(), DEFAULTS.stackName);
    expect(findings(stack)).toEqual([]);
  });

  it('a task queue with schedules (plain, and FIFO with a key) has zero findings', () => {
    const stack = testStack({}, 'Scheduled');
    const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
    const schedules = [{ name: 'nightly', cron: '0 2 ? * * *', timezone: 'Europe/Berlin', task: 'report' }, { name: 'tick', rate: Duration.minutes(5), task: 'tick' }];
    const plain = new TaskQueue(stack, 'Plain', { schedules, outputs: false });
    new TaskQueue(stack, 'Fifo', { fifo: true, contentBasedDeduplication: true, encryptionKey: key, schedules, outputs: false });
    plain.grantOperate(new iam.Role(stack, 'Operator', { assumedBy: new iam.AccountRootPrincipal() }));
    expect(findings(stack)).toEqual([]);
  });

  it('a task queue with completion events (default bus; FIFO, a key, tracing and another bus) has zero findings', () => {
    const stack = testStack({}, 'Events');
    const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
    new TaskQueue(stack, 'Plain', { completionEvents: {}, outputs: false });
    const bus = new events.EventBus(stack, 'Bus');
    new TaskQueue(stack, 'Fifo', { fifo: true, encryptionKey: key, tracing: lambda.Tracing.ACTIVE, runtime: lambda.Runtime.NODEJS_24_X, completionEvents: { eventBus: bus }, outputs: false });
    expect(findings(stack)).toEqual([]);
  });

  it('a FIFO, KMS, DESTROY, Node.js 24 stack with an existing topic, access logs and no tracing has zero findings', () => {
    const stack = testStack({}, 'Custom');
    const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
    new TaskQueue(stack, 'Jobs', {
      fifo: true,
      encryptionKey: key,
      removalPolicy: RemovalPolicy.DESTROY,
      runtime: lambda.Runtime.NODEJS_24_X,
      tracing: lambda.Tracing.DISABLED,
      serverAccessLogsBucket: new s3.Bucket(stack, 'AccessLogs', { enforceSSL: true }),
      alarmTopic: sns.Topic.fromTopicArn(stack, 'OnCall', 'arn:aws:sns:eu-west-1:123456789012:oncall'),
      alarmEmail: 'oncall@example.com',
      maxConcurrency: 5,
      reservedConcurrentExecutions: 5,
    });
    expect(findings(stack)).toEqual([]);
  });

  it('a stack with active tracing, whose created topic is encrypted with the key and has an e-mail subscription, has zero findings', () => {
    const stack = testStack({}, 'KeyTopic');
    new TaskQueue(stack, 'Tasks', {
      tracing: lambda.Tracing.ACTIVE,
      encryptionKey: new kms.Key(stack, 'Key', { enableKeyRotation: true }),
      alarmEmail: 'oncall@example.com',
      maxBatchingWindow: Duration.seconds(5),
      batchSize: 100,
    });
    expect(findings(stack)).toEqual([]);
  });

  it('a stack with lanes, fan-out (the routing item custom resource), KMS and a producer/operator has zero findings', () => {
    const stack = testStack({}, 'Lanes');
    const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
    const queue = new TaskQueue(stack, 'Jobs', {
      encryptionKey: key,
      lanes: {
        critical: { types: ['password_reset'], reservedConcurrency: 10 },
        bulk: { types: ['send_receipt', 'update_analytics'], maxConcurrency: 5, batchSize: 100, maxBatchingWindow: Duration.seconds(5) },
      },
      fanOut: { order_placed: ['send_receipt', 'update_analytics'] },
    });
    queue.grantSend(new iam.Role(stack, 'Producer', { assumedBy: new iam.AccountRootPrincipal() }));
    queue.grantOperate(new iam.Role(stack, 'Operator', { assumedBy: new iam.AccountRootPrincipal() }));
    expect(findings(stack)).toEqual([]);
  });
});

describe('acknowledgments', () => {
  it('each names one finding and gives a specific reason', () => {
    const stack = new TaskQueueStack(testApp(), DEFAULTS.stackName);
    const acks = acknowledgments(stack);
    expect(acks.length).toBeGreaterThan(0);
    for (const ack of acks) {
      expect(ack.reason.length, `${ack.id} at ${ack.path}`).toBeGreaterThan(60);
      if (/IAM5/.test(ack.id)) expect(ack.id, 'IAM5 must name the exact finding').toMatch(/IAM5\[(Resource|Action)::.+\]$/);
      // On one resource of the task queue, never on the stack or the app.
      expect(ack.path.startsWith(`${DEFAULTS.stackName}/Tasks/`), ack.path).toBe(true);
    }
  });

  it('a producer role given grantSend has zero findings (the claim-prefix wildcard is acknowledged for that bucket and prefix only)', () => {
    const stack = testStack({}, 'Producers');
    const tq = new TaskQueue(stack, 'Tasks');
    const producer = new iam.Role(stack, 'Producer', { assumedBy: new iam.AccountRootPrincipal() });
    tq.grantSend(producer);
    expect(findings(stack)).toEqual([]);
    producer.addToPolicy(new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: [tq.bucket.arnForObjects('other/*')] }));
    expect(findings(stack)).toEqual([expect.stringMatching(/^error AwsSolutions-IAM5\[Resource::<TasksClaimBucket[A-F0-9]+\.Arn>\/other\/\*\] at Producers\/Producer\/DefaultPolicy\/Resource$/)]);
  });

  it('are narrow: a new wildcard grant on the consumer role is still reported', () => {
    const stack = testStack({}, 'Widened');
    const tq = new TaskQueue(stack, 'Tasks');
    tq.consumer.addToRolePolicy(new iam.PolicyStatement({ actions: ['s3:*'], resources: [tq.bucket.arnForObjects('*')] }));
    const reported = findings(stack);
    expect(reported.some((f) => f.includes('AwsSolutions-IAM5[Action::s3:*]'))).toBe(true);
    expect(reported.some((f) => /AwsSolutions-IAM5\[Resource::<TasksClaimBucket[A-F0-9]+\.Arn>\/\*\]/.test(f))).toBe(true);
  });

  it('operator roles given grantOperate and grantOperatorRead have zero findings (GetMetricData\'s "*" acknowledged on its own inline policy)', () => {
    const stack = testStack({}, 'Operators');
    const tq = new TaskQueue(stack, 'Tasks', { encryptionKey: new kms.Key(stack, 'Key', { enableKeyRotation: true }) });
    tq.grantOperate(new iam.Role(stack, 'Operator', { assumedBy: new iam.AccountRootPrincipal() }));
    tq.grantOperatorRead(new iam.Role(stack, 'Reader', { assumedBy: new iam.AccountRootPrincipal() }));
    expect(findings(stack)).toEqual([]);
    const acks = acknowledgments(stack).filter((a) => a.path.startsWith('Operators/Operator') || a.path.startsWith('Operators/Reader'));
    expect(acks.map((a) => `${a.path} ${a.id.replace(/TasksClaimBucket[A-F0-9]+/, 'TasksClaimBucket')}`).sort()).toEqual([
      'Operators/Operator AwsSolutions-IAM5[Resource::<TasksClaimBucket.Arn>/claims/*]',
      'Operators/Operator AwsSolutions-IAM5[Resource::<TasksClaimBucket.Arn>/results/*]',
      'Operators/Operator/TaskQueueOperatorMetricData AwsSolutions-IAM5[Resource::*]',
      'Operators/Reader AwsSolutions-IAM5[Resource::<TasksClaimBucket.Arn>/results/*]',
      'Operators/Reader/TaskQueueOperatorMetricData AwsSolutions-IAM5[Resource::*]',
    ]);
  });

  it('are narrow: a wildcard resource added to an operator role\'s own policy is still reported', () => {
    const stack = testStack({}, 'WidenedOperator');
    const tq = new TaskQueue(stack, 'Tasks');
    const operator = new iam.Role(stack, 'Operator', { assumedBy: new iam.AccountRootPrincipal() });
    tq.grantOperate(operator);
    operator.addToPolicy(new iam.PolicyStatement({ actions: ['sqs:ListQueues'], resources: ['*'] }));
    expect(findings(stack)).toEqual(['error AwsSolutions-IAM5[Resource::*] at WidenedOperator/Operator/DefaultPolicy/Resource']);
  });

  it('are conditional: without the reason for them, nothing is acknowledged (access logs given → no S1 acknowledgment)', () => {
    const stack = testStack({}, 'WithLogs');
    new TaskQueue(stack, 'Tasks', { serverAccessLogsBucket: new s3.Bucket(Stack.of(stack), 'Logs', { enforceSSL: true }) });
    expect(acknowledgments(stack).map((a) => a.id)).not.toContain('AwsSolutions-S1');
    const withoutLogs = testStack({}, 'WithoutLogs');
    new TaskQueue(withoutLogs, 'Tasks');
    expect(acknowledgments(withoutLogs).map((a) => a.id)).toContain('AwsSolutions-S1');
  });
});
