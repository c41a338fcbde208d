/**
 * The TaskQueue construct with default props: every resource property the design promises,
 * asserted on the synthesized template.
 */
import { Duration } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { TaskQueue } from '../../lib/infra/task-queue.ts';
import { DEFAULTS, ENV, STACK_OUTPUTS, TABLE_SCHEMA } from '../../lib/protocol/resources.ts';
import { logicalId, resource, str, testStack, type Json } from './helpers.ts';

const DAY = 86_400;

let template: Template;
let taskQueue: TaskQueue;
let ids: Record<'queue' | 'dlq' | 'table' | 'bucket' | 'fn' | 'role' | 'topic' | 'logs' | 'dashboard', string>;

beforeAll(() => {
  const stack = testStack();
  taskQueue = new TaskQueue(stack, 'Tasks');
  template = Template.fromStack(stack);
  ids = {
    queue: logicalId(template, 'AWS::SQS::Queue', 'TasksQueue'),
    dlq: logicalId(template, 'AWS::SQS::Queue', 'TasksDeadLetterQueue'),
    table: logicalId(template, 'AWS::DynamoDB::Table'),
    bucket: logicalId(template, 'AWS::S3::Bucket'),
    fn: logicalId(template, 'AWS::Lambda::Function'),
    role: logicalId(template, 'AWS::IAM::Role'),
    topic: logicalId(template, 'AWS::SNS::Topic'),
    logs: logicalId(template, 'AWS::Logs::LogGroup'),
    dashboard: logicalId(template, 'AWS::CloudWatch::Dashboard'),
  };
});

const arnOf = (id: string) => ({ 'Fn::GetAtt': [id, 'Arn'] });

describe('source queue', () => {
  it('is encrypted with SQS-managed keys and not FIFO', () => {
    const q = resource(template, ids.queue).Properties;
    expect(q.SqsManagedSseEnabled).toBe(true);
    expect(q.KmsMasterKeyId).toBeUndefined();
    expect(q.FifoQueue).toBeUndefined();
  });

  it('keeps messages 4 days and hides them 6 × timeout (30 s) = 180 s', () => {
    const q = resource(template, ids.queue).Properties;
    expect(q.MessageRetentionPeriod).toBe(4 * DAY);
    expect(q.VisibilityTimeout).toBe(180);
  });

  it('accepts messages up to 1 MiB on both queues (set explicitly: the claim-check threshold depends on it)', () => {
    expect(resource(template, ids.queue).Properties.MaximumMessageSize).toBe(1_048_576);
    expect(resource(template, ids.dlq).Properties.MaximumMessageSize).toBe(1_048_576);
  });

  it('redrives to the DLQ after 5 receives', () => {
    expect(resource(template, ids.queue).Properties.RedrivePolicy).toEqual({
      deadLetterTargetArn: arnOf(ids.dlq),
      maxReceiveCount: 5,
    });
  });

  it.each([
    ['source', () => ids.queue],
    ['dead-letter', () => ids.dlq],
  ])('the %s queue policy denies every request without TLS', (_name, id) => {
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [{ Ref: id() }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Action: 'sqs:*',
            Principal: { AWS: '*' },
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            Resource: arnOf(id()),
          }),
        ]),
      },
    });
  });
});

describe('dead-letter queue', () => {
  it('keeps messages 14 days, encrypted, with no redrive policy of its own', () => {
    const q = resource(template, ids.dlq).Properties;
    expect(q.MessageRetentionPeriod).toBe(14 * DAY);
    expect(q.SqsManagedSseEnabled).toBe(true);
    expect(q.RedrivePolicy).toBeUndefined();
  });

  it('allows redrive only from the source queue, by the ARN of its synth-time name', () => {
    const q = resource(template, ids.dlq).Properties;
    const sourceName: string = resource(template, ids.queue).Properties.QueueName;
    expect(sourceName).toMatch(/^TestStack-Tasks-[A-F0-9]{8}-tasks$/);
    expect(q.RedriveAllowPolicy.redrivePermission).toBe('byQueue');
    expect(q.RedriveAllowPolicy.sourceQueueArns).toHaveLength(1);
    expect(str(q.RedriveAllowPolicy.sourceQueueArns[0])).toBe(
      `arn:\${AWS::Partition}:sqs:\${AWS::Region}:\${AWS::AccountId}:${sourceName}`,
    );
  });
});

