/**
 * Concurrency limits over the wire: four consumers drain one queue while lease-based slots in
 * the task table (DynamoDB Local) let at most `max` handlers of a key run at once. Proves the
 * limit holds across consumers (observed handler overlap), that keys are independent, that
 * refused tasks use no attempt, and that a slot whose holder never released it (a crashed
 * consumer) frees itself when the holder's invocation lease ends.
 */
import { describe, expect, it } from 'vitest';
import { createTestResources, testClients } from '../../support/aws.ts';
import { consumer, envelope, fakeContext, invokeLikeLambda, receive, receiveEvent, sendTask, sleep, taskRecord } from '../runtime/helpers.ts';
import { drain } from './consumers.ts';

const clients = testClients();

/** Tracks how many handlers of each key run at once. */
function overlap() {
  const running = new Map<string, number>();
  const peak = new Map<string, number>();
  let all = 0;
  let peakAll = 0;
  return {
    peak,
    peakAll: () => peakAll,
    async run(key: string, ms: number) {
      running.set(key, (running.get(key) ?? 0) + 1);
      all++;
      peak.set(key, Math.max(peak.get(key) ?? 0, running.get(key)!));
      peakAll = Math.max(peakAll, all);
      await sleep(ms);
      running.set(key, running.get(key)! - 1);
      all--;
    },
  };
}

