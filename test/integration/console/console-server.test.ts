/**
 * `taskq console`'s server against the emulators, over HTTP as a browser reaches it: the
 * security properties (loopback bind, per-run token, Host and Origin checks, no CORS,
 * confirmations of destructive actions, response headers) and the API on real queues and a
 * real task table. The console's AWS calls act as the operator role (IAM enforced).
 */
import { networkInterfaces } from 'node:os';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { startConsole, type RunningConsole } from '../../../lib/ops/console/run-console.ts';
import { readScheduleControl } from '../../../lib/local/schedule-control.ts';
import { writeLocalState, type LocalState } from '../../../lib/local/state.ts';
import { cancelTask } from '../../../lib/ops/cancel.ts';
import { OpsError } from '../../../lib/ops/errors.ts';
import { DEFAULTS, OPTIONAL_STACK_OUTPUTS, RECENT_TASKS_INDEX } from '../../../lib/protocol/resources.ts';
import { createTestResources, testClients, type TestResources } from '../../support/aws.ts';
import { putDeadLetter, visibleMessages } from '../ops/helpers.ts';
import { localStateFor } from '../../support/local-state.ts';
import { call, createTableWithRecentTasksIndex, startOperatorConsole } from './helpers.ts';

let resources: TestResources;
let console_: RunningConsole;
let auth: Record<string, string>;
const clients = testClients();

function localState(r: TestResources): LocalState {
  return { ...localStateFor(r, 'ConsoleTestStack'), alarms: [{ name: 'ConsoleTestStack-DeadLetterQueueNotEmpty', state: 'ALARM', reason: 'test' }] };
}

async function start(r: TestResources = resources, options: { host?: string; log?: (line: string) => void; localStatePath?: string } = {}): Promise<RunningConsole> {
  return startOperatorConsole(localState(r), options);
}

beforeAll(async () => {
  resources = await createTestResources();
  console_ = await start();
  auth = { Authorization: `Bearer ${console_.token}` };
});

afterAll(async () => {
  await console_?.close();
});

