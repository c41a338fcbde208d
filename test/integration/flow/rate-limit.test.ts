/**
 * Rate limits over the wire: four consumers drain one queue while a GCRA bucket in the task
 * table (DynamoDB Local) admits the tasks. Proves the limit is never exceeded across
 * consumers, that the achieved rate is close to it, that per-key buckets are independent,
 * and that refused tasks use no attempt and never reach the DLQ.
 */
import { describe, expect, it } from 'vitest';
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { createTestResources, testClients } from '../../support/aws.ts';
import { asTestHarness } from '../../support/iam/principals.ts';
import { consumer, envelope, receive, sendTask, sleep, spy, taskRecord } from '../runtime/helpers.ts';
import { RateLimiter } from '../../../lib/runtime/flow/rate-limiter.ts';
import { asPrincipal } from '../../support/iam/principals.ts';
import { drain } from './consumers.ts';

const clients = testClients();

/** The most starts seen in any window of `windowMs` (sliding over the start times). */
function peakInWindow(starts: number[], windowMs: number): number {
  const sorted = [...starts].sort((a, b) => a - b);
  let peak = 0;
  for (let i = 0, j = 0; i < sorted.length; i++) {
    while (sorted[i]! - sorted[j]! >= windowMs) j++;
    peak = Math.max(peak, i - j + 1);
  }
  return peak;
}

describe('rate limit (GCRA in the task table), four consumers', () => {
  it('never starts more than burst + perSecond · t in any window t, achieves at least 80 % of it over a short run, uses no attempt and dead-letters nothing', async () => {
    const r = await createTestResources(clients, { visibilityTimeout: 30, maxReceiveCount: 50 });
    const perSecond = 4;
    const tasks = 48;
    const starts: number[] = [];
    const attempts: number[] = [];
    const definitions = {
      call_api: {
        rateLimit: { perSecond, burst: 1, maxHoldMs: 3000 },
        handler: (_p: unknown, ctx: { attempt: number }) => {
          starts.push(Date.now());
          attempts.push(ctx.attempt);
        },
      },
    };
    const dynamoCalls = spy(clients.dynamo);
    const handlers = Array.from({ length: 4 }, () => consumer(r, clients, definitions, { maxReceiveCount: 50, backoff: { baseSeconds: 1, capSeconds: 4, jitter: 'none' } }).handler);
    const ids: string[] = [];
    for (let i = 0; i < tasks; i++) {
      const e = envelope('call_api', { n: i });
      ids.push(e.id);
      await sendTask(clients.sqs, r.queueUrl, e);
    }
    await drain(clients.sqs, r, handlers, { done: () => starts.length >= tasks, maxMs: 60_000, quietMs: 10_000 });
    const sorted = [...starts].sort((a, b) => a - b);

    expect(starts).toHaveLength(tasks);
    expect(new Set(attempts)).toEqual(new Set([1])); // refusals used no attempt
    // The bound: with burst 1, admissions are at least 1/perSecond apart across all consumers. A handler
    // starts when its admission comes, plus the timer's lateness on a loaded machine (hundreds of ms with
    // five test runs on two cores), which can bring two starts closer: one late start is allowed for.
    expect(peakInWindow(starts, 1000)).toBeLessThanOrEqual(perSecond + 2);
    expect(peakInWindow(starts, 3000)).toBeLessThanOrEqual(3 * perSecond + 2);
    // Accuracy over this short run (the first seconds, while the first batches are refused and come
    // back, are irregular; the benchmark measures a full minute, where the 10 % bound applies).
    const achieved = ((tasks - 1) * 1000) / (sorted.at(-1)! - sorted[0]!);
    expect(achieved).toBeLessThanOrEqual(perSecond * 1.05);
    expect(achieved).toBeGreaterThanOrEqual(perSecond * 0.8);
    // Every task SUCCEEDED with one attempt; none in the DLQ.
    for (const id of ids) expect(await taskRecord(clients.dynamo, r.tableName, id)).toMatchObject({ status: 'SUCCEEDED', attempts: 1 });
    expect(await receive(clients.sqs, r.deadLetterQueueUrl, 10, 1)).toHaveLength(0);
    // Cost: one conditional write per admitted task, plus one per refusal the last seen tat did not decide
    // (bench/flow-control.ts reports the figure per task).
    const bucketWrites = dynamoCalls.filter((c) => c.name === 'UpdateItemCommand' && String(c.input.Key.pk.S).startsWith('\u001fflow:rate:'));
    expect(bucketWrites.length).toBeGreaterThanOrEqual(tasks);
  }, 90_000);

  it('a bucket idle for less than a second admits at once (a tat just read and already past means idle, not contended)', async () => {
    const r = await createTestResources(clients, { visibilityTimeout: 30 });
    const limiter = new RateLimiter(clients.dynamo, r.tableName, { now: () => Date.now() });
    const key = '\u001fflow:rate:idle_test:';
    const first = await asPrincipal('consumer', () => limiter.take(key, 10, 1, 0));
    expect(first.admitted).toBe(true);
    // Another container takes a token meanwhile: this one's view is stale, and the bucket goes idle within the second.
    const other = new RateLimiter(clients.dynamo, r.tableName, { now: () => Date.now() });
    await sleep(150);
    expect((await asPrincipal('consumer', () => other.take(key, 10, 1, 0))).admitted).toBe(true);
    await sleep(300);
    const again = await asPrincipal('consumer', () => limiter.take(key, 10, 1, 0));
    expect(again.admitted).toBe(true);
    expect(again.writes).toBeLessThanOrEqual(2);
  }, 30_000);

  it('keys have their own buckets: a key over its limit does not hold back another key', async () => {
    const r = await createTestResources(clients, { visibilityTimeout: 30, maxReceiveCount: 50 });
    const starts: Record<string, number[]> = { busy: [], quiet: [] };
    const definitions = {
      per_tenant: {
        rateLimit: { perSecond: 2, burst: 2, key: (p: { tenant: string }) => p.tenant },
        handler: (p: { tenant: string }) => void starts[p.tenant]!.push(Date.now()),
      },
    };
    const handlers = Array.from({ length: 3 }, () => consumer(r, clients, definitions, { maxReceiveCount: 50 }).handler);
    for (let i = 0; i < 12; i++) await sendTask(clients.sqs, r.queueUrl, envelope('per_tenant', { tenant: 'busy' }));
    for (let i = 0; i < 2; i++) await sendTask(clients.sqs, r.queueUrl, envelope('per_tenant', { tenant: 'quiet' }));
    const t0 = Date.now();
    await drain(clients.sqs, r, handlers, { done: () => starts.busy!.length + starts.quiet!.length >= 14, maxMs: 40_000 });
    // The quiet key's burst of 2 runs at once, whatever the busy key is doing.
    expect(starts.quiet).toHaveLength(2);
    expect(Math.max(...starts.quiet!) - t0).toBeLessThan(2500);
    // The busy key: 2 at once, then 2/s — 12 tasks take at least (12 − 2) / 2 = 5 s.
    expect(starts.busy).toHaveLength(12);
    expect(Math.max(...starts.busy!) - Math.min(...starts.busy!)).toBeGreaterThanOrEqual(4900);
    const items = await asTestHarness(() => clients.dynamo.send(new ScanCommand({ TableName: r.tableName, ConsistentRead: true })));
    const buckets = (items.Items ?? []).map((i) => i.pk!.S!).filter((pk) => pk.startsWith('\u001fflow:rate:'));
    expect(buckets.sort()).toEqual(['\u001fflow:rate:per_tenant:busy', '\u001fflow:rate:per_tenant:quiet']);
  }, 60_000);
});
