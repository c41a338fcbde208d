/**
 * `taskq console --local` in a real browser: Chromium (Debian's package, driven by
 * playwright-core through its executablePath) against the local system as a user runs it —
 * `taskq local --demo` in a child process (as test/e2e/local-system.test.ts starts it), run in
 * test/fixtures/console-app/ (a cdk.json and its app: default stack with the
 * recent-tasks index and two schedules), and `taskq console --local` in another, its front
 * end built by web/build.mjs as `npm run build` builds it.
 *
 * It checks that the overview shows the demo's tasks and the DLQ alarm in ALARM, that a task
 * page shows a retry timeline (a webhook whose receiver answers 503 once), that a DLQ redrive by type
 * moves the messages and the page updates, that a schedule is paused and resumed from the
 * schedules page (and the local scheduler applies it), that a task waiting for its retry is
 * cancelled from its page (and its retry never runs), that a group sent with sendGroup shows
 * OPEN, then COMPLETE with its counts, its callback and its members linked both ways, its
 * dead-lettered member's DLQ message naming it (and an unknown group id a page saying so), and
 * that a request without the token is refused.
 * Screenshots of each page go to a temporary folder, or to docs/ with
 * TASKQ_CONSOLE_SCREENSHOTS=docs (how docs/console-*.png are made).
 *
 * The local system runs under IAM enforcement (its poller and consumer as the consumer
 * role); the console's own AWS calls are checked under the operator role in
 * test/integration/console/console-server.test.ts.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import { DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { TaskProducer } from '../../lib/client/index.ts';
import { LOCAL_CREDENTIALS } from '../../lib/local/emulators.ts';
import { readLocalState, type LocalState } from '../../lib/local/state.ts';
import { DEAD_LETTER_ATTRIBUTES, MESSAGE_ATTRIBUTES } from '../../lib/protocol/attributes.ts';
import { encodeEnvelope } from '../../lib/protocol/envelope.ts';
import { newTaskId } from '../../lib/protocol/ids.ts';
import { DEFAULTS, STACK_OUTPUTS } from '../../lib/protocol/resources.ts';
import { childEnforcement } from '../support/iam/child-process.ts';

/** Debian's chromium; CHROMIUM_PATH for another build. .ci/run installs it when missing. */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

let dir: string;
let statePath: string;
let assetsDir: string;
let screenshots: string;
let local: ChildProcess;
let consoleProcess: ChildProcess;
let localOutput = '';
let consoleOutput = '';
let state: LocalState;
let consoleUrl: string;
let browser: Browser;
let page: Page;
let sqs: SQSClient;
let producer: TaskProducer;
let dynamo: DynamoDBClient;
let s3: S3Client;
const iam = childEnforcement({ pollerPrincipal: 'consumer' });