describe('taskq console: security', () => {
  it('binds to 127.0.0.1 by default: another interface of this machine is refused', async () => {
    expect(console_.url).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${console_.port}/\\?token=[A-Za-z0-9_-]{43}$`));
    const external = Object.values(networkInterfaces())
      .flat()
      .find((i) => i && i.family === 'IPv4' && !i.internal);
    // The machine's own non-loopback address: nothing listens there.
    const address = external?.address ?? '127.0.0.2';
    const outcome = await new Promise<string>((resolve) => {
      const socket = connect({ host: address, port: console_.port });
      socket.once('connect', () => {
        socket.destroy();
        resolve('connected');
      });
      socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
    });
    expect(outcome).toBe('ECONNREFUSED');
  });

  it('a new random token each run', async () => {
    const other = await start();
    try {
      expect(other.token).not.toBe(console_.token);
      expect(other.token).toMatch(/^[A-Za-z0-9_-]{43}$/); // 32 random bytes
      // One run's token opens nothing on another run.
      expect((await call(other.port, '/api/overview', { headers: auth, host: '127.0.0.1' })).status).toBe(401);
    } finally {
      await other.close();
    }
  });

  it('refuses every request without the token (page, assets, API) with 401, and a wrong one too', async () => {
    const host = { Host: `127.0.0.1:${console_.port}` };
    for (const path of ['/', '/assets/console.js', '/api/overview', '/api/lanes/default/dlq', '/api/tasks?id=x']) {
      const reply = await call(console_.port, path, { headers: host });
      expect(reply.status, path).toBe(401);
      expect(reply.json().error).toMatchObject({ code: 'TOKEN_REQUIRED' });
      expect(reply.body, path).not.toContain(console_.token);
    }
    expect((await call(console_.port, `/api/overview?token=${console_.token.slice(0, -1)}x`)).status).toBe(401);
    expect((await call(console_.port, '/api/overview', { headers: { Authorization: `Bearer ${console_.token}x` } })).status).toBe(401);
    const purge = await call(console_.port, '/api/lanes/default/dlq/purge', { method: 'POST', body: { confirm: 'purge' } });
    expect(purge.status).toBe(401);
  });

  it('accepts the token in the address (the printed URL) and as a bearer header; the page carries it for its assets and API calls', async () => {
    const page = await call(console_.port, `/?token=${console_.token}`);
    expect(page.status).toBe(200);
    expect(page.body).toContain(`<meta name="taskq-token" content="${console_.token}"`);
    expect(page.body).toContain(`/assets/console.js?token=${console_.token}`);
    expect((await call(console_.port, `/assets/console.js?token=${console_.token}`)).status).toBe(200);
    expect((await call(console_.port, '/api/overview', { headers: auth })).status).toBe(200);
  });

  it('refuses another Host name even with the token (DNS rebinding), and accepts the loopback names', async () => {
    for (const host of [`evil.example:${console_.port}`, `127.0.0.1.nip.io:${console_.port}`, 'localhost', `localhost:${console_.port + 1}`]) {
      const reply = await call(console_.port, '/api/overview', { headers: { ...auth, Host: host } });
      expect(reply.status, host).toBe(403);
      expect(reply.json().error).toMatchObject({ code: 'HOST_NOT_ALLOWED' });
    }
    for (const host of [`127.0.0.1:${console_.port}`, `localhost:${console_.port}`, `LOCALHOST:${console_.port}`]) {
      expect((await call(console_.port, '/api/overview', { headers: { ...auth, Host: host } })).status, host).toBe(200);
    }
  });

  it('refuses cross-origin requests and preflights, and never sends CORS headers', async () => {
    const foreign = await call(console_.port, '/api/overview', { headers: { ...auth, Origin: 'https://evil.example' } });
    expect(foreign.status).toBe(403);
    expect(foreign.json().error).toMatchObject({ code: 'ORIGIN_NOT_ALLOWED' });
    const preflight = await call(console_.port, '/api/lanes/default/dlq/purge', {
      method: 'OPTIONS',
      headers: { Origin: `http://127.0.0.1:${console_.port}`, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'authorization' },
    });
    expect(preflight.status).toBe(405);
    const same = await call(console_.port, '/api/overview', { headers: { ...auth, Origin: `http://127.0.0.1:${console_.port}` } });
    expect(same.status).toBe(200);
    for (const reply of [foreign, preflight, same]) {
      expect(Object.keys(reply.headers).filter((h) => h.startsWith('access-control-'))).toEqual([]);
    }
  });

  it('sends no-store, no-referrer, no-framing and a script-src self policy on every response', async () => {
    for (const reply of [await call(console_.port, `/?token=${console_.token}`), await call(console_.port, '/api/overview'), await call(console_.port, '/api/overview', { headers: auth })]) {
      expect(reply.headers['cache-control']).toBe('no-store');
      expect(reply.headers['referrer-policy']).toBe('no-referrer');
      expect(reply.headers['x-frame-options']).toBe('DENY');
      expect(reply.headers['content-security-policy']).toContain("script-src 'self'");
      expect(reply.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    }
  });

  it('purge needs "confirm": "purge" in a JSON body; without it nothing is deleted', async () => {
    const r = await createTestResources();
    const other = await start(r);
    try {
      await putDeadLetter(clients.sqs, r.deadLetterQueueUrl, { type: 'charge' });
      const headers = { Authorization: `Bearer ${other.token}` };
      for (const body of [undefined, {}, { confirm: 'yes' }, { confirm: true }, 'confirm=purge']) {
        const reply = await call(other.port, '/api/lanes/default/dlq/purge', { method: 'POST', headers, ...(body !== undefined ? { body } : {}) });
        expect(reply.status, JSON.stringify(body)).toBe(400);
      }
      const form = await call(other.port, '/api/lanes/default/dlq/purge', { method: 'POST', headers: { ...headers, 'Content-Type': 'application/x-www-form-urlencoded' }, body: 'confirm=purge' });
      expect(form.status).toBe(400);
      expect(await visibleMessages(clients.sqs, r.deadLetterQueueUrl)).toHaveLength(1);

      const purged = await call(other.port, '/api/lanes/default/dlq/purge', { method: 'POST', headers, body: { confirm: 'purge' } });
      expect(purged.status).toBe(200);
      expect(purged.json()).toMatchObject({ purged: true });
      expect(await visibleMessages(clients.sqs, r.deadLetterQueueUrl)).toHaveLength(0);
    } finally {
      await other.close();
    }
  });

  it('prints a warning when bound beyond loopback', async () => {
    const lines: string[] = [];
    const other = await start(resources, { host: '0.0.0.0', log: (line) => lines.push(line) });
    try {
      expect(lines.join('\n')).toMatch(/warning: --host 0\.0\.0\.0 makes the console reachable beyond this machine/);
      expect(other.url.startsWith('http://127.0.0.1:')).toBe(true);
    } finally {
      await other.close();
    }
    const quiet: string[] = [];
    const loopback = await start(resources, { log: (line) => quiet.push(line) });
    await loopback.close();
    expect(quiet).toEqual([]);
  });
});

