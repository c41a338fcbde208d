/**
 * Flow-control configuration that could never work is refused where it is declared — a
 * contract (defineContract) or a task definition (defineTasks) — with the option, the value
 * and the rule in the message.
 */
import { describe, expect, it } from 'vitest';
import { defineContract } from '../../../lib/protocol/contract.ts';
import { defineTasks } from '../../../lib/runtime/define-tasks.ts';

const schema = { '~standard': { version: 1, vendor: 'test', validate: (value: unknown) => ({ value }) } } as const;
const handler = () => undefined;

describe('rate limits', () => {
  it('a rate of zero is refused by defineContract and by defineTasks', () => {
    expect(() => defineContract('pay', schema, { rateLimit: { perSecond: 0 } })).toThrow(
      'defineContract("pay"): rateLimit.perSecond must be a number > 0 (a rate of zero would never run a task), got 0',
    );
    expect(() => defineTasks({ pay: { handler, rateLimit: { perSecond: 0 } } }, { tableName: 't' })).toThrow('task type pay: rateLimit.perSecond must be a number > 0');
    expect(() => defineTasks({ pay: { handler, rateLimit: { perSecond: -2 } } }, { tableName: 't' })).toThrow('got -2');
  });

  it('a burst below one is refused', () => {
    expect(() => defineContract('pay', schema, { rateLimit: { perSecond: 5, burst: 0.5 } })).toThrow(
      'defineContract("pay"): rateLimit.burst must be a number ≥ 1 (a bucket holding less than one token admits nothing), got 0.5',
    );
    expect(() => defineTasks({ pay: { handler, rateLimit: { perSecond: 5, burst: 0 } } }, { tableName: 't' })).toThrow('task type pay: rateLimit.burst must be a number ≥ 1');
  });

  it('a negative hold and a key that is not a function are refused', () => {
    expect(() => defineTasks({ pay: { handler, rateLimit: { perSecond: 5, maxHoldMs: -1 } } }, { tableName: 't' })).toThrow('rateLimit.maxHoldMs must be a number ≥ 0, got -1');
    expect(() => defineTasks({ pay: { handler, rateLimit: { perSecond: 5, key: 'tenant' as never } } }, { tableName: 't' })).toThrow('rateLimit.key must be a function');
  });

  it('needs the task table', () => {
    expect(() => defineTasks({ pay: { handler, rateLimit: { perSecond: 5 } } }, {})).toThrow('task type pay: rateLimit and concurrency need the task table (tableName or TASKQ_TABLE_NAME)');
  });

  it("a contract's limits apply unless the definition sets its own", () => {
    const Pay = defineContract('pay', schema, { rateLimit: { perSecond: 5 }, concurrency: { max: 3 } });
    const h = defineTasks({ pay: { contract: Pay, handler, concurrency: { max: 1 } } }, { tableName: 't' });
    const def = (h.processor as unknown as { deps: { tasks: Record<string, { rateLimit?: unknown; concurrency?: unknown }> } }).deps.tasks.pay!;
    expect(def.rateLimit).toEqual({ perSecond: 5 });
    expect(def.concurrency).toEqual({ max: 1 });
  });
});

describe('concurrency limits', () => {
  it('max must be an integer from 1 to 100', () => {
    expect(() => defineContract('pay', schema, { concurrency: { max: 0 } })).toThrow('defineContract("pay"): concurrency.max must be an integer from 1 to 100, got 0');
    expect(() => defineTasks({ pay: { handler, concurrency: { max: 1.5 } } }, { tableName: 't' })).toThrow('task type pay: concurrency.max must be an integer from 1 to 100, got 1.5');
    expect(() => defineTasks({ pay: { handler, concurrency: { max: 101 } } }, { tableName: 't' })).toThrow('got 101');
  });

  it('a concurrency limit on a FIFO queue, whose message groups already serialise, is refused', () => {
    expect(() => defineTasks({ pay: { handler, concurrency: { max: 1, key: (p: { account: string }) => p.account } } }, { tableName: 't', fifo: true })).toThrow(
      'task type pay: concurrency (max 1) is not allowed on a FIFO queue: its message groups already run one task at a time per group (use the group id as the key)',
    );
    expect(() => defineTasks({ pay: { handler, concurrency: { max: 1 } } }, { tableName: 't', fifo: false })).not.toThrow();
  });
});
