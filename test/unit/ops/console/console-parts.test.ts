/**
 * The console's pure parts: the token, the Host names it answers to, the task timeline, the
 * claim-check reference read from a message, per-minute rates from running totals, a task's
 * group link and the group page's query checks, and starting without a target.
 */
import { describe, expect, it } from 'vitest';
import { newAccessToken, tokenMatches } from '../../../../lib/ops/console/access-token.ts';
import { claimReferenceOf } from '../../../../lib/ops/console/claim-reference.ts';
import { checkGroupPageQuery, MAX_MEMBERS_PER_PAGE } from '../../../../lib/ops/console/group-page.ts';
import { confirmsGroupLink, envelopeGroupOf, groupLinkCandidate, groupLinkFor } from '../../../../lib/ops/console/task-group-link.ts';
import { encodeEnvelope } from '../../../../lib/protocol/envelope.ts';
import { OpsError } from '../../../../lib/ops/errors.ts';
import type { GroupStatusView } from '../../../../lib/protocol/group.ts';
import { ratePerMinute } from '../../../../lib/ops/console/lane-history.ts';
import { allowedHostsFor } from '../../../../lib/ops/console/request-guard.ts';
import { isLoopback, startConsole } from '../../../../lib/ops/console/run-console.ts';
import { taskTimeline, TransitionLog } from '../../../../lib/ops/console/task-timeline.ts';
import { EXTENDED_CLIENT_POINTER_CLASS, EXTENDED_CLIENT_SIZE_ATTRIBUTE } from '../../../../lib/protocol/extended-client.ts';
import type { TaskStatusView } from '../../../../lib/protocol/task-record.ts';

describe('access token', () => {
  it('is 32 random bytes, URL-safe, different every time, and matches only itself', () => {
    const tokens = new Set(Array.from({ length: 100 }, newAccessToken));
    expect(tokens.size).toBe(100);
    for (const token of tokens) expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const [a] = tokens;
    expect(tokenMatches(a!, a)).toBe(true);
    expect(tokenMatches(a!, `${a}x`)).toBe(false);
    expect(tokenMatches(a!, a!.slice(0, -1))).toBe(false);
    expect(tokenMatches(a!, undefined)).toBe(false);
    expect(tokenMatches(a!, '')).toBe(false);
  });
});

describe('allowed Host names', () => {
  it('loopback names with the port; the --host name too, but never a wildcard address', () => {
    expect(allowedHostsFor('127.0.0.1', 4000)).toEqual(['127.0.0.1:4000', 'localhost:4000', '[::1]:4000']);
    expect(allowedHostsFor('192.168.1.5', 80)).toContain('192.168.1.5:80');
    expect(allowedHostsFor('0.0.0.0', 80)).toEqual(['127.0.0.1:80', 'localhost:80', '[::1]:80']);
    expect(allowedHostsFor('::1', 80)).toContain('[::1]:80');
    expect(allowedHostsFor('::', 80)).not.toContain('[::]:80');
  });

  it('tells loopback from the rest', () => {
    for (const host of ['127.0.0.1', '127.1.2.3', 'localhost', '::1']) expect(isLoopback(host), host).toBe(true);
    for (const host of ['0.0.0.0', '::', '192.168.1.5', 'example.com']) expect(isLoopback(host), host).toBe(false);
  });
});

const base: TaskStatusView = { taskId: 'tsk_1', idempotencyKey: 'tsk_1', status: 'SUCCEEDED', attempts: 1, createdAt: '2026-01-01T00:00:00.000Z', updatedAt: '2026-01-01T00:00:05.000Z' };