describe('taskq console: API on real queues and table', () => {
  it('overview: one lane with the queue counts, the DLQ depth and the alarm states', async () => {
    const r = await createTestResources();
    const other = await start(r);
    try {
      await putDeadLetter(clients.sqs, r.deadLetterQueueUrl, { type: 'charge' });
      await other.backend.sample();
      const overview = (await call(other.port, '/api/overview', { headers: { Authorization: `Bearer ${other.token}` } })).json<{
        mode: string;
        lanes: { name: string; stats: { deadLetterQueue: { visible: number }; alarms: { alarms: { state: string }[] } } }[];
      }>();
      expect(overview.mode).toBe('local');
      expect(overview.lanes.map((l) => l.name)).toEqual(['default']);
      expect(overview.lanes[0]!.stats.deadLetterQueue.visible).toBe(1);
      expect(overview.lanes[0]!.stats.alarms.alarms.map((a) => a.state)).toEqual(['ALARM']);
      const history = (await call(other.port, '/api/lanes/default/history', { headers: { Authorization: `Bearer ${other.token}` } })).json<{ counts: { deadLetters: number }[] }>();
      expect(history.counts.at(-1)!.deadLetters).toBe(1);
      expect((await call(other.port, '/api/lanes/nope/history', { headers: { Authorization: `Bearer ${other.token}` } })).status).toBe(404);
    } finally {
      await other.close();
    }
  });

  it('task: by id and by idempotency key, with a timeline of the failed attempt, its error and the next attempt', async () => {
    const now = new Date();
    const createdAt = new Date(now.getTime() - 60_000).toISOString();
    const next = new Date(now.getTime() + 30_000).toISOString();
    await clients.dynamo.send(
      new PutItemCommand({
        TableName: resources.tableName,
        Item: {
          pk: { S: 'order-77' },
          taskId: { S: 'tsk_console_retry' },
          type: { S: 'webhook' },
          status: { S: 'RETRYING' },
          attempts: { N: '2' },
          createdAt: { S: createdAt },
          updatedAt: { S: now.toISOString() },
          nextAttemptAt: { S: next },
          lastError: { S: 'HTTP 503 from the receiver' },
          expiresAt: { N: String(Math.floor(now.getTime() / 1000) + 3600) },
        },
      }),
    );
    const byKey = (await call(console_.port, '/api/tasks?key=order-77', { headers: auth })).json<{ task: { taskId: string; status: string }; timeline: { kind: string; attempt?: number; error?: string; at?: string }[] }>();
    expect(byKey.task).toMatchObject({ taskId: 'tsk_console_retry', status: 'RETRYING' });
    expect(byKey.timeline.map((e) => e.kind)).toEqual(['accepted', 'attempt-failed', 'attempt-failed', 'retry-due']);
    expect(byKey.timeline[2]).toMatchObject({ attempt: 2, error: 'HTTP 503 from the receiver' });
    expect(byKey.timeline[3]).toMatchObject({ attempt: 3, at: next });
    const missing = await call(console_.port, '/api/tasks?id=tsk_nothing_here', { headers: auth });
    expect(missing.status).toBe(404);
    expect(missing.json().error).toMatchObject({ code: 'TASK_NOT_FOUND' });
    expect((await call(console_.port, '/api/tasks', { headers: auth })).status).toBe(400);
  });

  it('dlq: lists reason, type, attempts and age without bodies; the body only with showBody=1', async () => {
    const r = await createTestResources();
    const other = await start(r);
    try {
      const put = await putDeadLetter(clients.sqs, r.deadLetterQueueUrl, { type: 'charge', reason: 'permanent-error', attempts: 1, payload: { card: '4242-secret' } });
      const headers = { Authorization: `Bearer ${other.token}` };
      const listing = await call(other.port, '/api/lanes/default/dlq', { headers });
      expect(listing.body).not.toContain('4242-secret');
      const messages = listing.json<{ messages: Record<string, unknown>[] }>().messages;
      expect(messages).toHaveLength(1);
      expect(messages[0]).toMatchObject({ reason: 'permanent-error', type: 'charge', attempts: 1, taskId: put.taskId, claimCheck: null });
      expect(messages[0]).not.toHaveProperty('body');
      const withBody = (await call(other.port, '/api/lanes/default/dlq?showBody=1', { headers })).json<{ messages: { body: string }[] }>();
      expect(withBody.messages[0]!.body).toContain('4242-secret');
      // Peeking left the message in the DLQ, visible.
      expect(await visibleMessages(clients.sqs, r.deadLetterQueueUrl)).toHaveLength(1);
    } finally {
      await other.close();
    }
  });

  it('redrive needs "confirm": "redrive"; by type it moves only that type, by ids only those, with progress to done', async () => {
    const r = await createTestResources();
    const other = await start(r);
    try {
      for (let i = 0; i < 3; i++) await putDeadLetter(clients.sqs, r.deadLetterQueueUrl, { type: 'charge' });
      for (let i = 0; i < 2; i++) await putDeadLetter(clients.sqs, r.deadLetterQueueUrl, { type: 'send_email' });
      const headers = { Authorization: `Bearer ${other.token}` };
      const refused = await call(other.port, '/api/lanes/default/dlq/redrive', { method: 'POST', headers, body: { type: 'charge' } });
      expect(refused.status).toBe(400);
      expect(refused.json().error).toMatchObject({ code: 'CONFIRMATION_REQUIRED' });
      expect(await visibleMessages(clients.sqs, r.deadLetterQueueUrl)).toHaveLength(5);

      const started = await call(other.port, '/api/lanes/default/dlq/redrive', { method: 'POST', headers, body: { type: 'charge', confirm: 'redrive' } });
      expect(started.status).toBe(202);
      const job = await waitForJob(other.port, headers, started.json<{ id: string }>().id);
      expect(job).toMatchObject({ state: 'done', result: { moved: 3, skipped: 2, failed: 0, byType: { charge: 3 } } });
      expect(job.progress).toMatchObject({ moved: 3 });
      const source = await clients.sqs.send(new GetQueueAttributesCommand({ QueueUrl: r.queueUrl, AttributeNames: ['ApproximateNumberOfMessages'] }));
      expect(Number(source.Attributes!.ApproximateNumberOfMessages)).toBe(3);

      const left = (await call(other.port, '/api/lanes/default/dlq', { headers })).json<{ messages: { messageId: string; type: string }[] }>().messages;
      expect(left.map((m) => m.type)).toEqual(['send_email', 'send_email']);
      const one = left[0]!.messageId;
      const byId = await call(other.port, '/api/lanes/default/dlq/redrive', { method: 'POST', headers, body: { messageIds: [one], confirm: 'redrive' } });
      const second = await waitForJob(other.port, headers, byId.json<{ id: string }>().id);
      expect(second).toMatchObject({ state: 'done', result: { moved: 1, skipped: 1 } });
      const remaining = await visibleMessages(clients.sqs, r.deadLetterQueueUrl);
      expect(remaining.map((m) => m.MessageId)).not.toContain(one);
      expect(remaining).toHaveLength(1);
    } finally {
      await other.close();
    }
  });

  it('recent tasks: without the RecentTasksIndexName output it says how to add the index, and makes no call', async () => {
    const reply = (await call(console_.port, '/api/recent-tasks', { headers: auth })).json<{ available: boolean; note: string }>();
    expect(reply).toMatchObject({ available: false });
    expect(reply.note).toMatch(/recentTasksIndex: true/);
  });

  it('recent tasks: with the index (as the construct creates it), newest first across statuses', async () => {
    const TableName = await createTableWithRecentTasksIndex(clients.dynamo);
    const i = RECENT_TASKS_INDEX;
    const at = (minutesAgo: number) => new Date(Date.now() - minutesAgo * 60_000).toISOString();
    const rows: [string, string, number][] = [
      ['t-old', 'SUCCEEDED', 30],
      ['t-new', 'SUCCEEDED', 1],
      ['t-dead', 'DEAD_LETTERED', 5],
      ['t-retry', 'RETRYING', 2],
    ];
    for (const [id, status, ago] of rows) {
      await clients.dynamo.send(
        new PutItemCommand({
          TableName,
          Item: { pk: { S: id }, taskId: { S: id }, type: { S: 'send_email' }, status: { S: status }, attempts: { N: '1' }, createdAt: { S: at(ago + 1) }, updatedAt: { S: at(ago) }, expiresAt: { N: '9999999999' } },
        }),
      );
    }
    const state = localState({ ...resources, tableName: TableName });
    // Plain clients: the IAM harness's stack has no index to grant a Query on (test/infra/operator-permissions.test.ts checks that grant).
    const withIndex = await startConsole({
      target: { local: true },
      sampleIntervalMs: 60_000,
      resolve: { readLocalState: async () => ({ ...state, outputs: { ...state.outputs, [OPTIONAL_STACK_OUTPUTS.recentTasksIndexName]: i.indexName } }) },
    });
    try {
      const reply = (await call(withIndex.port, '/api/recent-tasks?limit=3', { headers: { Authorization: `Bearer ${withIndex.token}` } })).json<{ available: boolean; tasks: { taskId: string; status: string }[] }>();
      expect(reply.available).toBe(true);
      expect(reply.tasks.map((t) => [t.taskId, t.status])).toEqual([
        ['t-new', 'SUCCEEDED'],
        ['t-retry', 'RETRYING'],
        ['t-dead', 'DEAD_LETTERED'],
      ]);
      expect((await call(withIndex.port, '/api/recent-tasks?limit=0', { headers: { Authorization: `Bearer ${withIndex.token}` } })).status).toBe(400);
    } finally {
      await withIndex.close();
    }
  });
});

