/**
 * SQS fair queues as local mode reproduces them in front of fauxqs (lib/local/fair-queues.ts),
 * over the wire: a standard queue keeps each message's MessageGroupId and returns it, and a
 * tenant holding more than 10 % and at least 30 of the queue's in-flight messages is served
 * after the quiet tenants until its backlog drains (or it is silent for five minutes). Without fair-queue emulation fauxqs drops the group and serves in
 * arrival order, which these tests would catch.
 */
import { describe, expect, it } from 'vitest';
import { CreateQueueCommand, DeleteMessageCommand, ReceiveMessageCommand, SendMessageBatchCommand, SendMessageCommand, type Message } from '@aws-sdk/client-sqs';
import { testClients, uniqueName } from '../../support/aws.ts';
import { NOISY_SILENCE_MS, fairOrder, newTenantState, noisyTenants } from '../../../lib/local/fair-queues.ts';

const { sqs } = testClients();

async function queue(): Promise<string> {
  return (await sqs.send(new CreateQueueCommand({ QueueName: uniqueName('fair'), Attributes: { VisibilityTimeout: '60' } }))).QueueUrl!;
}

async function flood(queueUrl: string, group: string | undefined, n: number): Promise<void> {
  for (let i = 0; i < n; i += 10) {
    const entries = Array.from({ length: Math.min(10, n - i) }, (_, k) => ({ Id: String(k), MessageBody: `${group ?? 'none'}-${i + k}`, ...(group ? { MessageGroupId: group } : {}) }));
    await sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries }));
  }
}

async function receive(queueUrl: string, n: number): Promise<Message[]> {
  const out: Message[] = [];
  while (out.length < n) {
    const r = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: Math.min(10, n - out.length), WaitTimeSeconds: 1, MessageSystemAttributeNames: ['All'] }));
    if (!r.Messages?.length) break;
    out.push(...r.Messages);
  }
  return out;
}

describe('fair queues in local mode (standard queues)', () => {
  it('keeps and returns the MessageGroupId a standard-queue message was sent with', async () => {
    const q = await queue();
    await sqs.send(new SendMessageCommand({ QueueUrl: q, MessageBody: 'a', MessageGroupId: 'tenant-a' }));
    await sqs.send(new SendMessageBatchCommand({ QueueUrl: q, Entries: [{ Id: '0', MessageBody: 'b', MessageGroupId: 'tenant-b' }, { Id: '1', MessageBody: 'c' }] }));
    const got = await receive(q, 3);
    expect(Object.fromEntries(got.map((m) => [m.Body, m.Attributes?.MessageGroupId]))).toEqual({ a: 'tenant-a', b: 'tenant-b', c: undefined });
  });

  it('a tenant with 30+ messages in flight is served after a quiet tenant’s newer messages; without groups, arrival order', async () => {
    const q = await queue();
    await flood(q, 'noisy', 60);
    // 40 of the noisy tenant's messages in flight: more than 10 % of the in-flight messages, and at least 30.
    expect(await receive(q, 40)).toHaveLength(40);
    await sqs.send(new SendMessageCommand({ QueueUrl: q, MessageBody: 'quiet-1', MessageGroupId: 'quiet' }));
    await sqs.send(new SendMessageCommand({ QueueUrl: q, MessageBody: 'ungrouped-1' }));
    const next = await receive(q, 10);
    expect(next.slice(0, 2).map((m) => m.Body)).toEqual(['quiet-1', 'ungrouped-1']);
    expect(next.slice(2).every((m) => m.Attributes?.MessageGroupId === 'noisy')).toBe(true);

    // The same traffic without group ids: the quiet message waits behind the flood.
    const plain = await queue();
    await flood(plain, undefined, 60);
    expect(await receive(plain, 40)).toHaveLength(40);
    await sqs.send(new SendMessageCommand({ QueueUrl: plain, MessageBody: 'quiet-1' }));
    const behind = await receive(plain, 10);
    expect(behind.map((m) => m.Body)).not.toContain('quiet-1');
  });

  it('a noisy tenant stays noisy while it has a backlog, even when its in-flight count drops below 30; once drained it is quiet again', async () => {
    const q = await queue();
    await flood(q, 'noisy', 60);
    const inflight = await receive(q, 40);
    expect(inflight).toHaveLength(40);
    // Its consumers finish 35 of them: 5 in flight, 20 still waiting (the backlog).
    await Promise.all(inflight.slice(0, 35).map((m) => sqs.send(new DeleteMessageCommand({ QueueUrl: q, ReceiptHandle: m.ReceiptHandle! }))));
    await sqs.send(new SendMessageCommand({ QueueUrl: q, MessageBody: 'quiet-1', MessageGroupId: 'quiet' }));
    const next = await receive(q, 10);
    expect(next[0]?.Body).toBe('quiet-1');
    // Its backlog drained (the last 11 handed out), the tenant is quiet again: its next message is served in arrival order.
    expect(await receive(q, 11)).toHaveLength(11);
    await sqs.send(new SendMessageCommand({ QueueUrl: q, MessageBody: 'noisy-late', MessageGroupId: 'noisy' }));
    await sqs.send(new SendMessageCommand({ QueueUrl: q, MessageBody: 'quiet-2', MessageGroupId: 'quiet' }));
    expect((await receive(q, 2)).map((m) => m.Body)).toEqual(['noisy-late', 'quiet-2']);
  });

  it('below 30 in flight a tenant is not noisy: arrival order is kept', async () => {
    const q = await queue();
    await flood(q, 'busy', 40);
    expect(await receive(q, 20)).toHaveLength(20);
    await sqs.send(new SendMessageCommand({ QueueUrl: q, MessageBody: 'quiet-1', MessageGroupId: 'quiet' }));
    const next = await receive(q, 10);
    expect(next.map((m) => m.Body)).not.toContain('quiet-1');
  });
});