describe('cdk destroy under the default RETAIN', () => {
  /** Resource types that hold task data: kept when the stack is deleted (or a resource replaced). */
  const DATA = ['AWS::SQS::Queue', 'AWS::DynamoDB::Table', 'AWS::S3::Bucket', 'AWS::Logs::LogGroup'];

  it('keeps both queues — pending tasks and up to 14 days of dead letters — the table, the bucket and the log group', () => {
    for (const id of [ids.queue, ids.dlq, ids.table, ids.bucket, ids.logs]) {
      expect(resource(template, id).DeletionPolicy, id).toBe('Retain');
      expect(resource(template, id).UpdateReplacePolicy, id).toBe('Retain');
    }
  });

  it('deletes everything else (no data in it): function, role, mapping, alarms, topic, dashboard, policies', () => {
    for (const [id, r] of Object.entries(template.toJSON().Resources as Record<string, Json>)) {
      if (DATA.includes(r.Type)) continue;
      expect(r.DeletionPolicy ?? 'Delete', `${id} (${r.Type})`).toBe('Delete');
    }
  });
});

describe('task table', () => {
  it('is on demand with the protocol key and TTL attribute', () => {
    const t = resource(template, ids.table).Properties;
    expect(t.BillingMode).toBe('PAY_PER_REQUEST');
    expect(t.KeySchema).toEqual([{ AttributeName: TABLE_SCHEMA.partitionKey, KeyType: 'HASH' }]);
    expect(t.AttributeDefinitions).toEqual([{ AttributeName: 'pk', AttributeType: 'S' }]);
    expect(t.TimeToLiveSpecification).toEqual({ AttributeName: TABLE_SCHEMA.ttlAttribute, Enabled: true });
  });

  it('has point-in-time recovery and AWS-owned-key encryption', () => {
    const t = resource(template, ids.table).Properties;
    expect(t.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
    // SSEEnabled false = encrypted at rest with the AWS-owned key (DynamoDB always encrypts).
    expect(t.SSESpecification).toEqual({ SSEEnabled: false });
  });

  it('is retained on stack deletion and protected from deletion', () => {
    const t = resource(template, ids.table);
    expect(t.DeletionPolicy).toBe('Retain');
    expect(t.UpdateReplacePolicy).toBe('Retain');
    expect(t.Properties.DeletionProtectionEnabled).toBe(true);
  });
});

describe('claim-check bucket', () => {
  it('blocks all public access, enforces bucket-owner ownership and SSE-S3', () => {
    const b = resource(template, ids.bucket).Properties;
    expect(b.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    expect(b.OwnershipControls).toEqual({ Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] });
    expect(b.BucketEncryption).toEqual({
      ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
    });
    expect(b.VersioningConfiguration).toBeUndefined();
  });

  it('expires claim objects after 4 + 14 + 1 = 19 days and aborts stale multipart uploads after 1 day', () => {
    const rules = resource(template, ids.bucket).Properties.LifecycleConfiguration.Rules as Json[];
    expect(rules).toContainEqual({ Id: 'expire-claim-objects', Prefix: DEFAULTS.claimPrefix, ExpirationInDays: 19, Status: 'Enabled' });
    expect(rules).toContainEqual({
      Id: 'abort-incomplete-multipart-uploads',
      AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
      Status: 'Enabled',
    });
  });

  it('denies requests without TLS or below TLS 1.2', () => {
    const policy = Object.values(template.findResources('AWS::S3::BucketPolicy'))[0] as Json;
    const denies = (policy.Properties.PolicyDocument.Statement as Json[]).filter((s) => s.Effect === 'Deny');
    expect(denies.map((s) => s.Condition)).toEqual(
      expect.arrayContaining([
        { Bool: { 'aws:SecureTransport': 'false' } },
        { NumericLessThan: { 's3:TlsVersion': 1.2 } },
      ]),
    );
  });

  it('is retained on deletion, with no auto-delete custom resource', () => {
    expect(resource(template, ids.bucket).DeletionPolicy).toBe('Retain');
    template.resourceCountIs('Custom::S3AutoDeleteObjects', 0);
  });
});

describe('consumer Lambda', () => {
  it('runs functions/consumer.ts on Node.js 22, arm64, 256 MB, 30 s, without X-Ray tracing', () => {
    const f = resource(template, ids.fn).Properties;
    expect(f.Runtime).toBe('nodejs22.x');
    expect(f.Architectures).toEqual(['arm64']);
    expect(f.MemorySize).toBe(256);
    expect(f.Timeout).toBe(30);
    expect(f.Handler).toBe('index.handler');
    // Off by default: the runtime's SDK clients are not instrumented, so a trace would show
    // no DynamoDB, SQS or S3 time (instrumenting them costs ~20 ms of CPU per cold start;
    // docs/ARCHITECTURE.md, "Tracing"). tracing: ACTIVE + instrumented clients opt in.
    expect(f.TracingConfig).toBeUndefined();
    expect(f.ReservedConcurrentExecutions).toBeUndefined();
  });

  it('with tracing: ACTIVE, the role may upload traces (resource "*": X-Ray has no resource-level permissions)', async () => {
    const { Tracing } = await import('aws-cdk-lib/aws-lambda');
    const stack = testStack();
    new TaskQueue(stack, 'Tasks', { tracing: Tracing.ACTIVE });
    const t = Template.fromStack(stack);
    expect(resource(t, logicalId(t, 'AWS::Lambda::Function')).Properties.TracingConfig).toEqual({ Mode: 'Active' });
    t.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: ['xray:PutTelemetryRecords', 'xray:PutTraceSegments'], Resource: '*' })]) },
    });
  });

  it('logs to its own log group kept one month', () => {
    expect(resource(template, ids.fn).Properties.LoggingConfig).toEqual({ LogGroup: { Ref: ids.logs } });
    expect(resource(template, ids.logs).Properties.RetentionInDays).toBe(30);
  });

  it('gets exactly the protocol environment variables', () => {
    const vars = resource(template, ids.fn).Properties.Environment.Variables as Record<string, Json>;
    expect(vars).toEqual({
      [ENV.queueUrl]: { Ref: ids.queue },
      [ENV.deadLetterQueueUrl]: { Ref: ids.dlq },
      [ENV.tableName]: { Ref: ids.table },
      [ENV.bucketName]: { Ref: ids.bucket },
      [ENV.claimPrefix]: DEFAULTS.claimPrefix,
      [ENV.metricsNamespace]: DEFAULTS.metricsNamespace,
      [ENV.fifo]: 'false',
      [ENV.recordTtlSeconds]: String((4 + 14 + 1) * DAY),
      [ENV.visibilityTimeoutSeconds]: '180',
      [ENV.maxReceiveCount]: '5',
    });
  });

  it('uses its own role with no managed policies (logs granted on its log group only)', () => {
    const role = resource(template, ids.role).Properties;
    expect(role.ManagedPolicyArns).toBeUndefined();
    expect(role.AssumeRolePolicyDocument.Statement).toEqual([
      { Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' } },
    ]);
    expect(resource(template, ids.fn).Properties.Role).toEqual(arnOf(ids.role));
  });

  it('is fed by an SQS event source with partial batch responses, batch size 10 and no window', () => {
    const id = logicalId(template, 'AWS::Lambda::EventSourceMapping');
    const m = resource(template, id);
    expect(m.Properties).toEqual({
      EventSourceArn: arnOf(ids.queue),
      FunctionName: { Ref: ids.fn },
      BatchSize: 10,
      Enabled: true,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    // Created after the role's policy, or CreateEventSourceMapping fails its permission check.
    expect(m.DependsOn).toEqual(expect.arrayContaining([expect.stringMatching(/^TasksConsumerRoleDefaultPolicy/)]));
  });
});

describe('alarms', () => {
  const alarm = (suffix: string): Json =>
    Object.values(template.findResources('AWS::CloudWatch::Alarm')).find((a: Json) => a.Properties.AlarmName === `TestStack-Tasks-${suffix}`);

  /** The single metric of an alarm, whichever form CDK rendered (plain or Metrics with a label). */
  const single = (p: Json) => {
    if (p.MetricName) return { Namespace: p.Namespace, MetricName: p.MetricName, Dimensions: p.Dimensions, Stat: p.Statistic, Period: p.Period };
    expect(p.Metrics).toHaveLength(1);
    const m = p.Metrics[0];
    expect(m.ReturnData).toBe(true);
    return { ...m.MetricStat.Metric, Stat: m.MetricStat.Stat, Period: m.MetricStat.Period };
  };

  it('there are seven, each sending ALARM and OK to the created topic', () => {
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')) as Json[];
    expect(alarms).toHaveLength(7);
    for (const a of alarms) {
      expect(a.Properties.AlarmActions).toEqual([{ Ref: ids.topic }]);
      expect(a.Properties.OKActions).toEqual([{ Ref: ids.topic }]);
      expect(a.Properties.AlarmDescription).toMatch(/Runbook: docs\/OPERATIONS\.md/);
    }
    expect(Object.keys(taskQueue.alarms).sort()).toEqual(
      ['consumerErrors', 'consumerThrottles', 'deadLetterQueueNotEmpty', 'noConsumers', 'oldestMessageAge', 'queueDepth', 'unfinishedTaskAge'],
    );
  });

  it('unfinished task age: the consumer\'s UnfinishedTaskAge (all types, Maximum, 5 min) > 3600 s for 1 period, missing = not breaching', () => {
    expect(single(alarm('UnfinishedTaskAge').Properties)).toEqual({
      Namespace: 'TaskQueue',
      MetricName: 'UnfinishedTaskAge',
      Stat: 'Maximum',
      Period: 300,
    });
    expect(alarm('UnfinishedTaskAge').Properties).toMatchObject({
      Threshold: 3600,
      ComparisonOperator: 'GreaterThanThreshold',
      EvaluationPeriods: 1,
      TreatMissingData: 'notBreaching',
    });
  });

  it('queue depth: visible > 1000 (Maximum, 5 min) for 3 periods, missing = not breaching', () => {
    expect(single(alarm('QueueDepth').Properties)).toEqual({
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [ids.queue, 'QueueName'] } }],
      Stat: 'Maximum',
      Period: 300,
    });
    expect(alarm('QueueDepth').Properties).toMatchObject({
      Threshold: 1000,
      ComparisonOperator: 'GreaterThanThreshold',
      EvaluationPeriods: 3,
      TreatMissingData: 'notBreaching',
    });
  });

  it('oldest message: age > 900 s (Maximum, 1 min) for 5 periods, missing = not breaching', () => {
    expect(single(alarm('OldestMessageAge').Properties)).toEqual({
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateAgeOfOldestMessage',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [ids.queue, 'QueueName'] } }],
      Stat: 'Maximum',
      Period: 60,
    });
    expect(alarm('OldestMessageAge').Properties).toMatchObject({
      Threshold: 900,
      ComparisonOperator: 'GreaterThanThreshold',
      EvaluationPeriods: 5,
      TreatMissingData: 'notBreaching',
    });
  });

  it('DLQ not empty: DLQ visible + in flight (Maximum, 1 min) ≥ 1, so a peek does not clear it; missing data keeps the state', () => {
    const p = alarm('DeadLetterQueueNotEmpty').Properties;
    expect(p).toMatchObject({ Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold', EvaluationPeriods: 1, TreatMissingData: 'ignore' });
    const metrics = p.Metrics as Json[];
    const expression = metrics.find((m) => m.Expression);
    // visible is not FILLed: an idle DLQ whose metrics stop gives no datapoint (state kept).
    expect(expression).toMatchObject({ Expression: 'visible + FILL(inFlight, 0)', ReturnData: true });
    const byId = Object.fromEntries(metrics.filter((m) => m.MetricStat).map((m) => [m.Id, m.MetricStat]));
    const dlqName = [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [ids.dlq, 'QueueName'] } }];
    expect(byId.visible).toEqual({ Metric: { Namespace: 'AWS/SQS', MetricName: 'ApproximateNumberOfMessagesVisible', Dimensions: dlqName }, Stat: 'Maximum', Period: 60 });
    expect(byId.inFlight).toEqual({ Metric: { Namespace: 'AWS/SQS', MetricName: 'ApproximateNumberOfMessagesNotVisible', Dimensions: dlqName }, Stat: 'Maximum', Period: 60 });
    expect(metrics.filter((m) => m.MetricStat).every((m) => m.ReturnData === false)).toBe(true);
  });

  it('consumer errors ≥ 5 in 5 minutes; throttles ≥ 1 per 5 minutes for 3 periods', () => {
    expect(single(alarm('ConsumerErrors').Properties)).toEqual({
      Namespace: 'AWS/Lambda',
      MetricName: 'Errors',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: ids.fn } }],
      Stat: 'Sum',
      Period: 300,
    });
    expect(alarm('ConsumerErrors').Properties).toMatchObject({
      Threshold: 5,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      EvaluationPeriods: 1,
      TreatMissingData: 'notBreaching',
    });
    expect(single(alarm('ConsumerThrottles').Properties)).toEqual({
      Namespace: 'AWS/Lambda',
      MetricName: 'Throttles',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: ids.fn } }],
      Stat: 'Sum',
      Period: 300,
    });
    expect(alarm('ConsumerThrottles').Properties).toMatchObject({
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      EvaluationPeriods: 3,
      TreatMissingData: 'notBreaching',
    });
  });

  it('no consumers: backlog while deletes + invocations (missing filled with 0) are zero', () => {
    const p = alarm('NoConsumers').Properties;
    expect(p).toMatchObject({ Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold', EvaluationPeriods: 3, TreatMissingData: 'notBreaching' });
    const metrics = p.Metrics as Json[];
    const expression = metrics.find((m) => m.Expression);
    expect(expression.Expression).toBe('IF(visible > 0 AND (FILL(deleted, 0) + FILL(invocations, 0)) == 0, 1, 0)');
    expect(expression.ReturnData).toBe(true);
    const byId = Object.fromEntries(metrics.filter((m) => m.MetricStat).map((m) => [m.Id, m.MetricStat]));
    expect(byId.visible).toMatchObject({ Metric: { Namespace: 'AWS/SQS', MetricName: 'ApproximateNumberOfMessagesVisible' }, Stat: 'Maximum', Period: 300 });
    expect(byId.deleted).toMatchObject({ Metric: { Namespace: 'AWS/SQS', MetricName: 'NumberOfMessagesDeleted' }, Stat: 'Sum', Period: 300 });
    expect(byId.invocations).toMatchObject({
      Metric: { Namespace: 'AWS/Lambda', MetricName: 'Invocations', Dimensions: [{ Name: 'FunctionName', Value: { Ref: ids.fn } }] },
      Stat: 'Sum',
    });
    expect(str(byId.visible.Metric.Dimensions[0].Value)).toBe(`\${${ids.queue}.QueueName}`);
  });

  it('the created topic requires TLS to publish and has no subscription by default', () => {
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      Topics: [{ Ref: ids.topic }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
    template.resourceCountIs('AWS::SNS::Subscription', 0);
  });
});

describe('dashboard', () => {
  let body: string;
  beforeAll(() => {
    body = str(resource(template, ids.dashboard).Properties.DashboardBody);
  });

  it.each([
    'ApproximateNumberOfMessagesVisible',
    'ApproximateAgeOfOldestMessage',
    'ApproximateNumberOfMessagesNotVisible',
    'NumberOfMessagesSent',
    'NumberOfMessagesDeleted',
    'Invocations',
    'Errors',
    'Throttles',
    'Duration',
    'ConcurrentExecutions',
  ])('graphs %s', (metric) => {
    expect(body).toContain(`"${metric}"`);
  });

  it('graphs the DLQ depth of the DLQ', () => {
    expect(body).toContain(`\${${ids.dlq}.QueueName}`);
  });

  it.each(['TasksProcessed', 'TasksFailed', 'TasksRetried', 'TasksDeadLettered', 'DuplicatesSkipped', 'HandlerDuration', 'EndToEndLatency'])(
    'graphs the custom metric %s of all task types (no dimension) in the metrics namespace',
    (metric) => {
      expect(body).toContain(`["${DEFAULTS.metricsNamespace}","${metric}",{`);
    },
  );

  it.each(['TasksProcessed', 'TasksFailed', 'TasksDeadLettered', 'HandlerDuration', 'EndToEndLatency'])(
    'graphs %s per task type with a SEARCH on the [TaskType] dimension set, labelled with the type',
    (metric) => {
      expect(body).toContain(`SEARCH('{\\"${DEFAULTS.metricsNamespace}\\",TaskType} MetricName=\\"${metric}\\"'`);
      expect(body).toContain(`\${PROP('Dim.TaskType')}`);
    },
  );

  it('shows the state of all seven alarms', () => {
    const widget = JSON.parse(body.replace(/\$\{[^}]+\}/g, 'X')).widgets.find((w: Json) => w.type === 'alarm');
    expect(widget.properties.alarms).toHaveLength(7);
  });
});

