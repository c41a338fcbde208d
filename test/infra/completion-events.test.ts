/**
 * The completion-events resources in the synthesized template: off by default; with
 * `completionEvents`, the table's stream, the function (Node.js 22, arm64), its filtered
 * stream mapping with retries, bisection, partial batch responses and an on-failure queue
 * under an alarm — and a role allowing exactly what the function and its mapping do.
 */
import { join } from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import * as events from 'aws-cdk-lib/aws-events';
import * as kms from 'aws-cdk-lib/aws-kms';
import { beforeAll, describe, expect, it } from 'vitest';
import { TaskQueue } from '../../lib/infra/task-queue.ts';
import { TaskQueueValidationError } from '../../lib/infra/validation.ts';
import { IAM_ACTION_OF_COMMAND, REPOSITORY_ROOT, sdkCallSites, sourceFiles } from '../support/sdk-call-sites.ts';
import { logicalId, resource, roleStatements, str, testStack, type Json } from './helpers.ts';

type Target = 'bus' | 'stream' | 'failureQueue' | 'logGroup' | 'anyResource';
type Needs = Partial<Record<Target, readonly string[]>>;

/** Every AWS call of lib/events (the function's code), with what it needs and where. */
const FUNCTION_CALLS: Record<string, Needs> = {
  'lib/events/publish-events.ts › publishCompletionEvents › PutEvents': { bus: ['events:PutEvents'] },
};

/** Calls made with the function's role by Lambda itself. */
const PLATFORM_CALLS: Record<string, Needs> = {
  // Lambda's documented execution-role permissions for a DynamoDB stream source; ListStreams takes no resource.
  'stream event source mapping': { stream: ['dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator'], anyResource: ['dynamodb:ListStreams'] },
  'on-failure destination of the mapping': { failureQueue: ['sqs:SendMessage'] },
  'Lambda logging (its own log group)': { logGroup: ['logs:CreateLogStream', 'logs:PutLogEvents'] },
};

function synth(props: ConstructorParameters<typeof TaskQueue>[2] = {}) {
  const stack = testStack();
  const queue = new TaskQueue(stack, 'Tasks', props);
  return { stack, queue, template: Template.fromStack(stack) };
}

function rolePairs(template: Template): string[] {
  const statements = roleStatements(template, logicalId(template, 'AWS::IAM::Role', 'TasksCompletionEventsRole'));
  for (const s of statements) expect(s.effect).toBe('Allow');
  return [...new Set(statements.flatMap((s) => s.actions.flatMap((a) => s.resources.map((r) => `${a} on ${r}`))))].sort();
}

function needed(resourceOf: Record<Target, string>): string[] {
  return [...new Set(Object.values({ ...FUNCTION_CALLS, ...PLATFORM_CALLS }).flatMap((needs) => Object.entries(needs).flatMap(([t, actions]) => actions!.map((a) => `${a} on ${resourceOf[t as Target]}`))))].sort();
}

describe('completion events: off by default', () => {
  it('no stream, no function, no failure queue', () => {
    const { template } = synth();
    const table = resource(template, logicalId(template, 'AWS::DynamoDB::Table'));
    expect(table.Properties.StreamSpecification).toBeUndefined();
    expect(Object.keys(template.toJSON().Resources).filter((id) => id.includes('CompletionEvents'))).toEqual([]);
  });
});

