/**
 * Bad-input catalogue, CDK side: a TaskQueue configuration that would deploy a broken or
 * unsafe system fails at construct creation (so `cdk synth` fails) with a
 * TaskQueueValidationError naming the prop, its value and the rule. The complete rule set,
 * with the boundary values that are accepted, is in test/infra/validation.test.ts; these are
 * the cases the bad-input catalogue (issue 6) asks for, plus the handler-response rule of the
 * local event source mapping.
 */
import { Duration, Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { describe, expect, it } from 'vitest';
import type { TaskQueueProps } from '../../lib/infra/props.ts';
import { TaskQueue } from '../../lib/infra/task-queue.ts';
import { TaskQueueValidationError } from '../../lib/infra/validation.ts';
import { interpretBatchResponse } from '../../lib/local/event-source-poller.ts';
import { testStack } from '../infra/helpers.ts';

/** [case, props, prop named, rule text] */
const invalid: [string, TaskQueueProps, string, RegExp][] = [
  ['visibility timeout below 6 × function timeout', { timeout: Duration.seconds(60), visibilityTimeout: Duration.seconds(300) }, 'visibilityTimeout', /at least 6 × timeout \+ maxBatchingWindow = 360 seconds/],
  ['maxReceiveCount below 5', { maxReceiveCount: 4 }, 'maxReceiveCount', /must be at least 5/],
  ['DLQ retention equal to source retention', { retentionPeriod: Duration.days(7), deadLetterRetentionPeriod: Duration.days(7) }, 'deadLetterRetentionPeriod', /strictly longer than retentionPeriod/],
  ['DLQ retention shorter than source retention', { retentionPeriod: Duration.days(7), deadLetterRetentionPeriod: Duration.days(3) }, 'deadLetterRetentionPeriod', /strictly longer than retentionPeriod/],
  ['claim-object lifecycle shorter than retention + DLQ retention', { claimObjectExpiration: Duration.days(7) }, 'claimObjectExpiration', /at least retentionPeriod \+ deadLetterRetentionPeriod \+ 1 day/],
  ['maximum concurrency above reserved concurrency', { reservedConcurrentExecutions: 5, maxConcurrency: 6 }, 'maxConcurrency', /must not exceed reservedConcurrentExecutions \(5\)/],
  ['batch size above 10 without a batching window', { batchSize: 100 }, 'batchSize', /requires maxBatchingWindow of at least 1 second/],
  ['FIFO batch size above 10', { fifo: true, batchSize: 20 }, 'batchSize', /FIFO event sources take 1 to 10/],
  ['unsupported runtime (deprecated Node.js 20)', { runtime: lambda.Runtime.NODEJS_20_X }, 'runtime', /must be one of nodejs22\.x, nodejs24\.x/],
  ['claim prefix that would widen the IAM grant', { claimPrefix: '*' }, 'claimPrefix', /safe characters ending with '\/'/],
];

describe('catalogue: invalid TaskQueue props fail synth, naming the prop', () => {
  it.each(invalid)('%s → invalid %s', (_case, props, prop, rule) => {
    const stack: Stack = testStack();
    let error: unknown;
    try {
      new TaskQueue(stack, 'Tasks', props);
    } catch (e) {
      error = e;
    }
    expect(error, 'construct creation must fail').toBeInstanceOf(TaskQueueValidationError);
    const e = error as TaskQueueValidationError;
    expect(e.prop).toBe(prop);
    expect(e.message).toMatch(new RegExp(`^TaskQueue: invalid ${prop.replace('.', '\\.')} \\(`));
    expect(e.message).toMatch(rule);
    // Nothing half-built is left in the stack for a synth to pick up.
    expect(stack.node.tryFindChild('Tasks')?.node.findAll().length ?? 0).toBeLessThanOrEqual(1);
  });
});

describe('catalogue: a handler response naming an identifier outside the batch', () => {
  const batch = [{ messageId: 'm-1' }, { messageId: 'm-2' }];

  it('the local event source mapping fails the whole batch (as Lambda does), naming the identifier', () => {
    const verdict = interpretBatchResponse({ batchItemFailures: [{ itemIdentifier: 'm-1' }, { itemIdentifier: 'not-in-this-batch' }] }, batch);
    expect(verdict).toEqual({ valid: false, reason: expect.stringMatching(/"not-in-this-batch" is not a messageId of this batch/) });
  });

  it('the same response with identifiers of the batch only is a partial failure of exactly those', () => {
    expect(interpretBatchResponse({ batchItemFailures: [{ itemIdentifier: 'm-2' }] }, batch)).toEqual({ valid: true, failedIds: ['m-2'] });
  });
});