describe('outputs', () => {
  it('are named exactly as STACK_OUTPUTS and point at the resources', () => {
    const outputs = template.toJSON().Outputs as Record<string, Json>;
    expect(Object.keys(outputs).sort()).toEqual(Object.values(STACK_OUTPUTS).sort());
    expect(outputs[STACK_OUTPUTS.queueUrl].Value).toEqual({ Ref: ids.queue });
    expect(outputs[STACK_OUTPUTS.queueArn].Value).toEqual(arnOf(ids.queue));
    expect(outputs[STACK_OUTPUTS.deadLetterQueueUrl].Value).toEqual({ Ref: ids.dlq });
    expect(outputs[STACK_OUTPUTS.deadLetterQueueArn].Value).toEqual(arnOf(ids.dlq));
    expect(outputs[STACK_OUTPUTS.tableName].Value).toEqual({ Ref: ids.table });
    expect(outputs[STACK_OUTPUTS.bucketName].Value).toEqual({ Ref: ids.bucket });
    expect(outputs[STACK_OUTPUTS.claimPrefix].Value).toBe(DEFAULTS.claimPrefix);
    expect(outputs[STACK_OUTPUTS.alarmTopicArn].Value).toEqual({ Ref: ids.topic });
    expect(outputs[STACK_OUTPUTS.dashboardName].Value).toEqual({ Ref: ids.dashboard });
    expect(outputs[STACK_OUTPUTS.consumerFunctionName].Value).toEqual({ Ref: ids.fn });
    // The consumer logs to its own, CloudFormation-named log group — not /aws/lambda/<function>.
    expect(outputs[STACK_OUTPUTS.consumerLogGroupName].Value).toEqual({ Ref: ids.logs });
    expect(resource(template, ids.fn).Properties.LoggingConfig).toEqual({ LogGroup: { Ref: ids.logs } });
    expect(resource(template, ids.logs).Properties.LogGroupName).toBeUndefined();
  });

  it('can be turned off', () => {
    const stack = testStack();
    new TaskQueue(stack, 'Tasks', { outputs: false });
    expect(Template.fromStack(stack).toJSON().Outputs).toBeUndefined();
  });
});