describe('task timeline', () => {
  it('first-attempt success: accepted, succeeded', () => {
    expect(taskTimeline(base).map((e) => e.kind)).toEqual(['accepted', 'succeeded']);
  });

  it('retrying: every started attempt failed, the last with the stored error, then the next attempt', () => {
    const events = taskTimeline({ ...base, status: 'RETRYING', attempts: 2, lastError: 'HTTP 503', nextAttemptAt: '2026-01-01T00:01:00.000Z' });
    expect(events.map((e) => [e.kind, e.attempt])).toEqual([['accepted', undefined], ['attempt-failed', 1], ['attempt-failed', 2], ['retry-due', 3]]);
    expect(events[1]!.error).toBeUndefined();
    expect(events[1]!.note).toMatch(/only the latest error/);
    expect(events[2]!.error).toBe('HTTP 503');
    expect(events[3]!.at).toBe('2026-01-01T00:01:00.000Z');
  });

  it('in progress after a failure; dead-lettered with its reason', () => {
    expect(taskTimeline({ ...base, status: 'IN_PROGRESS', attempts: 2 }).map((e) => e.kind)).toEqual(['accepted', 'attempt-failed', 'attempt-running']);
    const dead = taskTimeline({ ...base, status: 'DEAD_LETTERED', attempts: 1, lastError: 'bad amount', deadLetterReason: 'permanent-error' });
    expect(dead.map((e) => e.kind)).toEqual(['accepted', 'attempt-failed', 'dead-lettered']);
    expect(dead[2]!.note).toBe('permanent-error');
  });

  it('cancelled: before any attempt, only accepted then cancelled at its time; after a failed one, that attempt first', () => {
    const before = taskTimeline({ ...base, status: 'CANCELLED', attempts: 0, cancelledAt: '2026-01-01T00:00:30.000Z' });
    expect(before).toEqual([{ kind: 'accepted', at: base.createdAt }, { kind: 'cancelled', at: '2026-01-01T00:00:30.000Z' }]);
    const after = taskTimeline({ ...base, status: 'CANCELLED', attempts: 1, lastError: 'HTTP 503', cancelledAt: '2026-01-01T00:00:30.000Z' });
    expect(after.map((e) => [e.kind, e.attempt])).toEqual([['accepted', undefined], ['attempt-failed', 1], ['cancelled', undefined]]);
    expect(after[1]!.error).toBe('HTTP 503');
    // updatedAt is the cancel's time, not the failure's.
    expect(after[1]!.at).toBeUndefined();
  });

  it('the transition log keeps a next attempt only while the task is RETRYING (the record keeps it after)', () => {
    const log = new TransitionLog();
    const next = '2026-01-01T00:01:00.000Z';
    log.record({ ...base, status: 'RETRYING', nextAttemptAt: next }, 't1');
    const seen = log.record({ ...base, status: 'CANCELLED', nextAttemptAt: next }, 't2');
    expect(seen.map((o) => o.nextAttemptAt)).toEqual([next, undefined]);
  });

  it('the transition log keeps each distinct (status, attempts) once, with the error seen then', () => {
    const log = new TransitionLog();
    log.record({ ...base, status: 'IN_PROGRESS' }, 't1');
    log.record({ ...base, status: 'IN_PROGRESS' }, 't2');
    log.record({ ...base, status: 'RETRYING', lastError: 'HTTP 503' }, 't3');
    const seen = log.record({ ...base, status: 'SUCCEEDED', attempts: 2 }, 't4');
    expect(seen.map((o) => [o.at, o.status])).toEqual([['t1', 'IN_PROGRESS'], ['t3', 'RETRYING'], ['t4', 'SUCCEEDED']]);
    const events = taskTimeline({ ...base, attempts: 2 }, seen).filter((e) => e.kind === 'observed');
    expect(events[1]).toMatchObject({ error: 'HTTP 503', at: 't3' });
  });

  it('the transition log forgets the oldest keys beyond its bound', () => {
    const log = new TransitionLog(2);
    for (const key of ['a', 'b', 'c']) log.record({ ...base, idempotencyKey: key }, 't');
    expect(log.record({ ...base, idempotencyKey: 'a', status: 'RETRYING' }, 't2')).toHaveLength(1);
  });
});

