/**
 * Deduplication and debounce on send, over the wire: a real TaskProducer (as the producer
 * role: its dedupe writes are evaluated against grantSend) writes the dedupe items in the task
 * table; consumers (several, concurrently) run what reaches the queue. Proves simple skips and
 * returns the first id, throttle allows one task per window, debounce runs once with the last
 * payload after the quiet window, and that a debounced task's status is read by its task id.
 */
import { describe, expect, it } from 'vitest';
import { TaskProducer } from '../../../lib/client/index.ts';
import { TaskValidationError } from '../../../lib/protocol/errors.ts';
import { createTestResources, testClients, type TestResources } from '../../support/aws.ts';
import { actingAs } from '../../support/iam/principals.ts';
import { consumer, receive, sleep } from '../runtime/helpers.ts';
import { drain } from './consumers.ts';

const clients = testClients();

function producer(r: TestResources, extra: Partial<ConstructorParameters<typeof TaskProducer>[0]> = {}) {
  return actingAs('producer', new TaskProducer({ queueUrl: r.queueUrl, sqs: clients.sqs, dynamo: clients.dynamo, tableName: r.tableName, ...extra }));
}

describe('dedupe on send', () => {
  it("simple: a second send within the TTL is skipped and returns the first task's id; after it, a new task", async () => {
    const r = await createTestResources(clients);
    let now = Date.now();
    const p = producer(r, { now: () => now });
    const first = await p.send('reindex', { doc: 'a', n: 1 }, { dedupe: { key: 'doc-a', ttlSeconds: 60 } });
    const second = await p.send('reindex', { doc: 'a', n: 2 }, { dedupe: { key: 'doc-a', ttlSeconds: 60 } });
    const other = await p.send('reindex', { doc: 'b' }, { dedupe: { key: 'doc-b', ttlSeconds: 60 } });
    expect(first.status).toBe('accepted');
    expect(second).toEqual({ taskId: first.taskId, idempotencyKey: first.taskId, status: 'deduplicated' });
    expect(other.status).toBe('accepted');
    now += 61_000;
    const later = await p.send('reindex', { doc: 'a', n: 3 }, { dedupe: { key: 'doc-a', ttlSeconds: 60 } });
    expect(later.status).toBe('accepted');
    expect(later.taskId).not.toBe(first.taskId);
    const bodies = (await receive(clients.sqs, r.queueUrl, 10, 1)).map((m) => JSON.parse(m.Body!).payload);
    expect(bodies).toHaveLength(3);
    expect(bodies).toEqual(expect.arrayContaining([{ doc: 'a', n: 1 }, { doc: 'b' }, { doc: 'a', n: 3 }]));
  });

  it('throttle: at most one task per key per window, concurrent senders included', async () => {
    const r = await createTestResources(clients);
    const windowMs = 3_600_000;
    const start = Math.floor(Date.now() / windowMs) * windowMs + 1000;
    let now = start;
    const p = producer(r, { now: () => now });
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => p.send('notify', { i }, { dedupe: { key: 'user-1', ttlSeconds: 3600, mode: 'throttle' } })));
    expect(results.filter((x) => x.status === 'accepted')).toHaveLength(1);
    expect(new Set(results.map((x) => x.taskId)).size).toBe(1);
    now = start + windowMs; // the next window
    expect((await p.send('notify', { i: 9 }, { dedupe: { key: 'user-1', ttlSeconds: 3600, mode: 'throttle' } })).status).toBe('accepted');
    expect(await receive(clients.sqs, r.queueUrl, 10, 1)).toHaveLength(2);
  });

  it('debounce: many sends, one run with the last payload once the key is quiet; status read by the task id; two consumers', async () => {
    const r = await createTestResources(clients, { visibilityTimeout: 30 });
    const p = producer(r);
    const runs: unknown[] = [];
    const definitions = { reindex: { handler: (payload: unknown) => void runs.push(payload) } };
    const a = consumer(r, clients, definitions);
    const b = consumer(r, clients, definitions);
    const sends = [];
    for (let n = 1; n <= 5; n++) {
      sends.push(await p.send('reindex', { doc: 'a', n }, { dedupe: { key: 'doc-a', ttlSeconds: 2, mode: 'debounce' } }));
      await sleep(300);
    }
    // One task: every send of the burst returns its id.
    expect(new Set(sends.map((s) => s.taskId)).size).toBe(1);
    const taskId = sends[0]!.taskId;
    expect((await actingAs('producer', p).getTaskStatus(taskId)).status).toBe('PENDING');
    // Until each of the five versions has been handled (one run, four superseded), with room for a
    // loaded machine: a quiet gap alone can end the drain while a version is still delayed.
    const superseded = () => [...a.captured.logs, ...b.captured.logs].filter((l) => l.message.startsWith('debounced task superseded'));
    await drain(clients.sqs, r, [a.handler, b.handler], { quietMs: 8000, maxMs: 60_000, done: () => runs.length >= 1 && superseded().length >= 4 });
    expect(runs).toEqual([{ doc: 'a', n: 5 }]);
    expect(superseded()).toHaveLength(4);
    expect((await p.getTaskStatus(taskId)).status).toBe('SUCCEEDED');
    expect(await receive(clients.sqs, r.deadLetterQueueUrl, 10, 1)).toHaveLength(0);
    // After the run, the next send is a new task.
    const next = await p.send('reindex', { doc: 'a', n: 6 }, { dedupe: { key: 'doc-a', ttlSeconds: 2, mode: 'debounce' } });
    expect(next.taskId).not.toBe(taskId);
  }, 40_000);

  it('refuses options it cannot honour, before anything is written or sent', async () => {
    const r = await createTestResources(clients);
    const p = producer(r);
    const code = async (f: () => Promise<unknown>) => f().then(() => 'sent', (e: unknown) => (e instanceof TaskValidationError ? `${e.code}: ${e.message}` : String(e)));
    expect(await code(() => p.send('t', {}, { dedupe: { key: 'k', ttlSeconds: 0 } }))).toBe('INVALID_DEDUPE: dedupe.ttlSeconds must be a whole number of seconds ≥ 1, got 0');
    expect(await code(() => p.send('t', {}, { dedupe: { key: 'k', ttlSeconds: 5, mode: 'later' as never } }))).toContain("INVALID_DEDUPE: dedupe.mode must be 'simple', 'throttle' or 'debounce'");
    expect(await code(() => p.send('t', {}, { dedupe: { key: 'k', ttlSeconds: 400_000, mode: 'debounce' } }))).toBe(
      "INVALID_DEDUPE: dedupe.ttlSeconds 400000 (debounce window) must be shorter than the queue's retention (345600 s): the delayed task would expire before it runs",
    );
    expect(await code(() => p.send('t', {}, { dedupe: { key: 'k', ttlSeconds: 5, mode: 'debounce' }, delaySeconds: 3 }))).toContain('give no delaySeconds');
    expect(await code(() => producer(r, { tableName: undefined as never }).send('t', {}, { dedupe: { key: 'k', ttlSeconds: 5 } }))).toContain('dedupe needs the task table');
    const batch = await p.sendBatch([{ type: 't', payload: {}, dedupe: { key: 'k', ttlSeconds: 5 } }]);
    expect(batch[0]).toMatchObject({ ok: false, error: { code: 'INVALID_DEDUPE' } });
    expect(await receive(clients.sqs, r.queueUrl, 10, 1)).toHaveLength(0);
  });
});