describe('exposed members', () => {
  it('expose the resources and the claim prefix', () => {
    const stack = testStack();
    const tq = new TaskQueue(stack, 'Tasks');
    const t = Template.fromStack(stack);
    const resolve = (v: unknown) => stack.resolve(v);
    expect(resolve(tq.queue.queueArn)).toEqual(arnOf(logicalId(t, 'AWS::SQS::Queue', 'TasksQueue')));
    expect(resolve(tq.deadLetterQueue.queueArn)).toEqual(arnOf(logicalId(t, 'AWS::SQS::Queue', 'TasksDeadLetterQueue')));
    expect(resolve(tq.table.tableName)).toEqual({ Ref: logicalId(t, 'AWS::DynamoDB::Table') });
    expect(resolve(tq.bucket.bucketName)).toEqual({ Ref: logicalId(t, 'AWS::S3::Bucket') });
    expect(resolve(tq.consumer.functionName)).toEqual({ Ref: logicalId(t, 'AWS::Lambda::Function') });
    expect(resolve(tq.alarmTopic.topicArn)).toEqual({ Ref: logicalId(t, 'AWS::SNS::Topic') });
    expect(resolve(tq.dashboard.dashboardName)).toEqual({ Ref: logicalId(t, 'AWS::CloudWatch::Dashboard') });
    expect(tq.claimPrefix).toBe(DEFAULTS.claimPrefix);
  });
});