describe('completion events: on', () => {
  let template: Template;
  let queue: TaskQueue;
  beforeAll(() => {
    ({ template, queue } = synth({ completionEvents: {} }));
  });

  it('the task table streams new and old images', () => {
    expect(resource(template, logicalId(template, 'AWS::DynamoDB::Table')).Properties.StreamSpecification).toEqual({ StreamViewType: 'NEW_AND_OLD_IMAGES' });
  });

  it('the function: nodejs22.x on arm64, publishing to the default bus with source taskq', () => {
    const fn = resource(template, logicalId(template, 'AWS::Lambda::Function', 'TasksCompletionEventsFunction'));
    expect(fn.Properties).toMatchObject({ Runtime: 'nodejs22.x', Architectures: ['arm64'], Handler: 'index.handler' });
    expect(str(fn.Properties.Environment.Variables.TASKQ_EVENT_BUS)).toBe('arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:event-bus/default');
    expect(fn.Properties.Environment.Variables.TASKQ_EVENT_SOURCE).toBe('taskq');
    expect(queue.completionEvents?.source).toBe('taskq');
  });

  it('the mapping: final states only, from the stream start, retried with bisection and partial responses, then the failure queue', () => {
    const mapping = resource(template, logicalId(template, 'AWS::Lambda::EventSourceMapping', 'TasksCompletionEventsStreamSource')).Properties as Json;
    const table = logicalId(template, 'AWS::DynamoDB::Table');
    const failureQueue = logicalId(template, 'AWS::SQS::Queue', 'TasksCompletionEventsFailureQueue');
    expect(str(mapping.EventSourceArn)).toBe(`\${${table}.StreamArn}`);
    expect(mapping).toMatchObject({ StartingPosition: 'TRIM_HORIZON', BatchSize: 100, BisectBatchOnFunctionError: true, MaximumRetryAttempts: 10, FunctionResponseTypes: ['ReportBatchItemFailures'] });
    expect(str(mapping.DestinationConfig.OnFailure.Destination)).toBe(`\${${failureQueue}.Arn}`);
    expect(JSON.parse(mapping.FilterCriteria.Filters[0].Pattern)).toEqual({ dynamodb: { NewImage: { status: { S: ['SUCCEEDED', 'DEAD_LETTERED', 'CANCELLED'] } } } });
  });

  it('a stack output names the failure queue (the runbook reads it)', () => {
    const failureQueue = logicalId(template, 'AWS::SQS::Queue', 'TasksCompletionEventsFailureQueue');
    expect(str(template.toJSON().Outputs.CompletionEventsFailureQueueUrl.Value)).toBe(`\${${failureQueue}}`);
  });

  it('an alarm on the failure queue pages the alarm topic', () => {
    const alarm = resource(template, logicalId(template, 'AWS::CloudWatch::Alarm', 'TasksCompletionEventsFailedAlarm')).Properties as Json;
    const topic = logicalId(template, 'AWS::SNS::Topic');
    expect(alarm.AlarmActions.map(str)).toEqual([`\${${topic}}`]);
    expect(alarm).toMatchObject({ Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold', TreatMissingData: 'notBreaching' });
    expect(alarm.AlarmName).toBe('TestStack-Tasks-CompletionEventsFailed');
  });

  it('FUNCTION_CALLS matches the source of lib/events: every AWS call declared, with the action AWS authorizes it with', () => {
    const sites = sdkCallSites(sourceFiles(join(REPOSITORY_ROOT, 'lib/events')));
    expect(sites.map((s) => s.id).sort()).toEqual(Object.keys(FUNCTION_CALLS).sort());
    for (const site of sites) expect(Object.values(FUNCTION_CALLS[site.id]!).flat()).toEqual([IAM_ACTION_OF_COMMAND[site.command]]);
  });

  it('the role allows exactly what the function and its mapping do, and no other pair', () => {
    const arn = (id: string) => `\${${id}.Arn}`;
    expect(rolePairs(template)).toEqual(
      needed({
        bus: 'arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:event-bus/default',
        stream: `\${${logicalId(template, 'AWS::DynamoDB::Table')}.StreamArn}`,
        failureQueue: arn(logicalId(template, 'AWS::SQS::Queue', 'TasksCompletionEventsFailureQueue')),
        logGroup: arn(logicalId(template, 'AWS::Logs::LogGroup', 'TasksCompletionEventsLogs')),
        anyResource: '*',
      }),
    );
  });
});

describe('completion events: options', () => {
  it('another bus: PutEvents on that bus only, its ARN in the environment; a custom source', () => {
    const stack = testStack();
    const bus = new events.EventBus(stack, 'Bus');
    new TaskQueue(stack, 'Tasks', { completionEvents: { eventBus: bus, source: 'shop.orders' } });
    const template = Template.fromStack(stack);
    const busArn = `\${${logicalId(template, 'AWS::Events::EventBus')}.Arn}`;
    const puts = rolePairs(template).filter((p) => p.startsWith('events:'));
    expect(puts).toEqual([`events:PutEvents on ${busArn}`]);
    const fn = resource(template, logicalId(template, 'AWS::Lambda::Function', 'TasksCompletionEventsFunction'));
    expect(str(fn.Properties.Environment.Variables.TASKQ_EVENT_BUS)).toBe(busArn);
    expect(fn.Properties.Environment.Variables.TASKQ_EVENT_SOURCE).toBe('shop.orders');
  });

  it('with a key: the failure queue is encrypted with it, and the role may decrypt the stream and encrypt the failure message', () => {
    const stack = testStack();
    const key = new kms.Key(stack, 'Key');
    new TaskQueue(stack, 'Tasks', { encryptionKey: key, completionEvents: {} });
    const template = Template.fromStack(stack);
    const keyArn = `\${${logicalId(template, 'AWS::KMS::Key')}.Arn}`;
    const failureQueue = resource(template, logicalId(template, 'AWS::SQS::Queue', 'TasksCompletionEventsFailureQueue'));
    expect(str(failureQueue.Properties.KmsMasterKeyId)).toBe(keyArn);
    expect(rolePairs(template).filter((p) => p.startsWith('kms:'))).toEqual([`kms:Decrypt on ${keyArn}`, `kms:GenerateDataKey on ${keyArn}`]);
  });

  it.each([
    ['aws.tasks', 'must not start with "aws."'],
    ['', 'must be 1–256 characters'],
    ['x'.repeat(257), 'must be 1–256 characters'],
  ])('source %j fails at synth naming completionEvents.source', (source, rule) => {
    const attempt = () => new TaskQueue(testStack(), 'Tasks', { completionEvents: { source } });
    expect(attempt).toThrow(TaskQueueValidationError);
    expect(attempt).toThrow(`TaskQueue: invalid completionEvents.source`);
    expect(attempt).toThrow(rule);
  });
});
