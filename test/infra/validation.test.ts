/**
 * Every synth-time rule of TaskQueueProps: the bad configuration is rejected by the
 * construct with a message naming the prop, the value and the rule — and the boundary
 * value that is allowed is accepted (so each rule is exactly as strict as documented).
 */
import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { describe, expect, it } from 'vitest';
import type { TaskQueueProps } from '../../lib/infra/props.ts';
import { TaskQueue } from '../../lib/infra/task-queue.ts';
import { TaskQueueValidationError } from '../../lib/infra/validation.ts';
import { testStack } from './helpers.ts';

function build(props: TaskQueueProps | ((stack: Stack) => TaskQueueProps)): TaskQueue {
  const stack = testStack();
  return new TaskQueue(stack, 'Tasks', typeof props === 'function' ? props(stack) : props);
}

/** [rule, props, prop named in the message, pattern of the rule text] */
const rejected: [string, TaskQueueProps | ((stack: Stack) => TaskQueueProps), string, RegExp][] = [
  ['content-based deduplication needs FIFO', { contentBasedDeduplication: true }, 'contentBasedDeduplication', /requires fifo: true/],
  ['a .fifo queue name needs FIFO', { queueName: 'jobs.fifo' }, 'queueName', /requires fifo: true/],
  ['a .fifo DLQ name needs FIFO', { deadLetterQueueName: 'dead.fifo' }, 'deadLetterQueueName', /requires fifo: true/],
  ['queue names use safe characters', { queueName: 'my queue!' }, 'queueName', /A–Z a–z 0–9 - _/],
  ['queue names are at most 80 characters with .fifo', { fifo: true, queueName: 'q'.repeat(76) }, 'queueName', /1–80 characters/],
  ['retention at least 60 s', { retentionPeriod: Duration.seconds(59) }, 'retentionPeriod', /between 60 seconds and 14 days/],
  ['retention at most 14 days', { retentionPeriod: Duration.days(15) }, 'retentionPeriod', /between 60 seconds and 14 days/],
  ['DLQ retention at most 14 days', { deadLetterRetentionPeriod: Duration.days(15) }, 'deadLetterRetentionPeriod', /between 60 seconds and 14 days/],
  [
    'DLQ retention strictly longer than source retention',
    { retentionPeriod: Duration.days(14), deadLetterRetentionPeriod: Duration.days(14) },
    'deadLetterRetentionPeriod',
    /strictly longer than retentionPeriod \(14 days\)/,
  ],
  ['runtime nodejs22.x or nodejs24.x only', { runtime: lambda.Runtime.NODEJS_20_X }, 'runtime', /nodejs22\.x, nodejs24\.x/],
  ['runtime: not another language', { runtime: lambda.Runtime.PYTHON_3_13 }, 'runtime', /must be one of/],
  ['memory at least 128 MB', { memorySize: 64 }, 'memorySize', /128 to 10,240/],
  ['memory a whole number', { memorySize: 256.5 }, 'memorySize', /whole number/],
  ['timeout at most 15 minutes', { timeout: Duration.minutes(16) }, 'timeout', /between 1 second and 15 minutes/],
  ['timeout whole seconds', { timeout: Duration.millis(1500) }, 'timeout', /whole number of seconds/],
  ['handler is an identifier', { consumerHandler: 'index.handler' }, 'consumerHandler', /exported function/],
  ['reserved concurrency ≥ 1', { reservedConcurrentExecutions: 0 }, 'reservedConcurrentExecutions', /≥ 1/],
  ['TASKQ_* environment is reserved', { consumerEnvironment: { TASKQ_TABLE_NAME: 'x' } }, 'consumerEnvironment', /TASKQ_\* variables/],
  ['batching window at most 300 s', { maxBatchingWindow: Duration.seconds(301) }, 'maxBatchingWindow', /between 0 and 300 seconds/],
  ['no batching window on FIFO', { fifo: true, maxBatchingWindow: Duration.seconds(1) }, 'maxBatchingWindow', /not supported for FIFO/],
  ['batch size above 10 needs a window', { batchSize: 11 }, 'batchSize', /requires maxBatchingWindow of at least 1 second/],
  ['batch size at most 10,000', { batchSize: 10_001, maxBatchingWindow: Duration.seconds(5) }, 'batchSize', /1 to 10,000/],
  ['FIFO batch size at most 10', { fifo: true, batchSize: 11 }, 'batchSize', /FIFO event sources take 1 to 10/],
  ['batch size at least 1', { batchSize: 0 }, 'batchSize', /1 to 10,000/],
  ['max concurrency at least 2', { maxConcurrency: 1 }, 'maxConcurrency', /from 2 to 1,000/],
  ['max concurrency at most 1000', { maxConcurrency: 1001 }, 'maxConcurrency', /from 2 to 1,000/],
  [
    'max concurrency not above reserved concurrency',
    { maxConcurrency: 20, reservedConcurrentExecutions: 10 },
    'maxConcurrency',
    /must not exceed reservedConcurrentExecutions \(10\)/,
  ],
  [
    'visibility ≥ 6 × timeout + batching window',
    { timeout: Duration.seconds(30), maxBatchingWindow: Duration.seconds(10), visibilityTimeout: Duration.seconds(189) },
    'visibilityTimeout',
    /at least 6 × timeout \+ maxBatchingWindow = 190 seconds/,
  ],
  ['visibility at most 12 hours', { timeout: Duration.minutes(1), visibilityTimeout: Duration.hours(13) }, 'visibilityTimeout', /cannot exceed 12 hours/],
  ['maxReceiveCount ≥ 5 unless allowed', { maxReceiveCount: 3 }, 'maxReceiveCount', /at least 5 .*allowLowMaxReceiveCount: true/],
  ['maxReceiveCount ≥ 1 even when allowed', { maxReceiveCount: 0, allowLowMaxReceiveCount: true }, 'maxReceiveCount', /from 1 to 1,000/],
  ['maxReceiveCount ≤ 1000', { maxReceiveCount: 1001 }, 'maxReceiveCount', /from 1 to 1,000/],
  ['removal policy RETAIN or DESTROY', { removalPolicy: RemovalPolicy.SNAPSHOT }, 'removalPolicy', /RETAIN or RemovalPolicy\.DESTROY/],
  ['claim prefix ends with /', { claimPrefix: 'claims' }, 'claimPrefix', /ending with '\/'/],
  ['claim prefix does not start with /', { claimPrefix: '/claims/' }, 'claimPrefix', /not starting with '\/'/],
  ['claim prefix has no wildcard', { claimPrefix: 'cl*aims/' }, 'claimPrefix', /safe characters/],
  [
    'claim objects outlive source + DLQ retention + 1 day',
    { claimObjectExpiration: Duration.days(18) },
    'claimObjectExpiration',
    /at least retentionPeriod \+ deadLetterRetentionPeriod \+ 1 day = 19 days/,
  ],
  ['claim expiration in whole days', { claimObjectExpiration: Duration.hours(500) }, 'claimObjectExpiration', /whole days/],
  ['abort multipart uploads after ≥ 1 whole day', { abortIncompleteMultipartUploadAfter: Duration.hours(12) }, 'abortIncompleteMultipartUploadAfter', /whole number of days, at least 1/],
  ['access-log prefix needs a bucket', { serverAccessLogsPrefix: 'logs/' }, 'serverAccessLogsPrefix', /requires serverAccessLogsBucket/],
  ['metrics namespace not AWS/', { metricsNamespace: 'AWS/Tasks' }, 'metricsNamespace', /must not start with 'AWS\/'/],
  ['metrics namespace valid characters', { metricsNamespace: 'task queue' }, 'metricsNamespace', /1–255 of/],
  ['alarm e-mail is an address', { alarmEmail: 'oncall' }, 'alarmEmail', /e-mail address/],
  ['alarm threshold ≥ 0', { alarmOptions: { queueDepth: { threshold: -1 } } }, 'alarmOptions.queueDepth.threshold', /finite number ≥ 0/],
  ['alarm period whole minutes', { alarmOptions: { consumerErrors: { period: Duration.seconds(30) } } }, 'alarmOptions.consumerErrors.period', /whole number of minutes/],
  ['alarm evaluation periods ≥ 1', { alarmOptions: { noConsumers: { evaluationPeriods: 0 } } }, 'alarmOptions.noConsumers.evaluationPeriods', /whole number ≥ 1/],
  [
    'alarm evaluation spans at most a day',
    { alarmOptions: { deadLetterQueueNotEmpty: { period: Duration.hours(1), evaluationPeriods: 25 } } },
    'alarmOptions.deadLetterQueueNotEmpty.evaluationPeriods',
    /must not exceed one day/,
  ],
  [
    'age alarm threshold whole seconds',
    { alarmOptions: { oldestMessageAge: { threshold: Duration.millis(1500) } } },
    'alarmOptions.oldestMessageAge.threshold',
    /whole number of seconds/,
  ],
];