describe('claim-check reference', () => {
  it('from an envelope payloadRef; none for an inline payload or junk', () => {
    expect(claimReferenceOf({ Body: JSON.stringify({ v: 1, id: 'tsk_1', type: 't', payloadRef: { bucket: 'b', key: 'claims/2026-01-01/x', size: 1572900, sha256: 'ab' }, createdAt: 'x' }) })).toEqual({
      bucket: 'b',
      key: 'claims/2026-01-01/x',
      size: 1572900,
    });
    expect(claimReferenceOf({ Body: JSON.stringify({ v: 1, id: 'tsk_1', type: 't', payload: { a: 1 } }) })).toBeNull();
    expect(claimReferenceOf({ Body: 'not json' })).toBeNull();
    expect(claimReferenceOf({})).toBeNull();
  });

  it('from an SQS Extended Client pointer and its size attribute', () => {
    const body = JSON.stringify([EXTENDED_CLIENT_POINTER_CLASS, { s3BucketName: 'b', s3Key: 'k' }]);
    expect(claimReferenceOf({ Body: body, MessageAttributes: { [EXTENDED_CLIENT_SIZE_ATTRIBUTE]: { DataType: 'Number', StringValue: '300000' } } })).toEqual({ bucket: 'b', key: 'k', size: 300000 });
    expect(claimReferenceOf({ Body: body })).toEqual({ bucket: 'b', key: 'k', size: null });
  });
});

describe('rates from running totals', () => {
  it('per minute between two readings; none for the first reading or after the totals restarted', () => {
    expect(ratePerMinute({ total: 10, t: 0 }, { total: 20, t: 2000 })).toBe(300);
    expect(ratePerMinute(undefined, { total: 20, t: 2000 })).toBeUndefined();
    expect(ratePerMinute({ total: 50, t: 0 }, { total: 3, t: 2000 })).toBeUndefined();
    expect(ratePerMinute({ total: 5, t: 2000 }, { total: 5, t: 2000 })).toBeUndefined();
  });
});