async function until<T>(probe: () => Promise<T | undefined> | T | undefined, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; taskq local output:\n${localOutput}\ntaskq console output:\n${consoleOutput}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const TSX = resolve('node_modules/.bin/tsx');
const TASKQ = resolve('bin/taskq.ts');

function startChild(args: string[], env: NodeJS.ProcessEnv, onOutput: (text: string) => void, cwd = process.cwd()): ChildProcess {
  const child = spawn(TSX, args, { cwd, env: { ...process.env, ...env, FORCE_COLOR: '0' }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (chunk: Buffer) => onOutput(chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => onOutput(chunk.toString()));
  return child;
}

function stopChild(child: ChildProcess | undefined): void {
  if (child && child.exitCode === null && child.signalCode === null) {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
}

async function shot(name: string): Promise<void> {
  await page.screenshot({ path: join(screenshots, `console-${name}.png`), fullPage: true });
}

/** A send_email task as the consumer dead-letters one (it succeeds when redriven). */
async function putSendEmailDeadLetter(n: number): Promise<string> {
  const taskId = newTaskId();
  const s = (value: string) => ({ DataType: 'String', StringValue: value });
  await sqs.send(
    new SendMessageCommand({
      QueueUrl: state.outputs[STACK_OUTPUTS.deadLetterQueueUrl]!,
      MessageBody: encodeEnvelope({ v: 1, id: taskId, type: 'send_email', payload: { to: `redrive${n}@example.com`, subject: `Redrive ${n}` }, createdAt: new Date().toISOString() }),
      MessageAttributes: {
        [MESSAGE_ATTRIBUTES.taskType]: s('send_email'),
        [MESSAGE_ATTRIBUTES.taskId]: s(taskId),
        [DEAD_LETTER_ATTRIBUTES.reason]: s('attempts-exhausted'),
        [DEAD_LETTER_ATTRIBUTES.attempts]: { DataType: 'Number', StringValue: '5' },
        [DEAD_LETTER_ATTRIBUTES.lastError]: s('SMTP 421: try again later'),
        [DEAD_LETTER_ATTRIBUTES.originalMessageId]: s('00000000-0000-0000-0000-000000000000'),
        [DEAD_LETTER_ATTRIBUTES.deadLetteredAt]: s(new Date().toISOString()),
      },
    }),
  );
  return taskId;
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: apt-get install -y chromium (.ci/run does), or set CHROMIUM_PATH`);
  dir = await mkdtemp(join(tmpdir(), 'taskq-console-e2e-'));
  statePath = join(dir, 'state.json');
  assetsDir = join(dir, 'assets');
  screenshots = process.env.TASKQ_CONSOLE_SCREENSHOTS === 'docs' ? join(process.cwd(), 'docs') : join(dir, 'screenshots');
  // The front end exactly as `npm run build` makes it.
  execFileSync('node', ['web/build.mjs', assetsDir], { cwd: process.cwd(), stdio: 'pipe' });

  // The app: the default stack with the recent-tasks index and two schedules.
  const appDir = resolve('test/fixtures/console-app');
  local = startChild(
    [...iam.importArgs, TASKQ, 'local', '--demo', '--sqs-port', '0', '--dynamo-port', '0', '--status-interval', '1'],
    { ...iam.env, TASKQ_LOCAL_STATE: statePath },
    (text) => (localOutput += text),
    appDir,
  );
  state = await until(() => readLocalState(statePath), 180_000, 'the local system');
  const common = { region: state.region, credentials: LOCAL_CREDENTIALS };
  sqs = new SQSClient({ ...common, endpoint: state.sqsEndpoint });
  s3 = new S3Client({ ...common, endpoint: state.s3Endpoint, forcePathStyle: true });
  dynamo = new DynamoDBClient({ ...common, endpoint: state.dynamoEndpoint });
  producer = new TaskProducer({
    queueUrl: state.outputs[STACK_OUTPUTS.queueUrl]!,
    bucketName: state.outputs[STACK_OUTPUTS.bucketName]!,
    tableName: state.outputs[STACK_OUTPUTS.tableName]!,
    sqs,
    s3,
    dynamo,
  });

  consoleProcess = startChild([TASKQ, 'console', '--local', '--interval', '1'], { TASKQ_LOCAL_STATE: statePath, TASKQ_CONSOLE_ASSETS: assetsDir }, (text) => (consoleOutput += text));
  consoleUrl = await until(() => /taskq console: (http:\/\/127\.0\.0\.1:\d+\/\?token=[A-Za-z0-9_-]+)/.exec(consoleOutput)?.[1], 60_000, 'the console address');

  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
}, 300_000);

afterEach(() => iam.assertNoDenials());

afterAll(async () => {
  await browser?.close();
  stopChild(consoleProcess);
  stopChild(local);
  producer?.destroy();
  dynamo?.destroy();
  s3?.destroy();
  sqs?.destroy();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('taskq console --local in Chromium', () => {
  it('refuses a request without the token (the page, and the API from another page)', async () => {
    const base = consoleUrl.slice(0, consoleUrl.indexOf('?'));
    const refused = await page.goto(base);
    expect(refused?.status()).toBe(401);
    expect(await page.textContent('body')).toContain('TOKEN_REQUIRED');
    const api = await page.evaluate(async (url) => (await fetch(`${url}api/overview`)).status, base);
    expect(api).toBe(401);
  });

  it('overview: the demo\'s tasks, the queue figures and charts, and the DLQ alarm in ALARM', async () => {
    await page.goto(consoleUrl);
    await page.getByTestId('lane').first().waitFor();
    // The demo dead-letters its poison task; the alarm follows within seconds.
    await page.locator('[data-testid="alarm"][data-state="ALARM"]', { hasText: 'DeadLetterQueueNotEmpty' }).waitFor({ timeout: 90_000 });
    expect(Number(await page.getByTestId('dlq-depth').locator('.value').textContent())).toBeGreaterThanOrEqual(1);
    // Recent tasks from the index (refreshed every 5 s): the demo's poison charge, its webhook and its send_email tasks.
    await page.getByTestId('recent-task').filter({ hasText: 'charge' }).filter({ hasText: 'DEAD_LETTERED' }).waitFor({ timeout: 30_000 });
    const rows = await page.getByTestId('recent-task').allTextContents();
    expect(rows.some((r) => r.includes('send_email') && r.includes('SUCCEEDED')), rows.join('\n')).toBe(true);
    expect(rows.some((r) => r.includes('webhook') && r.includes('SUCCEEDED')), rows.join('\n')).toBe(true);
    // uPlot drew both charts.
    await expect.poll(() => page.locator('[data-testid="chart-counts"] canvas').count()).toBe(1);
    await expect.poll(() => page.locator('[data-testid="chart-rates"] canvas').count()).toBe(1);
    await shot('overview');
  });

  it('task page: a webhook answered 503 once shows its retry timeline live — the failed attempt with its error, the next attempt, then success', async () => {
    // A receiver that refuses the first delivery for 8 s (Retry-After), then accepts.
    let calls = 0;
    const receiver = createServer((_req, res) => {
      calls += 1;
      if (calls === 1) res.writeHead(503, { 'Retry-After': '8' }).end('busy');
      else res.writeHead(200).end('ok');
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    try {
      const { taskId } = await producer.send('webhook', { url, body: { event: 'order.paid', order: 7 } });
      await page.goto(`${consoleUrl}#/tasks/${taskId}`);
      await page.getByTestId('task-status').filter({ hasText: 'RETRYING' }).waitFor({ timeout: 30_000 });
      const failed = page.locator('[data-testid="timeline-event"][data-kind="attempt-failed"]');
      await failed.filter({ hasText: '503' }).waitFor();
      await page.locator('[data-testid="timeline-event"][data-kind="retry-due"]', { hasText: 'attempt 2' }).waitFor();
      await shot('task-retrying');

      await page.getByTestId('task-status').filter({ hasText: 'SUCCEEDED' }).waitFor({ timeout: 30_000 });
      expect(await page.getByTestId('task-attempts').textContent()).toBe('2');
      const kinds = await page.getByTestId('timeline-event').evaluateAll((items) => items.map((i) => i.getAttribute('data-kind')));
      expect(kinds.filter((k) => k !== 'observed')).toEqual(['accepted', 'attempt-failed', 'succeeded']);
      // What the console saw while the page was open keeps the error the record dropped on success.
      await page.locator('[data-testid="timeline-event"][data-kind="observed"]', { hasText: 'RETRYING' }).filter({ hasText: '503' }).waitFor();
      await page.locator('[data-testid="timeline-event"][data-kind="observed"]', { hasText: 'SUCCEEDED' }).waitFor();
      expect(calls).toBe(2);
      await shot('task');
    } finally {
      receiver.close();
    }
  });

  it('DLQ page: filters by type, redrives one type after a confirmation, and the list updates', async () => {
    const redriven = [await putSendEmailDeadLetter(1), await putSendEmailDeadLetter(2)];
    await page.goto(consoleUrl);
    await page.getByTestId('nav-dlq').click();
    await until(async () => ((await page.locator('[data-testid="dlq-row"][data-type="send_email"]').count()) === 2 ? true : undefined), 30_000, 'the two send_email dead letters');
    expect(await page.locator('[data-testid="dlq-row"][data-type="charge"]').count()).toBeGreaterThanOrEqual(1);
    await page.getByTestId('filter-type').selectOption('send_email');
    expect(await page.getByTestId('dlq-row').count()).toBe(2);
    await page.getByTestId('peek').first().click();
    await page.getByTestId('peek-details').waitFor();
    await shot('dlq');

    await page.getByTestId('redrive-type').click();
    const dialog = page.getByTestId('confirm-dialog');
    await dialog.waitFor();
    expect(await dialog.textContent()).toContain('every send_email task');
    await page.getByTestId('confirm-button').click();
    await page.getByTestId('dlq-notice').filter({ hasText: '2 moved' }).waitFor({ timeout: 30_000 });
    await page.getByTestId('filter-type').selectOption('');
    await until(async () => ((await page.locator('[data-testid="dlq-row"][data-type="send_email"]').count()) === 0 ? true : undefined), 30_000, 'the send_email rows to leave');
    expect(await page.locator('[data-testid="dlq-row"][data-type="charge"]').count()).toBeGreaterThanOrEqual(1);

    // The consumer ran them: their task pages say SUCCEEDED.
    for (const taskId of redriven) {
      await page.goto(`${consoleUrl}#/tasks/${taskId}`);
      await page.getByTestId('task-status').filter({ hasText: 'SUCCEEDED' }).waitFor({ timeout: 30_000 });
    }
  });

  it('schedules page: both schedules with their next run; a schedule paused and resumed after a confirmation, the local scheduler applying it', async () => {
    await page.goto(consoleUrl);
    await page.getByTestId('nav-schedules').click();
    const digest = page.locator('[data-testid="schedule-row"][data-name="weekday-digest"]');
    await digest.and(page.locator('[data-state="ENABLED"]')).waitFor({ timeout: 30_000 });
    expect(await page.getByTestId('schedule-row').count()).toBe(2);
    expect(await digest.textContent()).toContain('Europe/Berlin');
    expect(await digest.textContent()).toContain('cron(0 9 ? * MON-FRI *)');
    expect(await digest.getByTestId('schedule-next-run').textContent()).not.toBe('—');

    await digest.getByTestId('schedule-pause').click();
    const dialog = page.getByTestId('confirm-dialog');
    await dialog.waitFor();
    expect(await dialog.textContent()).toContain('weekday-digest');
    await page.getByTestId('confirm-button').click();
    await page.getByTestId('schedules-notice').filter({ hasText: 'weekday-digest paused' }).waitFor();
    // The page follows the local system: the scheduler applied the pause (no next run while paused).
    await digest.and(page.locator('[data-state="DISABLED"]')).waitFor({ timeout: 30_000 });
    expect(await digest.getByTestId('schedule-next-run').textContent()).toBe('—');
    expect((await readLocalState(statePath))!.schedules!.find((s) => s.name === 'weekday-digest')!.state).toBe('DISABLED');
    expect((await readLocalState(statePath))!.schedules!.find((s) => s.name === 'monthly-report')!.state).toBe('ENABLED');
    await shot('schedules');

    await digest.getByTestId('schedule-resume').click();
    await page.getByTestId('confirm-button').click();
    await digest.and(page.locator('[data-state="ENABLED"]')).waitFor({ timeout: 30_000 });
    expect(await digest.getByTestId('schedule-next-run').textContent()).not.toBe('—');
    expect((await readLocalState(statePath))!.schedules!.find((s) => s.name === 'weekday-digest')!.state).toBe('ENABLED');
  });

  it('task page: a task waiting for its retry is cancelled after a confirmation; it shows CANCELLED with its time, and the retry never runs', async () => {
    let calls = 0;
    const receiver = createServer((_req, res) => {
      calls += 1;
      res.writeHead(503, { 'Retry-After': '4' }).end('busy');
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    try {
      const { taskId } = await producer.send('webhook', { url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`, body: { event: 'order.cancelled' } });
      await page.goto(`${consoleUrl}#/tasks/${taskId}`);
      await page.getByTestId('task-status').filter({ hasText: 'RETRYING' }).waitFor({ timeout: 30_000 });
      await page.getByTestId('task-cancel').click();
      expect(await page.getByTestId('confirm-dialog').textContent()).toContain(taskId);
      await page.getByTestId('confirm-button').click();
      await page.getByTestId('task-status').filter({ hasText: 'CANCELLED' }).waitFor({ timeout: 30_000 });
      await page.getByTestId('task-notice').filter({ hasText: 'acknowledged without running' }).waitFor();
      expect(await page.getByTestId('task-cancelled-at').textContent()).not.toBe('—');
      await page.locator('[data-testid="timeline-event"][data-kind="cancelled"]').waitFor();
      expect(await page.getByTestId('task-cancel').count()).toBe(0);
      await shot('task-cancelled');
      // The retry was due 4 s after the first attempt: its copy is acknowledged unrun.
      await new Promise((r) => setTimeout(r, 10_000));
      expect(calls).toBe(1);
      expect((await producer.getTaskStatus(taskId)).status).toBe('CANCELLED');
    } finally {
      receiver.close();
    }
  });

  it('task page: a task that finishes while the cancel dialog is open is refused in the words of taskq cancel', async () => {
    let calls = 0;
    const receiver = createServer((_req, res) => {
      calls += 1;
      if (calls === 1) res.writeHead(503, { 'Retry-After': '3' }).end('busy');
      else res.writeHead(200).end('ok');
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    try {
      const { taskId } = await producer.send('webhook', { url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`, body: { event: 'order.shipped' } });
      await page.goto(`${consoleUrl}#/tasks/${taskId}`);
      await page.getByTestId('task-status').filter({ hasText: 'RETRYING' }).waitFor({ timeout: 30_000 });
      await page.getByTestId('task-cancel').click();
      await page.getByTestId('confirm-dialog').waitFor();
      await until(async () => ((await producer.getTaskStatus(taskId)).status === 'SUCCEEDED' ? true : undefined), 30_000, 'the retry to succeed');
      await page.getByTestId('confirm-button').click();
      const cli = await producer.cancel(taskId).then(
        () => 'not refused',
        (e: Error) => e.message,
      );
      expect(cli).toMatch(/cannot be cancelled: it has already finished \(SUCCEEDED\)/);
      await page.getByTestId('task-cancel-error').filter({ hasText: cli }).waitFor();
      await page.getByTestId('task-status').filter({ hasText: 'SUCCEEDED' }).waitFor();
      expect(await page.getByTestId('task-cancel').count()).toBe(0);
    } finally {
      receiver.close();
    }
  });

  it('task page: a result stored in S3 shows its size; the result itself only after "Fetch the result"', async () => {
    // A record as the consumer writes it for a result above MAX_RESULT_BYTES (no demo task returns one).
    const taskId = newTaskId();
    const stored = JSON.stringify({ report: 'q4-figures-7f3a', rows: Array.from({ length: 120 }, (_, i) => ({ i, total: i * 3 })) });
    const key = `${DEFAULTS.resultPrefix}${taskId}.json`;
    const bucket = state.outputs[STACK_OUTPUTS.bucketName]!;
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: stored }));
    const now = new Date().toISOString();
    await dynamo.send(
      new PutItemCommand({
        TableName: state.outputs[STACK_OUTPUTS.tableName]!,
        Item: {
          pk: { S: taskId },
          taskId: { S: taskId },
          type: { S: 'report' },
          status: { S: 'SUCCEEDED' },
          attempts: { N: '1' },
          createdAt: { S: now },
          updatedAt: { S: now },
          resultRef: { S: JSON.stringify({ bucket, key, size: Buffer.byteLength(stored) }) },
          expiresAt: { N: String(Math.floor(Date.now() / 1000) + 3600) },
        },
      }),
    );
    await page.goto(`${consoleUrl}#/tasks/${taskId}`);
    await page.getByTestId('task-result-ref').filter({ hasText: `stored in S3, ${Buffer.byteLength(stored)} bytes` }).waitFor({ timeout: 30_000 });
    expect(await page.textContent('body')).not.toContain('q4-figures-7f3a');
    await page.getByTestId('fetch-result').click();
    await page.getByTestId('task-result').filter({ hasText: 'q4-figures-7f3a' }).waitFor();
    expect(JSON.parse((await page.getByTestId('task-result').textContent())!)).toEqual(JSON.parse(stored));
  });

  it('group page: a group sent with sendGroup is OPEN, then COMPLETE with its counts and callback; members link to their task pages and back; the look-up box takes a group id; an unknown id says so', async () => {
    const groupId = `orders-${Date.now()}`;
    const sent = await producer.sendGroup(
      [
        { type: 'send_email', payload: { to: 'a@example.com', subject: 'Order 1 shipped' } },
        { type: 'send_email', payload: { to: 'b@example.com', subject: 'Order 2 shipped' } },
        { type: 'charge', payload: { customerId: 'cus_group', amount: -1, currency: 'EUR' } },
        // Held back a while, so the page shows the group OPEN first.
        { type: 'send_email', payload: { to: 'c@example.com', subject: 'Order 3 shipped' }, delaySeconds: 12 },
      ],
      { groupId, onComplete: { type: 'send_email', payload: { to: 'ops@example.com', subject: 'Orders shipped' } } },
    );
    expect(sent).toMatchObject({ groupId, total: 4, unsent: 0 });

    await page.goto(consoleUrl);
    await page.getByTestId('nav-task').click();
    await page.getByTestId('lookup-by').selectOption('group');
    await page.getByTestId('lookup-input').fill(groupId);
    await page.getByTestId('lookup-input').press('Enter');
    await page.getByTestId('group-status').filter({ hasText: 'OPEN' }).waitFor({ timeout: 30_000 });
    expect(await page.locator('[data-testid="group-total"] .value').textContent()).toBe('4');
    expect(Number(await page.locator('[data-testid="group-pending"] .value').textContent())).toBeGreaterThanOrEqual(1);
    expect(await page.getByTestId('group-callback-status').textContent()).toContain('not sent yet');

    await page.getByTestId('group-status').filter({ hasText: 'COMPLETE' }).waitFor({ timeout: 60_000 });
    const figure = async (name: string) => page.locator(`[data-testid="group-${name}"] .value`).textContent();
    expect([await figure('total'), await figure('succeeded'), await figure('dead-lettered'), await figure('cancelled'), await figure('pending')]).toEqual(['4', '3', '1', '0', '0']);
    await page.getByTestId('group-callback-status').filter({ hasText: 'SUCCEEDED' }).waitFor({ timeout: 30_000 });
    const rows = await page.getByTestId('group-member').evaluateAll((items) => items.map((i) => [i.getAttribute('data-index'), i.getAttribute('data-status')]));
    expect(rows).toEqual([
      ['0', 'SUCCEEDED'],
      ['1', 'SUCCEEDED'],
      ['2', 'DEAD_LETTERED'],
      ['3', 'SUCCEEDED'],
    ]);
    await shot('group');

    // A member's link opens its task page, which links back to the group.
    await page.locator('[data-testid="group-member"][data-index="2"]').getByTestId('group-member-link').click();
    await page.getByTestId('task-status').filter({ hasText: 'DEAD_LETTERED' }).waitFor({ timeout: 30_000 });
    expect(await page.getByTestId('task-group').textContent()).toContain(`member 2 of group ${groupId}`);
    await page.getByTestId('task-group-link').click();
    await page.getByTestId('group-status').filter({ hasText: 'COMPLETE' }).waitFor();
    // Its DLQ message names the group too (Peek on the DLQ page).
    await page.goto(`${consoleUrl}#/dlq/default`);
    const deadMember = page.getByTestId('dlq-row').filter({ hasText: `${groupId}.2` });
    await deadMember.waitFor({ timeout: 30_000 });
    await deadMember.getByTestId('peek').click();
    expect(await page.getByTestId('peek-group').textContent()).toBe(groupId);
    await page.goto(`${consoleUrl}#/groups/${groupId}`);
    await page.getByTestId('group-status').filter({ hasText: 'COMPLETE' }).waitFor();
    // The callback's link opens its task page (by its idempotency key), which says whose callback it is.
    await page.getByTestId('group-callback-link').click();
    await page.getByTestId('task-status').filter({ hasText: 'SUCCEEDED' }).waitFor({ timeout: 30_000 });
    expect(await page.getByTestId('task-group').textContent()).toContain(`the callback of group ${groupId}`);

    await page.goto(`${consoleUrl}#/groups/no-such-group`);
    const refused = page.getByTestId('group-refused');
    await refused.waitFor({ timeout: 30_000 });
    expect(await refused.getAttribute('data-code')).toBe('GROUP_NOT_FOUND');
    expect(await refused.textContent()).toContain('No such group');
    await page.goto(`${consoleUrl}#/groups/${encodeURIComponent('not a group')}`);
    await page.locator('[data-testid="group-refused"][data-code="USAGE"]').waitFor({ timeout: 30_000 });
    expect(await page.getByTestId('group-refused').textContent()).toContain('Not a group id');

    // A group's address pasted into the look-up box goes to the group, whatever the box is set to.
    await page.getByTestId('nav-task').click();
    await page.getByTestId('lookup-input').fill(`${consoleUrl}#/groups/${groupId}`);
    await page.getByTestId('lookup-input').press('Enter');
    await page.getByTestId('group-status').filter({ hasText: 'COMPLETE' }).waitFor({ timeout: 30_000 });
  });
});