describe('metric helpers', () => {
  it('SQS helpers use the queue metrics with the statistic the alarms use', () => {
    const depth = taskQueue.metricQueueDepth();
    expect([depth.namespace, depth.metricName, depth.statistic]).toEqual(['AWS/SQS', 'ApproximateNumberOfMessagesVisible', 'Maximum']);
    expect(taskQueue.metricOldestMessageAge().metricName).toBe('ApproximateAgeOfOldestMessage');
    expect(taskQueue.metricMessagesInFlight().metricName).toBe('ApproximateNumberOfMessagesNotVisible');
    expect(taskQueue.metricMessagesSent().metricName).toBe('NumberOfMessagesSent');
    expect(taskQueue.metricMessagesDeleted().metricName).toBe('NumberOfMessagesDeleted');
    const dlq = taskQueue.metricDeadLetterQueueDepth();
    expect(dlq.metricName).toBe('ApproximateNumberOfMessagesVisible');
    expect(dlq.dimensions).toEqual({ QueueName: taskQueue.deadLetterQueue.queueName });
    expect(depth.dimensions).toEqual({ QueueName: taskQueue.queue.queueName });
  });

  it.each([
    ['metricTasksProcessed', 'TasksProcessed', 'Sum'],
    ['metricTasksFailed', 'TasksFailed', 'Sum'],
    ['metricTasksRetried', 'TasksRetried', 'Sum'],
    ['metricTasksDeadLettered', 'TasksDeadLettered', 'Sum'],
    ['metricDuplicatesSkipped', 'DuplicatesSkipped', 'Sum'],
    ['metricHandlerDuration', 'HandlerDuration', 'p99'],
    ['metricEndToEndLatency', 'EndToEndLatency', 'p99'],
  ] as const)('%s reads %s (%s) in the metrics namespace, per task type on request', (method, name, statistic) => {
    const all = taskQueue[method]();
    expect([all.namespace, all.metricName, all.statistic, all.dimensions]).toEqual([DEFAULTS.metricsNamespace, name, statistic, undefined]);
    const one = taskQueue[method]({ taskType: 'send_email', period: Duration.minutes(1) });
    expect(one.dimensions).toEqual({ TaskType: 'send_email' });
    expect(one.period.toSeconds()).toBe(60);
  });
});
