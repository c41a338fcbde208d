/**
 * The `taskq` executable run as a user runs it: a child process (`npx tsx bin/taskq.ts`),
 * against the test emulators — by explicit endpoint/URL flags, or through a local state
 * file (TASKQ_LOCAL_STATE) like the one `npm start` writes.
 */
import { execFile } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { GetQueueAttributesCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { PutItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createTestResources, emulatorEndpoints, testClients, type TestResources } from '../../support/aws.ts';
import { writeLocalState, type LocalState } from '../../../lib/local/state.ts';
import { DEAD_LETTER_ATTRIBUTES, MESSAGE_ATTRIBUTES, REDRIVE_ATTRIBUTES } from '../../../lib/protocol/attributes.ts';
import { TaskProducer } from '../../../lib/client/index.ts';
import { putDeadLetter, taskIds, visibleMessages } from './helpers.ts';
import { childEnforcement } from '../../support/iam/child-process.ts';
import { localStateFor } from '../../support/local-state.ts';
import { registerAbsent, registerStack } from '../../support/iam/resource-roles.ts';
import { STAND_IN_OLDEST_AGE_SECONDS } from '../../support/stand-ins/control-plane.ts';
import { policyModels, VARIANTS } from '../../support/iam/synthesized-policies.ts';
import { uniqueName } from '../../support/aws.ts';

const repo = fileURLToPath(new URL('../../../', import.meta.url));

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  json: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/**
 * Runs the CLI as the operator role: every AWS call it makes is evaluated against the
 * synthesized stack's policies (test/support/iam/); a refused call rejects, naming the
 * missing statement, even when the CLI reported it as something else.
 */
function taskq(args: string[], env: Record<string, string> = {}): Promise<Run> {
  const iam = childEnforcement({ principal: 'operator', controlPlaneStandIn: true });
  return new Promise<Run>((resolve) => {
    execFile(
      'npx',
      ['tsx', ...iam.importArgs, 'bin/taskq.ts', ...args],
      {
        cwd: repo,
        env: {
          ...process.env,
          AWS_ACCESS_KEY_ID: 'local',
          AWS_SECRET_ACCESS_KEY: 'local',
          AWS_REGION: emulatorEndpoints().region,
          AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
          NO_COLOR: '1',
          TASKQ_LOCAL_STATE: join(tmpdir(), 'taskq-cli-test-none', 'state.json'),
          ...iam.env,
          ...env,
        },
        timeout: 60_000,
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 99) : 0;
        let json: unknown;
        try {
          json = JSON.parse(stdout);
        } catch {
          json = undefined;
        }
        resolve({ code, stdout, stderr, json });
      },
    );
  }).then((run) => {
    iam.assertNoDenials();
    return run;
  });
}

function flags(r: TestResources): string[] {
  return ['--endpoint', emulatorEndpoints().sqsEndpoint, '--queue-url', r.queueUrl, '--dlq-url', r.deadLetterQueueUrl];
}

/** A state file as `npm start` writes it, pointing at the test emulators; pid = this (live) process. */
async function localStateFile(r: TestResources, extra: Record<string, unknown> = {}): Promise<string> {
  const path = join(await mkdtemp(join(tmpdir(), 'taskq-cli-')), 'state.json');
  const state: LocalState & Record<string, unknown> = { ...localStateFor(r), ...extra };
  await writeLocalState(state, path);
  return path;
}