describe('concurrency limit (lease-based slots in the task table), four consumers', () => {
  it('never runs more than max handlers of a key at once; keys are independent; refusals use no attempt', async () => {
    const r = await createTestResources(clients, { visibilityTimeout: 30, maxReceiveCount: 50 });
    const seen = overlap();
    const attempts: number[] = [];
    const definitions = {
      export_report: {
        concurrency: { max: 2, key: (p: { account: string }) => p.account },
        handler: async (p: { account: string }, ctx: { attempt: number }) => {
          attempts.push(ctx.attempt);
          await seen.run(p.account, 400);
        },
      },
    };
    const cs = Array.from({ length: 4 }, () => consumer(r, clients, definitions, { maxReceiveCount: 50, backoff: { baseSeconds: 1, capSeconds: 2, jitter: 'none' } }));
    const handlers = cs.map((c) => c.handler);
    const ids: string[] = [];
    for (let i = 0; i < 24; i++) {
      const e = envelope('export_report', { account: i % 2 === 0 ? 'a' : 'b' });
      ids.push(e.id);
      await sendTask(clients.sqs, r.queueUrl, e);
    }
    await drain(clients.sqs, r, handlers, { done: () => attempts.length >= 24, maxMs: 90_000, batchSize: 5 });
    expect(attempts).toHaveLength(24);
    expect(new Set(attempts)).toEqual(new Set([1]));
    expect(seen.peak.get('a')).toBe(2);
    expect(seen.peak.get('b')).toBe(2);
    // Both keys ran at the same time: the limit is per key, not per type.
    expect(seen.peakAll()).toBeGreaterThan(2);
    for (const id of ids) expect(await taskRecord(clients.dynamo, r.tableName, id)).toMatchObject({ status: 'SUCCEEDED', attempts: 1 });
    expect(await receive(clients.sqs, r.deadLetterQueueUrl, 10, 1)).toHaveLength(0);
  }, 120_000);

  it("a crashed holder's slot frees itself when its invocation lease ends", async () => {
    const r = await createTestResources(clients, { visibilityTimeout: 30, maxReceiveCount: 50 });
    // The crashed consumer: its release never reaches the table (as if the process died after the handler).
    const crashed = testClients();
    crashed.dynamo.middlewareStack.add(
      (next: (args: any) => Promise<any>) => async (args: any) => {
        if (String(args.input.UpdateExpression ?? '').startsWith('REMOVE holders')) throw new Error('consumer crashed before releasing its slot');
        return next(args);
      },
      { step: 'initialize', name: 'crash-before-release' } as never,
    );
    const runs: string[] = [];
    const definitions = { singleton: { concurrency: { max: 1 }, handler: (p: { n: string }) => void runs.push(p.n) } };
    const a = consumer(r, crashed, definitions, { leaseMarginMs: 0 });
    const b = consumer(r, clients, definitions, { leaseMarginMs: 0, backoff: { baseSeconds: 1, capSeconds: 1, jitter: 'none' } });

    await sendTask(clients.sqs, r.queueUrl, envelope('singleton', { n: 'first' }));
    const leaseEnds = Date.now() + 6000;
    await invokeLikeLambda(clients.sqs, r.queueUrl, a.handler, await receiveEvent(clients.sqs, r), fakeContext(6000));
    expect(runs).toEqual(['first']);
    expect(a.captured.text()).toContain('concurrency slot not released');

    await sendTask(clients.sqs, r.queueUrl, envelope('singleton', { n: 'second' }));
    // While the crashed holder's lease lasts, the second task is refused (no attempt) and comes back: a fresh
    // copy is re-sent (refusals use no receives) and the refused record acknowledged.
    const refused = await invokeLikeLambda(clients.sqs, r.queueUrl, b.handler, await receiveEvent(clients.sqs, r));
    expect(refused.batchItemFailures).toEqual([]);
    expect(runs).toEqual(['first']);
    expect(b.captured.text()).toContain('concurrency limit 1 reached');
    // After it, the slot is free again.
    await sleep(Math.max(0, leaseEnds - Date.now()) + 200);
    await drain(clients.sqs, r, [b.handler], { done: () => runs.length >= 2, maxMs: 20_000 });
    expect(runs).toEqual(['first', 'second']);
    const ran = b.captured.logs.find((l) => l.message === 'task succeeded');
    expect(ran).toBeDefined();
    expect(Date.now()).toBeGreaterThan(leaseEnds);
  }, 60_000);

  it('a handler that overran its timeout frees its slot when it stops, not at its lease end', async () => {
    const r = await createTestResources(clients, { visibilityTimeout: 30 });
    const runs: string[] = [];
    const definitions = {
      singleton: {
        concurrency: { max: 1 },
        timeoutMs: 200,
        // The first overruns its timeout and stops when its signal aborts, as a well-behaved handler does.
        handler: async (p: { n: string }, ctx: { signal: AbortSignal }) => {
          runs.push(p.n);
          if (p.n === 'slow') await new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => setTimeout(resolve, 100)));
        },
      },
    };
    const c = consumer(r, clients, definitions);
    await sendTask(clients.sqs, r.queueUrl, envelope('singleton', { n: 'slow' }));
    // A long invocation: its slot's lease would last ten minutes.
    const timedOut = await invokeLikeLambda(clients.sqs, r.queueUrl, c.handler, await receiveEvent(clients.sqs, r), fakeContext(600_000));
    expect(timedOut.batchItemFailures).toHaveLength(1);
    expect(c.captured.text()).toContain('timed out after 200 ms');
    await sendTask(clients.sqs, r.queueUrl, envelope('singleton', { n: 'next' }));
    const next = (await receiveEvent(clients.sqs, r, 10, 2)).Records.filter((rec) => JSON.parse(rec.body).payload?.n === 'next');
    const response = await invokeLikeLambda(clients.sqs, r.queueUrl, c.handler, { Records: next }, fakeContext(600_000));
    expect(response.batchItemFailures).toEqual([]);
    expect(runs).toEqual(['slow', 'next']);
    expect(c.captured.text()).not.toContain('concurrency limit 1 reached');
  }, 30_000);

  it('with releases, a slot is free as soon as its handler has finished', async () => {
    const r = await createTestResources(clients, { visibilityTimeout: 30 });
    const runs: string[] = [];
    const definitions = { singleton: { concurrency: { max: 1 }, handler: (p: { n: string }) => void runs.push(p.n) } };
    const c = consumer(r, clients, definitions);
    await sendTask(clients.sqs, r.queueUrl, envelope('singleton', { n: 'first' }));
    await invokeLikeLambda(clients.sqs, r.queueUrl, c.handler, await receiveEvent(clients.sqs, r), fakeContext(600_000));
    await sendTask(clients.sqs, r.queueUrl, envelope('singleton', { n: 'second' }));
    const response = await invokeLikeLambda(clients.sqs, r.queueUrl, c.handler, await receiveEvent(clients.sqs, r), fakeContext(600_000));
    expect(response.batchItemFailures).toEqual([]);
    expect(runs).toEqual(['first', 'second']);
  }, 30_000);
});
