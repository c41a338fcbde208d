/**
 * Synth-time rules of `lanes` and `fanOut`: each bad configuration is rejected with a
 * TaskQueueValidationError naming the prop (`lanes.<name>.<field>`), the value and the rule;
 * the boundary that is allowed is accepted.
 */
import { Duration } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import type { TaskQueueProps } from '../../lib/infra/props.ts';
import { TaskQueue } from '../../lib/infra/task-queue.ts';
import { TaskQueueValidationError } from '../../lib/infra/validation.ts';
import { testStack } from './helpers.ts';

function build(props: TaskQueueProps): TaskQueue {
  return new TaskQueue(testStack(), 'Tasks', props);
}

function rejection(props: TaskQueueProps): TaskQueueValidationError {
  try {
    build(props);
  } catch (error) {
    expect(error).toBeInstanceOf(TaskQueueValidationError);
    return error as TaskQueueValidationError;
  }
  throw new Error('expected a TaskQueueValidationError, nothing was thrown');
}

describe('lanes: synth-time validation', () => {
  it('a type in two lanes', () => {
    const error = rejection({ lanes: { a: { types: ['email', 'sms'] }, b: { types: ['push', 'sms'] } } });
    expect(error.prop).toBe('lanes.b.types');
    expect(error.message).toBe('TaskQueue: invalid lanes.b.types ("sms"): type "sms" is already in lane "a": a type runs in exactly one lane');
  });

  it('an empty lane', () => {
    const error = rejection({ lanes: { idle: { types: [] } } });
    expect(error.prop).toBe('lanes.idle.types');
    expect(error.message).toMatch(/^TaskQueue: invalid lanes\.idle\.types \(\): a lane needs at least one task type/);
  });

  it.each([['Bulk'], ['bulk_lane'], ['-bulk'], ['bulk-'], ['a'.repeat(25)], ['9lives']])('an invalid lane name: %s', (name) => {
    const error = rejection({ lanes: { [name]: { types: ['x'] } } });
    expect(error.prop).toBe(`lanes.${name}`);
    expect(error.message).toContain(`(${JSON.stringify(name)}): a lane name is 1–24 lower-case letters, digits and single hyphens`);
  });

  it('the reserved name "default"', () => {
    const error = rejection({ lanes: { default: { types: ['x'] } } });
    expect(error.prop).toBe('lanes.default');
    expect(error.message).toContain('configure it with the top-level props');
  });

  it('maxConcurrency above the lane\'s reservedConcurrency', () => {
    const error = rejection({ lanes: { bulk: { types: ['x'], reservedConcurrency: 4, maxConcurrency: 5 } } });
    expect(error.prop).toBe('lanes.bulk.maxConcurrency');
    expect(error.message).toBe(
      "TaskQueue: invalid lanes.bulk.maxConcurrency (5): must not exceed the lane's reservedConcurrency (4): the event source would be throttled by the lane's own function",
    );
  });

  it('maxConcurrency below the event source minimum of 2', () => {
    const error = rejection({ lanes: { bulk: { types: ['x'], maxConcurrency: 1 } } });
    expect(error.prop).toBe('lanes.bulk.maxConcurrency');
    expect(error.message).toContain("(1): the SQS event source's maximum concurrency is at least 2");
  });

  it('a FIFO lane with a batching window', () => {
    const error = rejection({ fifo: true, lanes: { bulk: { types: ['x'], maxBatchingWindow: Duration.seconds(5) } } });
    expect(error.prop).toBe('lanes.bulk.maxBatchingWindow');
    expect(error.message).toContain('(5 seconds): a batching window is not supported for FIFO queues');
  });

  it('a lane setting breaking a construct rule is reported under the lane prop (batch size > 10 without a window)', () => {
    const error = rejection({ lanes: { bulk: { types: ['x'], batchSize: 100 } } });
    expect(error.prop).toBe('lanes.bulk.batchSize');
    expect(error.message).toContain('(100): a batch size above 10 requires maxBatchingWindow of at least 1 second');
  });

  it('a lane memory size out of range', () => {
    expect(rejection({ lanes: { big: { types: ['x'], memorySize: 64 } } }).prop).toBe('lanes.big.memorySize');
  });

  it('a fan-out target in no lane', () => {
    const error = rejection({ lanes: { bulk: { types: ['send_receipt'] } }, fanOut: { order_placed: ['send_receipt', 'update_analytics'] } });
    expect(error.prop).toBe('fanOut.order_placed');
    expect(error.message).toContain('("update_analytics"): targets must be task types of some lane');
  });

  it('a fan-out event with no targets, or a target twice', () => {
    expect(rejection({ lanes: { bulk: { types: ['a'] } }, fanOut: { e: [] } }).prop).toBe('fanOut.e');
    expect(rejection({ lanes: { bulk: { types: ['a'] } }, fanOut: { e: ['a', 'a'] } }).message).toContain('each target type appears once');
  });

  it('accepts the boundaries: maxConcurrency equal to reservedConcurrency, maxConcurrency 2, a 24-character hyphenated name, FIFO lanes without windows', () => {
    expect(() => build({ lanes: { bulk: { types: ['x'], reservedConcurrency: 5, maxConcurrency: 5 } } })).not.toThrow();
    expect(() => build({ lanes: { bulk: { types: ['x'], maxConcurrency: 2 } } })).not.toThrow();
    expect(() => build({ lanes: { [`a-${'b'.repeat(22)}`]: { types: ['x'] } } })).not.toThrow();
    expect(() => build({ fifo: true, lanes: { bulk: { types: ['x'], batchSize: 10 } } })).not.toThrow();
  });
});