describe('fairOrder (the receive order)', () => {
  const m = (id: string, group?: string) => ({ messageId: id, messageAttributes: {}, ...(group ? { messageGroupId: group } : {}) });
  it('serves quiet tenants first, then noisy ones by fewest in flight, counting what this receive hands out', () => {
    const ready = [m('a1', 'A'), m('a2', 'A'), m('b1', 'B'), m('b2', 'B'), m('q1', 'Q'), m('a3', 'A'), m('u1')];
    fairOrder(ready, new Map([['A', 40], ['B', 38], ['Q', 1]]), 6);
    expect(ready.map((x) => x.messageId)).toEqual(['q1', 'u1', 'b1', 'b2', 'a1', 'a2', 'a3']);
  });
  it('leaves the order alone when no tenant is noisy', () => {
    const ready = [m('a1', 'A'), m('q1', 'Q')];
    fairOrder(ready, new Map([['A', 29]]), 10);
    expect(ready.map((x) => x.messageId)).toEqual(['a1', 'q1']);
  });
});

describe('noisyTenants (who is noisy, across receives)', () => {
  const m = (group: string) => ({ messageId: group, messageAttributes: {}, messageGroupId: group });
  it('flags by concurrency share, keeps a flagged tenant while it has a backlog and sent within five minutes, then lets it go', () => {
    const state = newTenantState();
    state.lastSentAt.set('A', 0);
    expect([...noisyTenants(state, [m('A')], new Map([['A', 29]]), 1)]).toEqual([]);
    expect([...noisyTenants(state, [m('A')], new Map([['A', 30]]), 2)]).toEqual(['A']);
    // In flight drops to 2, backlog remains, last send recent: still noisy.
    expect([...noisyTenants(state, [m('A'), m('B')], new Map([['A', 2], ['B', 1]]), NOISY_SILENCE_MS - 1)]).toEqual(['A']);
    // Silent for five minutes: quiet again, backlog or not.
    expect([...noisyTenants(state, [m('A')], new Map([['A', 2]]), NOISY_SILENCE_MS)]).toEqual([]);
    // Flagged again, then its backlog drains: quiet again.
    state.lastSentAt.set('A', NOISY_SILENCE_MS);
    expect([...noisyTenants(state, [m('A')], new Map([['A', 40]]), NOISY_SILENCE_MS + 1)]).toEqual(['A']);
    expect([...noisyTenants(state, [m('B')], new Map([['A', 3]]), NOISY_SILENCE_MS + 2)]).toEqual([]);
  });
});
