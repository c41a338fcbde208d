/**
 * The default stack: configured from cdk.json context, environment-agnostic, and
 * `npx cdk synth` from the repository root works with no AWS credentials or region.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Token } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { CONTEXT_KEYS } from '../../lib/infra/stack-context.ts';
import { TaskQueueStack } from '../../lib/infra/task-queue-stack.ts';
import { DEFAULTS, ENV, STACK_OUTPUTS } from '../../lib/protocol/resources.ts';
import { logicalId, resource, testApp, type Json } from './helpers.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

function stackWith(context: Record<string, unknown>): Template {
  return Template.fromStack(new TaskQueueStack(testApp({ context }), DEFAULTS.stackName));
}

describe('TaskQueueStack', () => {
  it('is environment-agnostic', () => {
    const stack = new TaskQueueStack(testApp(), DEFAULTS.stackName);
    expect(Token.isUnresolved(stack.account)).toBe(true);
    expect(Token.isUnresolved(stack.region)).toBe(true);
  });

  it('reads context values as JSON types or as -c strings', () => {
    const t = stackWith({
      'taskq:alarmEmail': 'oncall@example.com',
      'taskq:removalPolicy': 'destroy',
      'taskq:fifo': 'true',
      'taskq:contentBasedDeduplication': true,
      'taskq:retentionDays': '3',
      'taskq:maxReceiveCount': 7,
      'taskq:runtime': 'nodejs24.x',
      'taskq:memorySize': '512',
      'taskq:timeoutSeconds': 45,
      'taskq:reservedConcurrency': 8,
      'taskq:batchSize': 4,
      'taskq:maxConcurrency': '6',
      'taskq:metricsNamespace': 'Acme/Tasks',
      'taskq:queueDepthThreshold': '200',
      'taskq:oldestMessageAgeMinutes': 30,
      'taskq:consumerErrorsThreshold': 2,
    });
    t.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'oncall@example.com' });
    expect(resource(t, logicalId(t, 'AWS::DynamoDB::Table')).DeletionPolicy).toBe('Delete');
    const q = resource(t, logicalId(t, 'AWS::SQS::Queue', 'TasksQueue')).Properties;
    expect(q).toMatchObject({ FifoQueue: true, ContentBasedDeduplication: true, MessageRetentionPeriod: 3 * 86_400, VisibilityTimeout: 270 });
    expect(q.RedrivePolicy.maxReceiveCount).toBe(7);
    const f = resource(t, logicalId(t, 'AWS::Lambda::Function', 'TasksConsumer')).Properties;
    expect(f).toMatchObject({ Runtime: 'nodejs24.x', MemorySize: 512, Timeout: 45, ReservedConcurrentExecutions: 8 });
    expect(f.Environment.Variables[ENV.metricsNamespace]).toBe('Acme/Tasks');
    t.hasResourceProperties('AWS::Lambda::EventSourceMapping', { BatchSize: 4, ScalingConfig: { MaximumConcurrency: 6 } });
    const alarms = Object.values(t.findResources('AWS::CloudWatch::Alarm')) as Json[];
    const byName = (s: string) => alarms.find((a) => a.Properties.AlarmName === `${DEFAULTS.stackName}-Tasks-${s}`).Properties;
    expect(byName('QueueDepth').Threshold).toBe(200);
    expect(byName('OldestMessageAge').Threshold).toBe(1800);
    expect(byName('ConsumerErrors').Threshold).toBe(2);
  });

  it('a batching window from context allows larger batches', () => {
    const t = stackWith({ 'taskq:batchSize': 100, 'taskq:maxBatchingWindowSeconds': 5 });
    t.hasResourceProperties('AWS::Lambda::EventSourceMapping', { BatchSize: 100, MaximumBatchingWindowInSeconds: 5 });
  });

  it('a consumer entry from context is resolved from the working directory', () => {
    const stack = new TaskQueueStack(testApp({ context: { 'taskq:consumerEntry': 'functions/consumer.ts' } }), DEFAULTS.stackName);
    expect(stack.taskQueue).toBeDefined();
    expect(() => new TaskQueueStack(testApp({ context: { 'taskq:consumerEntry': 'nope/missing.ts' } }), DEFAULTS.stackName)).toThrow(/missing\.ts/);
  });

  it.each([
    ['taskq:fifo', 'yes', /taskq:fifo \("yes"\): must be true or false/],
    ['taskq:memorySize', 'big', /taskq:memorySize \("big"\): must be a number/],
    ['taskq:removalPolicy', 'snapshot', /taskq:removalPolicy \("snapshot"\): must be 'retain' or 'destroy'/],
    ['taskq:runtime', 'nodejs20.x', /taskq:runtime \("nodejs20.x"\): must be 'nodejs22.x' or 'nodejs24.x'/],
    ['taskq:alarmEmail', 42, /taskq:alarmEmail \(42\): must be a string/],
    ['taskq:alarmEmai', 'typo@example.com', /taskq:alarmEmai .*unknown context key/],
  ])('rejects %s = %j', (key, value, message) => {
    expect(() => stackWith({ [key]: value })).toThrow(message);
  });

  it('context values still go through the construct validation', () => {
    expect(() => stackWith({ 'taskq:maxReceiveCount': 2 })).toThrow(/TaskQueue: invalid maxReceiveCount \(2\)/);
  });

  it('the low maxReceiveCount error names the context key that accepts it, and that key does', () => {
    expect(() => stackWith({ 'taskq:maxReceiveCount': 3 })).toThrow(/context taskq:allowLowMaxReceiveCount=true/);
    const t = stackWith({ 'taskq:maxReceiveCount': 3, 'taskq:allowLowMaxReceiveCount': 'true' });
    expect(resource(t, logicalId(t, 'AWS::SQS::Queue', 'TasksQueue')).Properties.RedrivePolicy.maxReceiveCount).toBe(3);
  });

  it('documents every context key in docs/CONFIGURATION.md', () => {
    const doc = readFileSync(path.join(ROOT, 'docs/CONFIGURATION.md'), 'utf8');
    for (const key of Object.keys(CONTEXT_KEYS)) expect(doc, key).toContain(`\`${key}\``);
  });
});

describe('npx cdk synth', () => {
  it('works from the repository root with no AWS credentials or region and writes the outputs', async () => {
    const outdir = mkdtempSync(path.join(tmpdir(), 'taskq-synth-'));
    try {
      const env: NodeJS.ProcessEnv = { ...process.env, AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '', AWS_SESSION_TOKEN: '', AWS_PROFILE: '', AWS_REGION: '', AWS_DEFAULT_REGION: '', AWS_CONFIG_FILE: '/dev/null', AWS_SHARED_CREDENTIALS_FILE: '/dev/null', CDK_DISABLE_VERSION_CHECK: '1' };
      await promisify(execFile)('npx', ['cdk', 'synth', '--quiet', '--no-notices', '-o', outdir], { cwd: ROOT, env, timeout: 170_000 });
      const template = JSON.parse(readFileSync(path.join(outdir, `${DEFAULTS.stackName}.template.json`), 'utf8')) as Json;
      expect(Object.keys(template.Outputs).sort()).toEqual(Object.values(STACK_OUTPUTS).sort());
      const types = Object.values(template.Resources as Record<string, Json>).map((r) => r.Type);
      for (const type of ['AWS::SQS::Queue', 'AWS::DynamoDB::Table', 'AWS::S3::Bucket', 'AWS::Lambda::Function', 'AWS::Lambda::EventSourceMapping', 'AWS::SNS::Topic', 'AWS::CloudWatch::Dashboard']) {
        expect(types).toContain(type);
      }
      expect(types.filter((t) => t === 'AWS::CloudWatch::Alarm')).toHaveLength(7);
      // cdk-nag ran as a validation plugin and found nothing.
      const report = JSON.parse(readFileSync(path.join(outdir, 'validation-report.json'), 'utf8')) as Json;
      expect(report.pluginReports.flatMap((p: Json) => p.violations ?? [])).toEqual([]);
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  }, 180_000);
});

describe('the app (bin/app.ts) with invalid configuration', () => {
  it.each([
    ['a prop rule', { 'taskq:maxReceiveCount': 2 }, /^TaskQueue: invalid maxReceiveCount \(2\): must be at least 5 .*$/],
    ['a context value', { 'taskq:fifo': 'yes' }, /^TaskQueueStack: invalid context taskq:fifo \("yes"\): must be true or false$/],
  ])('prints %s message alone — no stack trace — and exits 1', async (_what, context, message) => {
    const outdir = mkdtempSync(path.join(tmpdir(), 'taskq-synth-error-'));
    try {
      const result = await new Promise<{ code: number | null; stderr: string; stdout: string }>((resolve) => {
        execFile(path.join(ROOT, 'node_modules/.bin/tsx'), ['bin/app.ts'], { cwd: ROOT, env: { ...process.env, CDK_OUTDIR: outdir, CDK_CONTEXT_JSON: JSON.stringify(context) }, timeout: 120_000 }, (error, stdout, stderr) =>
          resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr }),
        );
      });
      expect(result.code).toBe(1);
      expect(result.stderr.trim()).toMatch(message);
      expect(result.stdout.trim()).toBe('');
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  }, 130_000);
});

describe('TaskQueueStack props and context together', () => {
  it('a context threshold keeps the period given in code', async () => {
    const { Duration } = await import('aws-cdk-lib');
    const stack = new TaskQueueStack(testApp({ context: { 'taskq:queueDepthThreshold': 42 } }), DEFAULTS.stackName, {
      taskQueue: { alarmOptions: { queueDepth: { period: Duration.minutes(2), evaluationPeriods: 4 } } },
    });
    const alarm = Object.values(Template.fromStack(stack).findResources('AWS::CloudWatch::Alarm')).find(
      (a: Json) => a.Properties.AlarmName === `${DEFAULTS.stackName}-Tasks-QueueDepth`,
    ) as Json;
    expect(alarm.Properties.Threshold).toBe(42);
    expect(alarm.Properties.EvaluationPeriods).toBe(4);
    expect(alarm.Properties.Metrics[0].MetricStat.Period).toBe(120);
  });
});