/** A task record as the consumer writes it. */
async function putRecord(key: string, fields: Record<string, { S: string } | { N: string }>): Promise<void> {
  const now = new Date().toISOString();
  await clients.dynamo.send(
    new PutItemCommand({
      TableName: resources.tableName,
      Item: { pk: { S: key }, taskId: { S: key }, type: { S: 'report' }, attempts: { N: '1' }, createdAt: { S: now }, updatedAt: { S: now }, expiresAt: { N: String(Math.floor(Date.now() / 1000) + 3600) }, ...fields },
    }),
  );
}

async function statusOf(key: string): Promise<string | undefined> {
  return (await clients.dynamo.send(new GetItemCommand({ TableName: resources.tableName, Key: { pk: { S: key } }, ConsistentRead: true }))).Item?.status?.S;
}

describe('taskq console: cancel, results, schedules', () => {
  it('cancel needs the token and "confirm": "cancel"; then the task is CANCELLED with its time in the view and the timeline', async () => {
    await putRecord('tsk_console_cancel', { status: { S: 'RETRYING' }, nextAttemptAt: { S: new Date(Date.now() + 60_000).toISOString() }, lastError: { S: 'timeout' } });
    expect((await call(console_.port, '/api/tasks/cancel', { method: 'POST', body: { taskId: 'tsk_console_cancel', confirm: 'cancel' } })).status).toBe(401);
    for (const body of [{ taskId: 'tsk_console_cancel' }, { taskId: 'tsk_console_cancel', confirm: 'yes' }]) {
      const refused = await call(console_.port, '/api/tasks/cancel', { method: 'POST', headers: auth, body });
      expect(refused.status).toBe(400);
      expect(refused.json().error).toMatchObject({ code: 'CONFIRMATION_REQUIRED' });
    }
    expect((await call(console_.port, '/api/tasks/cancel', { method: 'POST', headers: auth, body: { confirm: 'cancel' } })).status).toBe(400);
    expect(await statusOf('tsk_console_cancel')).toBe('RETRYING');

    const cancelled = await call(console_.port, '/api/tasks/cancel', { method: 'POST', headers: auth, body: { taskId: 'tsk_console_cancel', confirm: 'cancel' } });
    expect(cancelled.status).toBe(200);
    expect(cancelled.json()).toMatchObject({ taskId: 'tsk_console_cancel', status: 'CANCELLED', wasRunning: false, alreadyCancelled: false });
    expect(await statusOf('tsk_console_cancel')).toBe('CANCELLED');
    const view = (await call(console_.port, '/api/tasks?id=tsk_console_cancel', { headers: auth })).json<{ task: { status: string; cancelledAt?: string }; timeline: { kind: string; at?: string }[] }>();
    expect(view.task.status).toBe('CANCELLED');
    expect(Date.parse(view.task.cancelledAt!)).toBeGreaterThan(Date.now() - 60_000);
    expect(view.timeline.at(-1)).toEqual({ kind: 'cancelled', at: view.task.cancelledAt });
  });

  it('cancel of a finished task is refused (409) with the words of taskq cancel, and changes nothing', async () => {
    await putRecord('tsk_console_done', { status: { S: 'SUCCEEDED' }, result: { S: '{"ok":true}' } });
    const refused = await call(console_.port, '/api/tasks/cancel', { method: 'POST', headers: auth, body: { taskId: 'tsk_console_done', confirm: 'cancel' } });
    expect(refused.status).toBe(409);
    const cli = await cancelTask({ dynamo: async () => clients.dynamo, tableName: resources.tableName, taskId: 'tsk_console_done' }).catch((e: unknown) => e);
    expect(cli).toBeInstanceOf(OpsError);
    expect(refused.json().error).toEqual({ code: 'REFUSED', message: (cli as OpsError).message });
    expect((cli as OpsError).message).toMatch(/SUCCEEDED/);
    expect(await statusOf('tsk_console_done')).toBe('SUCCEEDED');
  });

  it('result: a small one is in the task view; a stored one shows only its reference until fetched from S3 on request', async () => {
    await putRecord('tsk_console_small', { status: { S: 'SUCCEEDED' }, result: { S: '{"rows":3}' } });
    const small = (await call(console_.port, '/api/tasks?id=tsk_console_small', { headers: auth })).json<{ task: { result: unknown } }>();
    expect(small.task.result).toEqual({ rows: 3 });

    const key = `${DEFAULTS.resultPrefix}tsk_console_big.json`;
    const stored = JSON.stringify({ report: 'quarterly-secret-figures', rows: Array.from({ length: 100 }, (_, i) => i) });
    await clients.s3.send(new PutObjectCommand({ Bucket: resources.bucketName, Key: key, Body: stored }));
    const ref = { bucket: resources.bucketName, key, size: Buffer.byteLength(stored) };
    await putRecord('tsk_console_big', { status: { S: 'SUCCEEDED' }, resultRef: { S: JSON.stringify(ref) } });
    const page = await call(console_.port, '/api/tasks?id=tsk_console_big', { headers: auth });
    expect(page.body).not.toContain('quarterly-secret-figures');
    expect(page.json<{ task: Record<string, unknown> }>().task).toMatchObject({ resultRef: ref });
    expect(page.json<{ task: Record<string, unknown> }>().task).not.toHaveProperty('result');

    expect((await call(console_.port, '/api/tasks/result?id=tsk_console_big')).status).toBe(401);
    const fetched = await call(console_.port, '/api/tasks/result?id=tsk_console_big', { headers: auth });
    expect(fetched.status).toBe(200);
    expect(fetched.json()).toEqual({ taskId: 'tsk_console_big', result: JSON.parse(stored) });

    // A reference outside the results prefix is not followed (the record is no licence to read any object).
    await putRecord('tsk_console_elsewhere', { status: { S: 'SUCCEEDED' }, resultRef: { S: JSON.stringify({ ...ref, key: `${DEFAULTS.claimPrefix}x.json` }) } });
    const elsewhere = (await call(console_.port, '/api/tasks/result?id=tsk_console_elsewhere', { headers: auth })).json<{ result?: unknown; resultError?: string }>();
    expect(elsewhere.result).toBeUndefined();
    expect(elsewhere.resultError).toMatch(/outside results\//);
    expect((await call(console_.port, '/api/tasks/result', { headers: auth })).status).toBe(400);
  });

  it('schedules (local): listed with state, expression, time zone and next run; pause and resume need the token and their confirmation, and write the control file the local scheduler reads', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'taskq-console-schedules-'));
    const statePath = join(dir, 'state.json');
    const nextRun = new Date(Date.now() + 3_600_000).toISOString();
    /** The state file as the local scheduler writes it. */
    const writeState = (nightly: 'ENABLED' | 'DISABLED') =>
      writeLocalState(
        {
          ...localState(resources),
          schedules: [
            { name: 'nightly-report', state: nightly, expression: 'cron(0 2 ? * * *)', timezone: 'Europe/Berlin', description: 'the report', ...(nightly === 'ENABLED' ? { nextRun } : {}), lastRun: '2026-12-02T01:00:00.000Z' },
            { name: 'tick', state: 'DISABLED', expression: 'rate(5 minutes)', timezone: 'UTC' },
          ],
        },
        statePath,
      );
    await writeState('ENABLED');
    const other = await start(resources, { localStatePath: statePath });
    try {
      const headers = { Authorization: `Bearer ${other.token}` };
      expect((await call(other.port, '/api/schedules')).status).toBe(401);
      const listed = (await call(other.port, '/api/schedules', { headers })).json<{ schedules: unknown[] }>();
      expect(listed.schedules).toEqual([
        { name: 'nightly-report', state: 'ENABLED', expression: 'cron(0 2 ? * * *)', timezone: 'Europe/Berlin', description: 'the report', nextRun },
        { name: 'tick', state: 'DISABLED', expression: 'rate(5 minutes)', timezone: 'UTC' },
      ]);

      expect((await call(other.port, '/api/schedules/nightly-report/pause', { method: 'POST', body: { confirm: 'pause' } })).status).toBe(401);
      for (const body of [{}, { confirm: 'resume' }]) {
        const refused = await call(other.port, '/api/schedules/nightly-report/pause', { method: 'POST', headers, body });
        expect(refused.status).toBe(400);
        expect(refused.json().error).toMatchObject({ code: 'CONFIRMATION_REQUIRED' });
      }
      expect((await call(other.port, '/api/schedules/tick/resume', { method: 'POST', headers, body: { confirm: 'pause' } })).status).toBe(400);
      expect(await readScheduleControl(statePath)).toEqual({});

      const paused = await call(other.port, '/api/schedules/nightly-report/pause', { method: 'POST', headers, body: { confirm: 'pause' } });
      expect(paused.status).toBe(200);
      expect(paused.json()).toMatchObject({ name: 'nightly-report', state: 'DISABLED' });
      expect(await readScheduleControl(statePath)).toEqual({ 'nightly-report': 'DISABLED' });
      // One listing serves every page for a sample interval (60 s here); a pause or resume drops it.
      await writeState('DISABLED');
      const after = (await call(other.port, '/api/schedules', { headers })).json<{ schedules: { name: string; state: string; nextRun?: string }[] }>();
      expect(after.schedules[0]).toMatchObject({ name: 'nightly-report', state: 'DISABLED' });
      expect(after.schedules[0]).not.toHaveProperty('nextRun');
      await writeState('ENABLED');
      expect((await call(other.port, '/api/schedules', { headers })).json<{ schedules: { state: string }[] }>().schedules[0]!.state).toBe('DISABLED');
      const resumed = await call(other.port, '/api/schedules/tick/resume', { method: 'POST', headers, body: { confirm: 'resume' } });
      expect(resumed.json()).toMatchObject({ name: 'tick', state: 'ENABLED' });
      expect(await readScheduleControl(statePath)).toEqual({ 'nightly-report': 'DISABLED', tick: 'ENABLED' });

      const unknown = await call(other.port, '/api/schedules/nope/pause', { method: 'POST', headers, body: { confirm: 'pause' } });
      expect(unknown.status).toBe(404);
      expect(unknown.json().error).toMatchObject({ code: 'SCHEDULE_NOT_FOUND' });
    } finally {
      await other.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

async function waitForJob(port: number, headers: Record<string, string>, id: string) {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const job = (await call(port, `/api/jobs/${id}`, { headers })).json<{ state: string; progress: unknown; result: unknown }>();
    if (job.state !== 'running') return job;
    if (Date.now() > deadline) throw new Error(`redrive job ${id} still running`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
