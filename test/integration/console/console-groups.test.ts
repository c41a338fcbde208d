/**
 * The console's group page API against the emulators: a real group sent with
 * producer.sendGroup (as the producer role), drained by a real consumer (as the consumer role),
 * viewed through the console's HTTP API (as the operator role: every call it makes is
 * evaluated against the synthesized policies). OPEN before, COMPLETE after, the counts equal to
 * what `taskq group` reads and to the members' own records, each member and the callback
 * under its id; a member's and the callback's task views link to the group (a dead-lettered
 * member with its own task id by its DLQ message's envelope); an unknown group is a 404, a
 * malformed id or page a 400, without the token a 401.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import type { RunningConsole } from '../../../lib/ops/console/run-console.ts';
import { groupStatus } from '../../../lib/ops/group-status.ts';
import { createTestResources, testClients, type TestResources } from '../../support/aws.ts';
import { localStateFor } from '../../support/local-state.ts';
import { drain, producerFor, recordingTasks } from '../runtime/group-helpers.ts';
import { consumer } from '../runtime/helpers.ts';
import { call, startOperatorConsole } from './helpers.ts';

const clients = testClients();
let r: TestResources;
let console_: RunningConsole;
let auth: Record<string, string>;

interface TaskState {
  taskId: string;
  idempotencyKey: string;
  status: string | null;
  attempts?: number;
}
interface GroupPageReply {
  group: { groupId: string; status: string; total: number; succeeded: number; deadLettered: number; cancelled: number; pending: number; callback?: { type: string; taskId: string; idempotencyKey: string }; callbackSentAt?: string };
  callback: TaskState | null;
  members: { offset: number; limit: number; items: (TaskState & { index: number })[] };
}

const groupPage = async (path: string) => (await call(console_.port, path, { headers: auth })).json<GroupPageReply>();
const taskGroup = async (query: string) => (await call(console_.port, `/api/tasks?${query}`, { headers: auth })).json<{ group: unknown }>().group;

beforeAll(async () => {
  r = await createTestResources(clients, { visibilityTimeout: 2 });
  console_ = await startOperatorConsole(localStateFor(r, 'ConsoleGroupsStack'));
  auth = { Authorization: `Bearer ${console_.token}` };
});

afterAll(async () => {
  await console_?.close();
});

describe('taskq console: groups', { timeout: 120_000 }, () => {
  it('a group sent with sendGroup and drained by the consumer: OPEN with its members pending, then COMPLETE with the counts, each member\'s status and the callback\'s', async () => {
    const { tasks, runs, callbacks } = recordingTasks(new Set([3]));
    const worker = consumer(r, clients, tasks);
    const producer = producerFor(r);
    const sent = await producer.sendGroup(
      [0, 1, 2, 3, 4, 5].map((n) => ({ type: 'member', payload: { n } })),
      { groupId: 'console-nightly-7', onComplete: { type: 'report', payload: { to: 'ops' } } },
    );
    const gid = sent.groupId;
    // Cancelled before any consumer saw it: a CANCELLED record, counted when its message arrives.
    await producer.cancel(`${gid}.5`);

    const open = await groupPage(`/api/groups/${gid}`);
    expect(open.group).toEqual(await groupStatus({ dynamo: async () => clients.dynamo, tableName: r.tableName, groupId: gid }));
    expect(open.group).toMatchObject({ groupId: gid, status: 'OPEN', total: 6, succeeded: 0, deadLettered: 0, cancelled: 0, pending: 6, callback: { type: 'report', taskId: `${gid}.callback`, idempotencyKey: `group:${gid}:callback` } });
    expect(open.group.callbackSentAt).toBeUndefined();
    expect(open.callback).toEqual({ taskId: `${gid}.callback`, idempotencyKey: `group:${gid}:callback`, status: null });
    expect(open.members.items.map((m) => [m.index, m.taskId, m.status])).toEqual([
      [0, `${gid}.0`, null],
      [1, `${gid}.1`, null],
      [2, `${gid}.2`, null],
      [3, `${gid}.3`, null],
      [4, `${gid}.4`, null],
      [5, `${gid}.5`, 'CANCELLED'],
    ]);

    await drain(r, [worker.handler]);
    expect([...runs.keys()].sort()).toEqual([0, 1, 2, 3, 4]);
    expect(callbacks).toHaveLength(1);

    const complete = await groupPage(`/api/groups/${gid}`);
    // The same figures as `taskq group` (one consistent read of the group item)…
    expect(complete.group).toEqual(await groupStatus({ dynamo: async () => clients.dynamo, tableName: r.tableName, groupId: gid }));
    expect(complete.group).toMatchObject({ status: 'COMPLETE', total: 6, succeeded: 4, deadLettered: 1, cancelled: 1, pending: 0, callbackSentAt: expect.any(String) });
    // …and each member's own record says the same.
    const statuses = complete.members.items.map((m) => m.status);
    expect(statuses).toEqual(['SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED', 'DEAD_LETTERED', 'SUCCEEDED', 'CANCELLED']);
    const tally = (status: string) => statuses.filter((s) => s === status).length;
    expect([tally('SUCCEEDED'), tally('DEAD_LETTERED'), tally('CANCELLED')]).toEqual([complete.group.succeeded, complete.group.deadLettered, complete.group.cancelled]);
    expect(complete.members.items[0]).toMatchObject({ attempts: 1 });
    expect(complete.callback).toMatchObject({ taskId: `${gid}.callback`, idempotencyKey: `group:${gid}:callback`, status: 'SUCCEEDED', attempts: 1 });

    // A page of members.
    const page = await groupPage(`/api/groups/${gid}?offset=2&limit=2`);
    expect(page.members).toMatchObject({ offset: 2, limit: 2 });
    expect(page.members.items.map((m) => [m.index, m.status])).toEqual([
      [2, 'SUCCEEDED'],
      [3, 'DEAD_LETTERED'],
    ]);
    expect((await groupPage(`/api/groups/${gid}?offset=6`)).members.items).toEqual([]);

    // The task pages of a member and of the callback link to the group.
    expect(await taskGroup(`id=${gid}.3`)).toEqual({ groupId: gid, role: 'member', index: 3 });
    expect(await taskGroup(`id=${gid}.callback&key=${encodeURIComponent(`group:${gid}:callback`)}`)).toEqual({ groupId: gid, role: 'callback' });
  });

  it('a task whose id only looks like a member\'s gets no group link: no such group, or an index past its members', async () => {
    const producer = producerFor(r);
    const sent = await producer.sendGroup([{ type: 'member', payload: { n: 40 } }], { groupId: 'console-one-member' });
    const now = new Date().toISOString();
    for (const key of ['release.2', 'console-one-member.1', 'group:release:callback']) {
      await clients.dynamo.send(
        new PutItemCommand({
          TableName: r.tableName,
          Item: { pk: { S: key }, taskId: { S: key }, type: { S: 'report' }, status: { S: 'SUCCEEDED' }, attempts: { N: '1' }, createdAt: { S: now }, updatedAt: { S: now }, expiresAt: { N: String(Math.floor(Date.now() / 1000) + 3600) } },
        }),
      );
    }
    expect(await taskGroup('id=release.2')).toBeNull();
    expect(await taskGroup(`id=${sent.groupId}.1`)).toBeNull();
    expect(await taskGroup(`key=${encodeURIComponent('group:release:callback')}`)).toBeNull();
    // A group without a callback: its page says so.
    const page = await groupPage(`/api/groups/${sent.groupId}`);
    expect(page.callback).toBeNull();
    expect(page.group.callback).toBeUndefined();
  });

  it('a dead-lettered member sent with its own task id: not listed by id, but its DLQ message names the group, so its task page links there', async () => {
    const { tasks } = recordingTasks(new Set([51]));
    const worker = consumer(r, clients, tasks);
    const producer = producerFor(r);
    const sent = await producer.sendGroup(
      [
        { type: 'member', payload: { n: 50 } },
        { type: 'member', payload: { n: 51 }, taskId: 'invoice-51' },
      ],
      { groupId: 'console-own-ids' },
    );
    await drain(r, [worker.handler]);
    const page = await groupPage(`/api/groups/${sent.groupId}`);
    expect(page.group).toMatchObject({ status: 'COMPLETE', succeeded: 1, deadLettered: 1 });
    // The group item keeps no member ids: index 1 is read under <groupId>.1, where there is no record.
    expect(page.members.items.map((m) => [m.taskId, m.status])).toEqual([
      [`${sent.groupId}.0`, 'SUCCEEDED'],
      [`${sent.groupId}.1`, null],
    ]);
    const listing = (await call(console_.port, '/api/lanes/default/dlq', { headers: auth })).json<{ messages: { taskId: string; group: string | null }[] }>();
    expect(listing.messages.find((m) => m.taskId === 'invoice-51')).toMatchObject({ group: sent.groupId });
    expect(await taskGroup('id=invoice-51')).toEqual({ groupId: sent.groupId, role: 'member' });
  });

  it('a failed read of the group item leaves the link out of a task page (which stands) and is not remembered; the group page answers 502 with the error, no stack', async () => {
    const producer = producerFor(r);
    const sent = await producer.sendGroup([{ type: 'member', payload: { n: 60 } }], { groupId: 'console-read-fails' });
    const now = new Date().toISOString();
    await clients.dynamo.send(
      new PutItemCommand({
        TableName: r.tableName,
        Item: { pk: { S: `${sent.groupId}.0` }, taskId: { S: `${sent.groupId}.0` }, type: { S: 'member' }, status: { S: 'RETRYING' }, attempts: { N: '1' }, createdAt: { S: now }, updatedAt: { S: now }, expiresAt: { N: String(Math.floor(Date.now() / 1000) + 3600) } },
      }),
    );
    let failing = true;
    const groupItem = (name: string, input: { Key?: { pk?: { S?: string } } }) => name === 'GetItemCommand' && (input.Key?.pk?.S ?? '').startsWith('\u001fgroup:');
    const faulty = await startOperatorConsole(localStateFor(r, 'ConsoleGroupsStack'), {
      dynamoFaults: (name, input) => (failing && groupItem(name, input) ? { kind: 'error', status: 400, code: 'AccessDeniedException', message: 'injected: no access to the group item' } : undefined),
    });
    try {
      const headers = { Authorization: `Bearer ${faulty.token}` };
      const task = await call(faulty.port, `/api/tasks?id=${sent.groupId}.0`, { headers });
      expect(task.status).toBe(200);
      expect(task.json()).toMatchObject({ task: { status: 'RETRYING' }, group: null });
      const page = await call(faulty.port, `/api/groups/${sent.groupId}`, { headers });
      expect(page.status).toBe(502);
      expect(page.json().error).toMatchObject({ code: 'ACCESS_DENIED' });
      expect(page.body).not.toMatch(/\n\s+at /);

      failing = false;
      expect((await call(faulty.port, `/api/tasks?id=${sent.groupId}.0`, { headers })).json()).toMatchObject({ group: { groupId: sent.groupId, role: 'member', index: 0 } });
    } finally {
      await faulty.close();
    }
  });

  it('an unknown group is a 404 GROUP_NOT_FOUND, a malformed id or page a 400 USAGE, without the token a 401 — JSON errors, never a stack', async () => {
    const unknown = await call(console_.port, '/api/groups/no-such-group', { headers: auth });
    expect(unknown.status).toBe(404);
    expect(unknown.json().error).toMatchObject({ code: 'GROUP_NOT_FOUND', message: expect.stringContaining('no group no-such-group') });

    const malformed = [
      `/api/groups/${encodeURIComponent('not a group id')}`,
      `/api/groups/${'g'.repeat(101)}`,
      `/api/groups/${encodeURIComponent('bad/id')}`,
      '/api/groups/no-such-group?offset=-1',
      '/api/groups/no-such-group?limit=0',
      '/api/groups/no-such-group?limit=101',
      '/api/groups/no-such-group?limit=ten',
    ];
    for (const path of malformed) {
      const reply = await call(console_.port, path, { headers: auth });
      expect(reply.status, path).toBe(400);
      expect(reply.json().error, path).toMatchObject({ code: 'USAGE' });
    }
    for (const reply of [unknown, await call(console_.port, malformed[0]!, { headers: auth })]) {
      expect(reply.headers['content-type']).toMatch(/^application\/json/);
      expect(reply.body).not.toMatch(/\n\s+at /);
    }

    const anonymous = await call(console_.port, '/api/groups/no-such-group');
    expect(anonymous.status).toBe(401);
    expect(anonymous.json().error).toMatchObject({ code: 'TOKEN_REQUIRED' });
  });
});
