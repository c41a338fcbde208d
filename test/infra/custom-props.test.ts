/**
 * A second stack with every non-default choice: FIFO, a customer-managed KMS key, an
 * existing alarm topic with an e-mail subscription, custom thresholds, DESTROY, Node.js 24,
 * reserved and maximum concurrency, names, access logs.
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import { beforeAll, describe, expect, it } from 'vitest';
import { TaskQueue } from '../../lib/infra/task-queue.ts';
import { ENV } from '../../lib/protocol/resources.ts';
import { logicalId, resource, str, testStack, type Json } from './helpers.ts';

const TOPIC_ARN = 'arn:aws:sns:eu-west-1:123456789012:oncall';
const DAY = 86_400;

let template: Template;
let ids: Record<'queue' | 'dlq' | 'table' | 'bucket' | 'fn' | 'key' | 'logs', string>;

beforeAll(() => {
  const stack = testStack({}, 'CustomStack');
  const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
  const accessLogs = new s3.Bucket(stack, 'AccessLogs');
  new TaskQueue(stack, 'Jobs', {
    fifo: true,
    contentBasedDeduplication: true,
    queueName: 'jobs',
    deadLetterQueueName: 'jobs-dlq',
    encryptionKey: key,
    retentionPeriod: Duration.days(2),
    deadLetterRetentionPeriod: Duration.days(10),
    maxReceiveCount: 8,
    timeout: Duration.seconds(60),
    visibilityTimeout: Duration.minutes(10),
    removalPolicy: RemovalPolicy.DESTROY,
    tableName: 'jobs-table',
    claimPrefix: 'payloads/',
    claimObjectExpiration: Duration.days(30),
    abortIncompleteMultipartUploadAfter: Duration.days(2),
    serverAccessLogsBucket: accessLogs,
    runtime: lambda.Runtime.NODEJS_24_X,
    memorySize: 1024,
    logRetention: logs.RetentionDays.THREE_MONTHS,
    sourceMap: true,
    tracing: lambda.Tracing.DISABLED,
    reservedConcurrentExecutions: 20,
    consumerEnvironment: { STRIPE_MODE: 'test' },
    batchSize: 5,
    maxConcurrency: 10,
    metricsNamespace: 'Jobs/Prod',
    alarmTopic: sns.Topic.fromTopicArn(stack, 'OnCall', TOPIC_ARN),
    alarmEmail: 'oncall@example.com',
    alarmNamePrefix: 'jobs',
    dashboardName: 'jobs-dashboard',
    alarmOptions: {
      queueDepth: { threshold: 50, period: Duration.minutes(1), evaluationPeriods: 2 },
      oldestMessageAge: { threshold: Duration.minutes(2), period: Duration.minutes(2), evaluationPeriods: 3 },
      deadLetterQueueNotEmpty: { period: Duration.minutes(5), evaluationPeriods: 2 },
      consumerErrors: { threshold: 1, period: Duration.minutes(1), evaluationPeriods: 4 },
      consumerThrottles: { threshold: 7, period: Duration.minutes(10), evaluationPeriods: 1 },
      noConsumers: { period: Duration.minutes(10), evaluationPeriods: 6 },
    },
  });
  template = Template.fromStack(stack);
  ids = {
    queue: logicalId(template, 'AWS::SQS::Queue', 'JobsQueue'),
    dlq: logicalId(template, 'AWS::SQS::Queue', 'JobsDeadLetterQueue'),
    table: logicalId(template, 'AWS::DynamoDB::Table'),
    bucket: logicalId(template, 'AWS::S3::Bucket', 'JobsClaimBucket'),
    fn: logicalId(template, 'AWS::Lambda::Function', 'JobsConsumer'),
    key: logicalId(template, 'AWS::KMS::Key'),
    logs: logicalId(template, 'AWS::Logs::LogGroup'),
  };
});

const keyArn = () => ({ 'Fn::GetAtt': [ids.key, 'Arn'] });

describe('FIFO queues with a KMS key', () => {
  it('both queues are FIFO with .fifo names, KMS-encrypted with the key', () => {
    const q = resource(template, ids.queue).Properties;
    const d = resource(template, ids.dlq).Properties;
    expect(q).toMatchObject({ FifoQueue: true, QueueName: 'jobs.fifo', ContentBasedDeduplication: true, KmsMasterKeyId: keyArn() });
    expect(d).toMatchObject({ FifoQueue: true, QueueName: 'jobs-dlq.fifo', KmsMasterKeyId: keyArn() });
    expect(q.SqsManagedSseEnabled).toBeUndefined();
  });

  it('uses the given retention, visibility and maxReceiveCount', () => {
    const q = resource(template, ids.queue).Properties;
    expect(q.MessageRetentionPeriod).toBe(2 * DAY);
    expect(q.VisibilityTimeout).toBe(600);
    expect(q.RedrivePolicy.maxReceiveCount).toBe(8);
    expect(resource(template, ids.dlq).Properties.MessageRetentionPeriod).toBe(10 * DAY);
  });

  it('the DLQ allows redrive from the given source name only', () => {
    const policy = resource(template, ids.dlq).Properties.RedriveAllowPolicy;
    expect(policy.redrivePermission).toBe('byQueue');
    expect(policy.sourceQueueArns.map(str)).toEqual([`arn:\${AWS::Partition}:sqs:\${AWS::Region}:\${AWS::AccountId}:jobs.fifo`]);
  });
});

describe('storage with a KMS key and DESTROY', () => {
  it('every resource is deleted with the stack: both queues (and their messages) too', () => {
    for (const [id, r] of Object.entries(template.toJSON().Resources as Record<string, Json>)) {
      if (!id.startsWith('Jobs')) continue; // the user's key and access-log bucket, not the construct's
      expect(r.DeletionPolicy ?? 'Delete', `${id} (${r.Type})`).toBe('Delete');
    }
    expect(resource(template, ids.queue).DeletionPolicy).toBe('Delete');
    expect(resource(template, ids.dlq).DeletionPolicy).toBe('Delete');
  });

  it('the table uses the key and is deleted with the stack, without deletion protection', () => {
    const t = resource(template, ids.table);
    expect(t.Properties.SSESpecification).toEqual({ SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: keyArn() });
    expect(t.Properties.TableName).toBe('jobs-table');
    expect(t.DeletionPolicy).toBe('Delete');
    expect(t.Properties.DeletionProtectionEnabled).toBe(false);
  });

  it('the bucket uses SSE-KMS with a bucket key, is emptied and deleted with the stack', () => {
    const b = resource(template, ids.bucket);
    expect(b.Properties.BucketEncryption.ServerSideEncryptionConfiguration).toEqual([
      { BucketKeyEnabled: true, ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: keyArn() } },
    ]);
    expect(b.DeletionPolicy).toBe('Delete');
    template.resourceCountIs('Custom::S3AutoDeleteObjects', 1);
  });

  it('claim objects under the custom prefix expire after the given days; multipart after 2 days', () => {
    const rules = resource(template, ids.bucket).Properties.LifecycleConfiguration.Rules as Json[];
    expect(rules).toContainEqual({ Id: 'expire-claim-objects', Prefix: 'payloads/', ExpirationInDays: 30, Status: 'Enabled' });
    expect(rules).toContainEqual(expect.objectContaining({ AbortIncompleteMultipartUpload: { DaysAfterInitiation: 2 } }));
  });

  it('server access logs go to the given bucket under the default prefix', () => {
    expect(resource(template, ids.bucket).Properties.LoggingConfiguration).toEqual({
      DestinationBucketName: { Ref: logicalId(template, 'AWS::S3::Bucket', 'AccessLogs') },
      LogFilePrefix: 'claim-bucket-logs/',
    });
  });
});

describe('consumer with custom settings', () => {
  it('runs Node.js 24 with 1 GB, 60 s, reserved concurrency 20, no tracing', () => {
    const f = resource(template, ids.fn).Properties;
    expect(f).toMatchObject({ Runtime: 'nodejs24.x', MemorySize: 1024, Timeout: 60, ReservedConcurrentExecutions: 20 });
    expect(f.TracingConfig).toBeUndefined();
    expect(resource(template, ids.logs).Properties.RetentionInDays).toBe(90);
  });

  it('environment: FIFO flag, custom prefix/namespace, TTL of 2 + 10 + 1 days, maxReceiveCount, user variables, source maps', () => {
    const vars = resource(template, ids.fn).Properties.Environment.Variables;
    expect(vars).toMatchObject({
      [ENV.fifo]: 'true',
      [ENV.claimPrefix]: 'payloads/',
      [ENV.metricsNamespace]: 'Jobs/Prod',
      [ENV.recordTtlSeconds]: String(13 * DAY),
      [ENV.visibilityTimeoutSeconds]: '600',
      [ENV.maxReceiveCount]: '8',
      STRIPE_MODE: 'test',
      NODE_OPTIONS: '--enable-source-maps',
    });
  });

  it('event source: batch 5, maximum concurrency 10, partial batch responses', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      BatchSize: 5,
      ScalingConfig: { MaximumConcurrency: 10 },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
  });

  it('claim-object reads and deletes follow the custom prefix', () => {
    const policy = Object.values(template.findResources('AWS::IAM::Policy')).find((p: Json) =>
      JSON.stringify(p.Properties.Roles).includes('JobsConsumerRole'),
    ) as Json;
    const get = (policy.Properties.PolicyDocument.Statement as Json[]).find((s) => [s.Action].flat().includes('s3:GetObject'));
    expect([get.Action].flat().sort()).toEqual(['s3:DeleteObject', 's3:GetObject']);
    expect(str(get.Resource)).toBe(`\${${ids.bucket}.Arn}/payloads/*`);
  });
});

describe('alarms to an existing topic', () => {
  const alarm = (name: string): Json =>
    Object.values(template.findResources('AWS::CloudWatch::Alarm')).find((a: Json) => a.Properties.AlarmName === name);
  const periodOf = (p: Json) => p.Period ?? p.Metrics.find((m: Json) => m.ReturnData !== false).MetricStat?.Period ?? p.Metrics.find((m: Json) => m.MetricStat).MetricStat.Period;

  it('no topic is created; every alarm sends ALARM and OK to the given topic', () => {
    template.resourceCountIs('AWS::SNS::Topic', 0);
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')) as Json[];
    expect(alarms).toHaveLength(7);
    for (const a of alarms) {
      expect(a.Properties.AlarmActions).toEqual([TOPIC_ARN]);
      expect(a.Properties.OKActions).toEqual([TOPIC_ARN]);
    }
  });

  it('the e-mail address is subscribed to the given topic', () => {
    template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'oncall@example.com', TopicArn: TOPIC_ARN });
  });

  it.each([
    ['jobs-QueueDepth', 50, 60, 2],
    ['jobs-OldestMessageAge', 120, 120, 3],
    ['jobs-DeadLetterQueueNotEmpty', 1, 300, 2],
    ['jobs-ConsumerErrors', 1, 60, 4],
    ['jobs-ConsumerThrottles', 7, 600, 1],
    ['jobs-NoConsumers', 1, 600, 6],
  ])('%s: threshold %d, period %d s, %d evaluation periods', (name, threshold, period, evaluationPeriods) => {
    const p = alarm(name).Properties;
    expect(p.Threshold).toBe(threshold);
    expect(p.EvaluationPeriods).toBe(evaluationPeriods);
    expect(periodOf(p)).toBe(period);
  });

  it('the dashboard has the given name and searches the custom namespace', () => {
    const d = Object.values(template.findResources('AWS::CloudWatch::Dashboard'))[0] as Json;
    expect(d.Properties.DashboardName).toBe('jobs-dashboard');
    const body = str(d.Properties.DashboardBody);
    expect(body).toContain('["Jobs/Prod","TasksProcessed",{');
    expect(body).toContain('SEARCH(\'{\\"Jobs/Prod\\",TaskType} MetricName=\\"TasksProcessed\\"\'');
  });
});