describe('taskq CLI (child process)', () => {
  it('stats --json with explicit endpoint and queue URLs', async () => {
    const { sqs } = testClients();
    const r = await createTestResources();
    for (let i = 0; i < 5; i++) await sqs.send(new SendMessageCommand({ QueueUrl: r.queueUrl, MessageBody: `m${i}` }));
    await sqs.send(new SendMessageCommand({ QueueUrl: r.queueUrl, MessageBody: 'later', DelaySeconds: 300 }));
    for (let i = 0; i < 2; i++) await putDeadLetter(sqs, r.deadLetterQueueUrl, { type: 'x' });

    const run = await taskq(['--json', ...flags(r), 'stats']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.json).toMatchObject({
      queue: { url: r.queueUrl, visible: 5, inFlight: 0, delayed: 1, oldestAge: { source: 'emulator' } },
      deadLetterQueue: { url: r.deadLetterQueueUrl, visible: 2, inFlight: 0, delayed: 0 },
      alarms: { source: 'unavailable', alarms: null },
    });
  });

  it('--local stats reads the state file, including the alarms the local system publishes; human output too', async () => {
    const { sqs } = testClients();
    const r = await createTestResources();
    await putDeadLetter(sqs, r.deadLetterQueueUrl, { type: 'x' });
    const state = await localStateFile(r, { alarms: [{ name: 'DeadLetterQueueNotEmpty', state: 'ALARM' }, { name: 'QueueDepth', state: 'OK' }] });
    const [json, human] = await Promise.all([
      taskq(['--local', '--json', 'stats'], { TASKQ_LOCAL_STATE: state }),
      taskq(['stats', '--local'], { TASKQ_LOCAL_STATE: state }),
    ]);
    expect(json.code, json.stderr).toBe(0);
    expect(json.json.deadLetterQueue.visible).toBe(1);
    expect(json.json.alarms).toEqual({ source: 'local-state', alarms: [{ name: 'DeadLetterQueueNotEmpty', state: 'ALARM' }, { name: 'QueueDepth', state: 'OK' }] });
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toMatch(/dead-letter queue/);
    // The state column is as wide as its longest word, not padded for colour codes.
    expect(human.stdout).toMatch(/^ {2}ALARM DeadLetterQueueNotEmpty$/m);
    expect(human.stdout).toMatch(/^ {2}OK {4}QueueDepth$/m);
  });

  it('dlq peek --json shows reason/attempts/type, and a second peek sees the same messages', async () => {
    const { sqs } = testClients();
    const r = await createTestResources();
    const a = await putDeadLetter(sqs, r.deadLetterQueueUrl, { type: 'send_email', reason: 'unknown-type', attempts: 1, lastError: 'no handler', payload: { secret: 's3cr3t' } });
    const b = await putDeadLetter(sqs, r.deadLetterQueueUrl, { type: 'charge', reason: 'attempts-exhausted', attempts: 5 });
    const state = await localStateFile(r);

    const first = await taskq(['--local', '--json', 'dlq', 'peek'], { TASKQ_LOCAL_STATE: state });
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).not.toContain('s3cr3t');
    const byTask = new Map(first.json.messages.map((m: { taskId: string }) => [m.taskId, m]));
    expect(byTask.get(a.taskId)).toMatchObject({ reason: 'unknown-type', attempts: 1, type: 'send_email', lastError: 'no handler' });
    expect(byTask.get(b.taskId)).toMatchObject({ reason: 'attempts-exhausted', attempts: 5, type: 'charge' });

    const second = await taskq(['--json', ...flags(r), 'dlq', 'peek', '--max', '5'], {});
    expect(second.code, second.stderr).toBe(0);
    expect(second.json.messages.map((m: { taskId: string }) => m.taskId).sort()).toEqual([a.taskId, b.taskId].sort());
  });

  it('dlq redrive --type moves that type back (bodies intact, dead-letter attributes gone), leaves the rest; then the rest', async () => {
    const { sqs } = testClients();
    const r = await createTestResources();
    const emails = [];
    const others = [];
    for (let i = 0; i < 4; i++) emails.push(await putDeadLetter(sqs, r.deadLetterQueueUrl, { type: 'send_email' }));
    for (let i = 0; i < 3; i++) others.push(await putDeadLetter(sqs, r.deadLetterQueueUrl, { type: 'charge' }));
    const state = await localStateFile(r);

    const typed = await taskq(['--local', '--json', 'dlq', 'redrive', '--type', 'send_email', '--rate', '50'], { TASKQ_LOCAL_STATE: state });
    expect(typed.code, typed.stderr).toBe(0);
    expect(typed.json).toMatchObject({ method: 'receive-send-delete', moved: 4, skipped: 3, failed: 0, byType: { send_email: 4 } });
    const source = await visibleMessages(sqs, r.queueUrl);
    expect(taskIds(source)).toEqual(emails.map((e) => e.taskId).sort());
    expect(source.map((m) => m.Body).sort()).toEqual(emails.map((e) => e.body).sort());
    for (const m of source) {
      expect(Object.keys(m.MessageAttributes ?? {}).filter((k) => k.startsWith('taskq.')).sort()).toEqual([REDRIVE_ATTRIBUTES.redriveId, REDRIVE_ATTRIBUTES.redrivenAt].sort());
      expect(m.MessageAttributes![MESSAGE_ATTRIBUTES.taskType]!.StringValue).toBe('send_email');
    }
    expect(taskIds(await visibleMessages(sqs, r.deadLetterQueueUrl))).toEqual(others.map((o) => o.taskId).sort());

    const rest = await taskq(['--json', ...flags(r), 'dlq', 'redrive'], {});
    expect(rest.code, rest.stderr).toBe(0);
    expect(rest.json).toMatchObject({ moved: 3, skipped: 0, failed: 0, fallbackReason: expect.stringContaining('StartMessageMoveTask') });
    // Nothing lost, nothing duplicated.
    expect(taskIds(await visibleMessages(sqs, r.queueUrl))).toEqual([...emails, ...others].map((t) => t.taskId).sort());
    const dlq = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: r.deadLetterQueueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }));
    expect(dlq.Attributes).toMatchObject({ ApproximateNumberOfMessages: '0', ApproximateNumberOfMessagesNotVisible: '0' });
    expect(DEAD_LETTER_ATTRIBUTES.reason.startsWith('taskq.')).toBe(true);
  });

  it('send and status through the local system', async () => {
    const { sqs, dynamo } = testClients();
    const r = await createTestResources();
    const state = await localStateFile(r);
    const sent = await taskq(['--local', '--json', 'send', 'send_email', '{"to":"a@example.com"}', '--idempotency-key', 'order-42'], { TASKQ_LOCAL_STATE: state });
    expect(sent.code, sent.stderr).toBe(0);
    expect(sent.json).toMatchObject({ status: 'accepted', idempotencyKey: 'order-42', taskId: expect.stringMatching(/^tsk_/) });
    const queued = await visibleMessages(sqs, r.queueUrl);
    expect(queued).toHaveLength(1);
    expect(JSON.parse(queued[0]!.Body!)).toMatchObject({ v: 1, id: sent.json.taskId, type: 'send_email', payload: { to: 'a@example.com' }, idempotencyKey: 'order-42' });

    // The follow-up command the human output suggests reaches the same (local) system.
    const human = await taskq(['--local', 'send', 'send_email', '{"to":"b@example.com"}'], { TASKQ_LOCAL_STATE: state });
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toMatch(/follow it with: taskq --local status tsk_[0-9a-f]{32}$/m);

    // No record yet: said so (exit 2), never a PENDING that looks like an answer.
    const [pending, pendingHuman] = await Promise.all([
      taskq(['--local', '--json', 'status', sent.json.taskId, '--idempotency-key', 'order-42'], { TASKQ_LOCAL_STATE: state }),
      taskq(['--local', 'status', sent.json.taskId, '--idempotency-key', 'order-42'], { TASKQ_LOCAL_STATE: state }),
    ]);
    expect(pending).toMatchObject({ code: 2, json: { error: { code: 'TASK_NOT_FOUND', exitCode: 2 } } });
    expect(pending.json.error.message).toContain(`no record of task ${sent.json.taskId} (idempotency key order-42)`);
    expect(pendingHuman.code).toBe(2);
    expect(pendingHuman.stdout).toBe('');
    expect(pendingHuman.stderr).toMatch(/no record of task .*not started yet .*or there is no such task/);

    await putSucceeded(dynamo, r.tableName, 'order-42', sent.json.taskId);
    const done = await taskq(['--local', '--json', 'status', sent.json.taskId, '--idempotency-key', 'order-42'], { TASKQ_LOCAL_STATE: state });
    expect(done.json).toMatchObject({ status: 'SUCCEEDED', attempts: 1, type: 'send_email', recordFound: true });
  });

  it('cancel through the local system: a pending task is CANCELLED (status shows it), a finished one is refused (exit 1)', async () => {
    const { dynamo } = testClients();
    const r = await createTestResources();
    const state = await localStateFile(r);
    const env = { TASKQ_LOCAL_STATE: state };
    const sent = await taskq(['--local', '--json', 'send', 'send_email', '{"to":"a@example.com"}'], env);
    const cancelled = await taskq(['--local', '--json', 'cancel', sent.json.taskId], env);
    expect(cancelled.code, cancelled.stderr).toBe(0);
    expect(cancelled.json).toMatchObject({ taskId: sent.json.taskId, status: 'CANCELLED', wasRunning: false, alreadyCancelled: false });
    const [status, again] = await Promise.all([taskq(['--local', 'status', sent.json.taskId], env), taskq(['--local', 'cancel', sent.json.taskId], env)]);
    expect(status.stdout).toMatch(/CANCELLED[\s\S]*cancelled\s+\d{4}-/);
    expect(again.stdout).toMatch(/cancelled .*it was cancelled before/);

    const done = await taskq(['--local', '--json', 'send', 'send_email', '{}'], env);
    await putSucceeded(dynamo, r.tableName, done.json.taskId, done.json.taskId);
    const refused = await taskq(['--local', '--json', 'cancel', done.json.taskId], env);
    expect(refused).toMatchObject({ code: 1, json: { error: { code: 'REFUSED' } } });
    expect(refused.json.error.message).toContain('already finished (SUCCEEDED)');
    // Seven CLI processes: under a loaded machine each takes several seconds to start.
  }, 150_000);

  it('group through the local system: the counts and the callback, as getGroupStatus reads them; an unknown group exits 2', async () => {
    const { sqs, dynamo, s3 } = testClients();
    const r = await createTestResources();
    const env = { TASKQ_LOCAL_STATE: await localStateFile(r) };
    const producer = new TaskProducer({ queueUrl: r.queueUrl, tableName: r.tableName, sqs, dynamo, s3 });
    const sent = await producer.sendGroup([{ type: 'a', payload: {} }, { type: 'b', payload: {} }], { groupId: 'nightly-2026-12-03', onComplete: { type: 'report', payload: {} } });
    const [json, human, unknown] = await Promise.all([
      taskq(['--local', '--json', 'group', sent.groupId], env),
      taskq(['--local', 'group', sent.groupId], env),
      taskq(['--local', '--json', 'group', 'no-such-group'], env),
    ]);
    expect(json.code, json.stderr).toBe(0);
    expect(json.json).toMatchObject({ groupId: 'nightly-2026-12-03', status: 'OPEN', total: 2, succeeded: 0, deadLettered: 0, cancelled: 0, pending: 2, callback: { type: 'report', taskId: 'nightly-2026-12-03.callback' } });
    expect(human.stdout).toMatch(/nightly-2026-12-03 OPEN[\s\S]*members\s+2[\s\S]*pending\s+2[\s\S]*callback\s+report \(task nightly-2026-12-03.callback\) — not sent yet/);
    expect(unknown).toMatchObject({ code: 2, json: { error: { code: 'GROUP_NOT_FOUND' } } });
  }, 150_000);

  it('dlq without a subcommand prints its help and exits 1; --help exits 0', async () => {
    const [bare, help] = await Promise.all([taskq(['dlq']), taskq(['dlq', '--help'])]);
    expect(bare.code).toBe(1);
    expect(bare.stderr).toMatch(/Usage: taskq dlq .*\n[\s\S]*peek[\s\S]*redrive[\s\S]*purge/);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Usage: taskq dlq/);
  });

  it('helpful errors with exit codes: refused purge (1), no local system (2), unknown queue (2), bad flag (1), bad JSON (1)', async () => {
    const r = await createTestResources();
    registerAbsent('queue', `${r.queueUrl}-nope`);
    const [purge, noLocal, unknownQueue, badMax, badJson] = await Promise.all([
      taskq(['--json', ...flags(r), 'dlq', 'purge']),
      taskq(['--local', '--json', 'stats']),
      taskq(['--json', '--endpoint', emulatorEndpoints().sqsEndpoint, '--queue-url', `${r.queueUrl}-nope`, '--dlq-url', r.deadLetterQueueUrl, 'stats']),
      taskq(['--json', ...flags(r), 'dlq', 'peek', '--max', 'lots']),
      taskq(['--json', ...flags(r), 'send', 'x', '{not json']),
    ]);
    expect(purge).toMatchObject({ code: 1, json: { error: { code: 'REFUSED', exitCode: 1 } } });
    expect(purge.stderr).toMatch(/--yes/);
    expect(noLocal).toMatchObject({ code: 2, json: { error: { code: 'NO_LOCAL_SYSTEM' } } });
    expect(noLocal.stderr).toContain('no local system running — start it with taskq local');
    expect(unknownQueue).toMatchObject({ code: 2, json: { error: { code: 'QUEUE_NOT_FOUND' } } });
    expect(badMax).toMatchObject({ code: 1, json: { error: { code: 'USAGE' } } });
    expect(badJson).toMatchObject({ code: 1, json: { error: { code: 'USAGE', message: expect.stringContaining('not valid JSON') } } });
    // The purge was refused: the DLQ is untouched and the queue still exists.
    expect((await visibleMessages(testClients().sqs, r.deadLetterQueueUrl)).length).toBe(0);
  });

  it('on AWS: --stack resolves the queues from the stack outputs; stats reads the oldest age from CloudWatch and the states of the stack\'s alarms', async () => {
    // CloudFormation and CloudWatch have no emulator: a stand-in answers them from the
    // synthesized stack (test/support/stand-ins/control-plane.ts), after the IAM check —
    // so this is the operator's whole AWS path, evaluated against the operator grant.
    const { sqs } = testClients();
    const r = await createTestResources();
    const stackName = uniqueName('TaskQueueStack');
    registerStack(stackName, r);
    for (let i = 0; i < 3; i++) await sqs.send(new SendMessageCommand({ QueueUrl: r.queueUrl, MessageBody: `m${i}` }));
    await putDeadLetter(sqs, r.deadLetterQueueUrl, { type: 'x' });
    // The SDK's own endpoint variable (not --endpoint): the CLI then runs in AWS mode.
    const run = await taskq(['--json', '--stack', stackName, 'stats'], { AWS_ENDPOINT_URL_SQS: emulatorEndpoints().sqsEndpoint });
    expect(run.code, run.stderr).toBe(0);
    const alarmNames = policyModels().find((m) => m.variant === VARIANTS.plain)!.alarms.map((a) => a.name).sort();
    expect(alarmNames.length).toBeGreaterThan(0);
    expect(run.json).toMatchObject({
      queue: { url: r.queueUrl, visible: 3, oldestAge: { seconds: STAND_IN_OLDEST_AGE_SECONDS, source: 'cloudwatch' } },
      deadLetterQueue: { url: r.deadLetterQueueUrl, visible: 1 },
      alarms: { source: 'cloudwatch', alarms: alarmNames.map((name) => ({ name, state: 'OK' })) },
    });
  });

  it('dlq purge --yes empties the DLQ', async () => {
    const { sqs } = testClients();
    const r = await createTestResources();
    for (let i = 0; i < 2; i++) await putDeadLetter(sqs, r.deadLetterQueueUrl, { type: 'x' });
    const run = await taskq(['--json', ...flags(r), 'dlq', 'purge', '--yes']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.json).toMatchObject({ purged: true, approximateMessagesBefore: 2 });
    expect(await visibleMessages(sqs, r.deadLetterQueueUrl)).toHaveLength(0);
  });
});

/** A send_email task's record as the consumer leaves it after one successful attempt. */
async function putSucceeded(dynamo: DynamoDBClient, tableName: string, pk: string, taskId: string): Promise<void> {
  const now = new Date().toISOString();
  await dynamo.send(
    new PutItemCommand({
      TableName: tableName,
      Item: {
        pk: { S: pk },
        taskId: { S: taskId },
        type: { S: 'send_email' },
        status: { S: 'SUCCEEDED' },
        attempts: { N: '1' },
        createdAt: { S: now },
        updatedAt: { S: now },
        expiresAt: { N: String(Math.floor(Date.now() / 1000) + 3600) },
      },
    }),
  );
}