describe('group link of a task', () => {
  const group: GroupStatusView = {
    groupId: 'nightly:2026-12.03',
    status: 'OPEN',
    total: 3,
    succeeded: 0,
    deadLettered: 0,
    cancelled: 0,
    pending: 3,
    createdAt: '2026-12-03T00:00:00.000Z',
    callback: { type: 'report', taskId: 'nightly:2026-12.03.callback', idempotencyKey: 'group:nightly:2026-12.03:callback' },
  };

  it('a member by its id <groupId>.<index>, the callback by its key group:<groupId>:callback (ids with dots and colons included)', () => {
    expect(groupLinkCandidate({ taskId: 'nightly:2026-12.03.2', idempotencyKey: 'nightly:2026-12.03.2' })).toEqual({ groupId: 'nightly:2026-12.03', role: 'member', index: 2 });
    expect(groupLinkCandidate({ taskId: 'nightly:2026-12.03.callback', idempotencyKey: 'group:nightly:2026-12.03:callback' })).toEqual({ groupId: 'nightly:2026-12.03', role: 'callback' });
    // A member sent with its own idempotency key keeps its id <groupId>.<index>.
    expect(groupLinkCandidate({ taskId: 'g.0', idempotencyKey: 'order-7' })).toEqual({ groupId: 'g', role: 'member', index: 0 });
  });

  it('no candidate for ids of neither shape, leading zeros, indexes past the largest group, or group ids no group can have', () => {
    for (const taskId of ['tsk_01', 'g.', '.3', 'g.03', 'g.-1', 'g.1e3', `g.${10_000}`, `${'g'.repeat(101)}.1`]) {
      expect(groupLinkCandidate({ taskId, idempotencyKey: taskId }), taskId).toBeUndefined();
    }
    expect(groupLinkCandidate({ taskId: 'x', idempotencyKey: 'group::callback' })).toBeUndefined();
    expect(groupLinkCandidate({ taskId: 'x', idempotencyKey: 'group:a b:callback' })).toBeUndefined();
  });

  it('confirmed only by the group item: it exists, has that member, and that callback key', () => {
    const member = (index: number) => ({ groupId: group.groupId, role: 'member' as const, index });
    expect(confirmsGroupLink(member(2), group, 'k')).toBe(true);
    expect(confirmsGroupLink(member(3), group, 'k')).toBe(false);
    expect(confirmsGroupLink(member(0), undefined, 'k')).toBe(false);
    expect(confirmsGroupLink(member(0), { ...group, groupId: 'other' }, 'k')).toBe(false);
    const callback = { groupId: group.groupId, role: 'callback' as const };
    expect(confirmsGroupLink(callback, group, 'group:nightly:2026-12.03:callback')).toBe(true);
    const { callback: _none, ...withoutCallback } = group;
    expect(confirmsGroupLink(callback, withoutCallback, 'group:nightly:2026-12.03:callback')).toBe(false);
    // A member named by its message's envelope (no index in its id): the group's existence confirms it.
    expect(confirmsGroupLink({ groupId: group.groupId, role: 'member' }, group, 'k')).toBe(true);
    expect(confirmsGroupLink({ groupId: group.groupId, role: 'member' }, undefined, 'k')).toBe(false);
  });

  it('the envelope\'s group wins over the id\'s shape; the index is kept only when both name the same group', () => {
    const body = encodeEnvelope({ v: 1, id: 'invoice-17', type: 'charge', payload: {}, createdAt: '2026-12-03T00:00:00.000Z', group: 'billing-run' });
    expect(envelopeGroupOf(body)).toBe('billing-run');
    expect(envelopeGroupOf(encodeEnvelope({ v: 1, id: 'x', type: 'charge', payload: {}, createdAt: '2026-12-03T00:00:00.000Z' }))).toBeUndefined();
    for (const notAnEnvelope of [undefined, '', 'not json', '["pointer",{"s3BucketName":"b","s3Key":"k"}]', '{"group":"billing-run"}']) expect(envelopeGroupOf(notAnEnvelope), String(notAnEnvelope)).toBeUndefined();
    expect(groupLinkFor({ taskId: 'invoice-17', idempotencyKey: 'invoice-17' }, 'billing-run')).toEqual({ groupId: 'billing-run', role: 'member' });
    expect(groupLinkFor({ taskId: 'billing-run.4', idempotencyKey: 'billing-run.4' }, 'billing-run')).toEqual({ groupId: 'billing-run', role: 'member', index: 4 });
    expect(groupLinkFor({ taskId: 'other.4', idempotencyKey: 'other.4' }, 'billing-run')).toEqual({ groupId: 'billing-run', role: 'member' });
    expect(groupLinkFor({ taskId: 'other.4', idempotencyKey: 'other.4' })).toEqual({ groupId: 'other', role: 'member', index: 4 });
  });
});

describe('group page query', () => {
  it('defaults to the first page; a malformed group id, offset or limit is a USAGE error before any read', () => {
    expect(checkGroupPageQuery({ groupId: 'g-1' })).toEqual({ groupId: 'g-1', offset: 0, limit: 50 });
    expect(checkGroupPageQuery({ groupId: 'g-1', offset: 100, limit: MAX_MEMBERS_PER_PAGE })).toEqual({ groupId: 'g-1', offset: 100, limit: 100 });
    const bad = [{ groupId: 'a b' }, { groupId: '' }, { groupId: 'g'.repeat(101) }, { groupId: 'g', offset: -1 }, { groupId: 'g', offset: 1.5 }, { groupId: 'g', limit: 0 }, { groupId: 'g', limit: MAX_MEMBERS_PER_PAGE + 1 }];
    for (const query of bad) {
      let thrown: unknown;
      try {
        checkGroupPageQuery(query);
      } catch (error) {
        thrown = error;
      }
      expect(thrown, JSON.stringify(query)).toBeInstanceOf(OpsError);
      expect((thrown as OpsError).code).toBe('USAGE');
    }
  });
});

describe('startConsole', () => {
  it('fails at once without a local system (NO_LOCAL_SYSTEM), binding nothing', async () => {
    await expect(startConsole({ target: { local: true }, resolve: { readLocalState: async () => undefined }, log: () => undefined })).rejects.toMatchObject({ code: 'NO_LOCAL_SYSTEM' });
  });
});