describe('TaskQueue rejects invalid props', () => {
  it.each(rejected)('%s', (_rule, props, prop, pattern) => {
    let error: unknown;
    try {
      build(props);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(TaskQueueValidationError);
    const message = (error as Error).message;
    expect(message).toContain(`TaskQueue: invalid ${prop} (`);
    expect(message).toMatch(pattern);
    expect((error as TaskQueueValidationError).prop).toBe(prop);
  });

  it('names the value in the message', () => {
    expect(() => build({ maxReceiveCount: 3 })).toThrow('TaskQueue: invalid maxReceiveCount (3):');
    expect(() => build({ retentionPeriod: Duration.days(15) })).toThrow('TaskQueue: invalid retentionPeriod (15 days):');
    expect(() => build({ claimPrefix: 'claims' })).toThrow('TaskQueue: invalid claimPrefix ("claims"):');
  });

  it('two TaskQueues with outputs in one stack are rejected, naming the prop', () => {
    const stack = testStack();
    new TaskQueue(stack, 'A');
    expect(() => new TaskQueue(stack, 'B')).toThrow(/TaskQueue: invalid outputs \(true\) at TestStack\/B: .*set outputs: false/);
    expect(() => new TaskQueue(stack, 'C', { outputs: false })).not.toThrow();
  });
});

describe('TaskQueue accepts the boundary values', () => {
  it.each<[string, TaskQueueProps | ((stack: Stack) => TaskQueueProps)]>([
    ['visibility exactly 6 × timeout + window', { timeout: Duration.seconds(30), maxBatchingWindow: Duration.seconds(10), visibilityTimeout: Duration.seconds(190) }],
    ['maxReceiveCount 5', { maxReceiveCount: 5 }],
    ['maxReceiveCount 3 when explicitly allowed', { maxReceiveCount: 3, allowLowMaxReceiveCount: true }],
    ['claim expiration exactly 19 days', { claimObjectExpiration: Duration.days(19) }],
    ['DLQ retention one second longer', { retentionPeriod: Duration.days(13), deadLetterRetentionPeriod: Duration.seconds(13 * 86_400 + 1) }],
    ['batch size 10,000 with a 1 s window', { batchSize: 10_000, maxBatchingWindow: Duration.seconds(1) }],
    ['FIFO batch size 10', { fifo: true, batchSize: 10 }],
    ['max concurrency equal to reserved concurrency', { maxConcurrency: 10, reservedConcurrentExecutions: 10 }],
    ['max concurrency 2', { maxConcurrency: 2 }],
    ['max concurrency 1000', { maxConcurrency: 1000 }],
    ['nodejs24.x', { runtime: lambda.Runtime.NODEJS_24_X }],
    ['FIFO name without the suffix (appended)', { fifo: true, queueName: 'jobs', deadLetterQueueName: 'jobs-dlq' }],
    ['access-log prefix with a bucket', (stack) => ({ serverAccessLogsBucket: new s3.Bucket(stack, 'Logs'), serverAccessLogsPrefix: 'x/' })],
  ])('%s', (_name, props) => {
    expect(() => build(props)).not.toThrow();
  });

  it('appends .fifo to given FIFO names', () => {
    const tq = build({ fifo: true, queueName: 'jobs', deadLetterQueueName: 'jobs-dlq' });
    expect(tq.config.queueName).toBe('jobs.fifo');
    expect(tq.config.deadLetterQueueName).toBe('jobs-dlq.fifo');
  });
});
