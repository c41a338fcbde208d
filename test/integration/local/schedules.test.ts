/**
 * The template's Scheduler schedules run by the local system: each fires on its own
 * expression and time zone, sends the same envelope Scheduler would (id and idempotency key
 * from the schedule name and the scheduled time), and each occurrence runs once even when its
 * delivery is repeated (a Scheduler retry after a lost response) or SQS duplicates it. A
 * delivery that keeps failing lands in the schedule dead-letter queue with Scheduler's
 * attributes; pause and resume go through the control file the CLI writes.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Duration } from 'aws-cdk-lib';
import { GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TaskQueueStack } from '../../../lib/infra/task-queue-stack.ts';
import { LocalScheduler } from '../../../lib/local/local-scheduler.ts';
import { setScheduleState } from '../../../lib/ops/schedules.ts';
import { readLocalState } from '../../../lib/local/state.ts';
import { startLocalSystem, type LocalSystem, type LocalSystemEvent } from '../../../lib/local/system.ts';
import type { CfnTemplate } from '../../../lib/local/template.ts';
import { SCHEDULE_OUTPUTS } from '../../../lib/protocol/resources.ts';
import { substituteScheduledTime } from '../../../lib/protocol/schedule.ts';
import { runs } from '../../fixtures/scheduled-consumer.ts';
import { testApp } from '../../infra/helpers.ts';
import { uniqueName } from '../../support/aws.ts';
import { until } from '../../support/until.ts';

const execFileAsync = promisify(execFile);
const BIN = fileURLToPath(new URL('../../../bin/taskq.ts', import.meta.url));
const CONSUMER = fileURLToPath(new URL('../../fixtures/scheduled-consumer.ts', import.meta.url));

let system: LocalSystem;
let dir: string;
const events: LocalSystemEvent[] = [];
// The schedules' clock: it starts 10 s before 09:30 in Berlin (08:30 UTC in December) and the test moves it.
let virtualNow = Date.parse('2026-12-02T08:29:50Z');

async function queueEmpty(url: string): Promise<boolean> {
  const a = await system.clients.sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed'] }),
  );
  return Object.values(a.Attributes ?? {}).every((v) => v === '0');
}

const runsOf = (key: string) => runs.filter((r) => r.idempotencyKey === key);

beforeAll(async () => {
  const app = testApp();
  const stackName = uniqueName('Sched').replace(/-/g, '');
  const stack = new TaskQueueStack(app, stackName, {
    taskQueue: {
      schedules: [
        { name: 'berlin-morning', cron: '30 9 ? * * *', timezone: 'Europe/Berlin', task: 'report', payload: { scope: 'all' } },
        { name: 'tick', rate: Duration.minutes(1), task: 'tick' },
      ],
    },
  });
  const template = app.synth().getStackByName(stack.stackName).template as CfnTemplate;
  dir = await mkdtemp(join(tmpdir(), 'taskq-schedules-'));
  system = await startLocalSystem({
    template,
    stackName: stack.stackName,
    consumerModule: CONSUMER,
    sqsPort: 0,
    dynamoPort: 0,
    dynamo: 'dynalite',
    statePath: join(dir, 'state.json'),
    scheduleClock: () => new Date(virtualNow),
    onEvent: (e) => events.push(e),
  });
}, 120_000);

afterAll(async () => {
  await system?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('local schedules', () => {
  it('lists the schedules with their next runs in the state file, and the schedule outputs', async () => {
    const state = await until(async () => (await readLocalState(join(dir, 'state.json')))?.schedules && (await readLocalState(join(dir, 'state.json'))), 10_000, 'the state file');
    const byName = Object.fromEntries(state.schedules!.map((s) => [s.name, s]));
    expect(byName['berlin-morning']).toMatchObject({ state: 'ENABLED', expression: 'cron(30 9 ? * * *)', timezone: 'Europe/Berlin', nextRun: '2026-12-02T08:30:00.000Z' });
    expect(byName.tick).toMatchObject({ state: 'ENABLED', expression: 'rate(1 minute)', nextRun: '2026-12-02T08:30:50.000Z' });
    expect(Object.keys(state.outputs)).toEqual(expect.arrayContaining(Object.values(SCHEDULE_OUTPUTS)));
  });

  it('fires a cron schedule at its wall-clock time in its time zone; the task runs once with the derived key', async () => {
    virtualNow = Date.parse('2026-12-02T08:30:01Z');
    const key = 'schedule:berlin-morning:2026-12-02T08:30:00Z';
    const run = await until(() => runsOf(key)[0], 20_000, 'the Berlin occurrence to run');
    expect(run).toEqual({ type: 'report', taskId: key, idempotencyKey: key, createdAt: '2026-12-02T08:30:00Z', payload: { scope: 'all' } });
    // The rate schedule is not due until 08:30:50.
    expect(runs.filter((r) => r.type === 'tick')).toEqual([]);
  });

  it('each occurrence runs once: a repeated delivery and an SQS duplicate of it are skipped', async () => {
    const key = 'schedule:berlin-morning:2026-12-02T08:30:00Z';
    const schedule = system.provisioned.schedules.find((s) => s.name === 'berlin-morning')!;
    // Scheduler retrying after a lost response: the same occurrence delivered twice more…
    expect(await system.scheduler!.fire(schedule, '2026-12-02T08:30:00Z')).toBe(true);
    expect(await system.scheduler!.fire(schedule, '2026-12-02T08:30:00Z')).toBe(true);
    // …and a duplicate copy of the message.
    await system.clients.sqs.send(new SendMessageCommand({ QueueUrl: system.sourceQueue.url, MessageBody: substituteScheduledTime(schedule.input, '2026-12-02T08:30:00Z') }));
    await until(async () => ((await queueEmpty(system.sourceQueue.url)) ? true : undefined), 30_000, 'the copies to be consumed');
    expect(runsOf(key)).toHaveLength(1);
    // A different scheduled time is a different task.
    await system.scheduler!.fire(schedule, '2026-12-03T08:30:00Z');
    await until(() => runsOf('schedule:berlin-morning:2026-12-03T08:30:00Z')[0], 20_000, 'the next occurrence to run');
    expect(runsOf(key)).toHaveLength(1);
  });

  it('fires a rate schedule every period from the start; occurrences missed while the clock jumped are sent in order', async () => {
    virtualNow = Date.parse('2026-12-02T08:32:55Z');
    const keys = ['08:30:50', '08:31:50', '08:32:50'].map((t) => `schedule:tick:2026-12-02T${t}Z`);
    await until(() => (keys.every((k) => runsOf(k).length === 1) ? true : undefined), 20_000, 'three tick occurrences');
    expect(keys.map((k) => runsOf(k).length)).toEqual([1, 1, 1]);
  });

  it('`taskq schedules --local` lists them; pause and resume (the CLI and lib/ops) go through the control file', async () => {
    const statePath = join(dir, 'state.json');
    const cli = (...args: string[]) =>
      execFileAsync(process.execPath, ['--import', 'tsx', BIN, ...args, '--local', '--json'], { env: { ...process.env, TASKQ_LOCAL_STATE: statePath } });
    const listed = JSON.parse((await cli('schedules')).stdout) as { name: string; state: string; nextRun?: string }[];
    expect(listed.map((s) => s.name).sort()).toEqual(['berlin-morning', 'tick']);
    expect(listed.every((s) => s.state === 'ENABLED' && s.nextRun)).toBe(true);
    const unknown = await cli('schedules', 'pause', 'nope').catch((e: { code: number; stderr: string }) => e);
    expect(unknown).toMatchObject({ code: 2 });

    const paused = await setScheduleState(
      { target: { mode: 'local', region: 'us-east-1', endpoints: {}, resources: {} }, scheduler: () => Promise.reject(new Error('no Scheduler locally')), cloudFormation: () => Promise.reject(new Error('no CloudFormation locally')), statePath },
      'tick',
      'DISABLED',
    );
    expect(paused).toMatchObject({ name: 'tick', state: 'DISABLED' });
    await until(async () => ((await readLocalState(statePath))?.schedules?.find((s) => s.name === 'tick')?.state === 'DISABLED' ? true : undefined), 10_000, 'tick paused');
    const before = runs.filter((r) => r.type === 'tick').length;
    virtualNow = Date.parse('2026-12-02T08:35:55Z');
    await new Promise((r) => setTimeout(r, 1500));
    expect(runs.filter((r) => r.type === 'tick')).toHaveLength(before);

    expect(JSON.parse((await cli('schedules', 'resume', 'tick')).stdout)).toMatchObject({ name: 'tick', state: 'ENABLED' });
    const resumed = await until(async () => (await readLocalState(statePath))?.schedules?.find((s) => s.name === 'tick' && s.state === 'ENABLED'), 10_000, 'tick resumed');
    // Resumed: counted from now; the occurrences missed while paused are not sent.
    expect(resumed.nextRun).toBe('2026-12-02T08:36:55.000Z');
    virtualNow = Date.parse('2026-12-02T08:37:00Z');
    await until(() => runsOf('schedule:tick:2026-12-02T08:36:55Z')[0], 20_000, 'the first occurrence after resuming');
    expect(runs.filter((r) => r.type === 'tick')).toHaveLength(before + 1);
    expect(events.some((e) => e.kind === 'schedule' && e.name === 'tick' && e.delivered)).toBe(true);
  });

  it('a delivery that keeps failing goes to the schedule dead-letter queue with Scheduler\'s attributes, and ScheduleDeliveryFailed goes to ALARM', async () => {
    const alarmName = system.alarms.definitions.find((d) => d.name.endsWith('-ScheduleDeliveryFailed'))!.name;
    expect(system.alarms.statuses.find((a) => a.name === alarmName)?.state).not.toBe('ALARM');
    const schedule = system.provisioned.schedules.find((s) => s.name === 'tick')!;
    const missing = { ...schedule.queue, url: `${schedule.queue.url}-does-not-exist` };
    const scheduler = new LocalScheduler({ sqs: system.clients.sqs, schedules: [], statePath: join(dir, 'state.json'), maxLocalAttempts: 2 });
    expect(await scheduler.fire({ ...schedule, queue: missing }, '2026-12-02T09:00:00Z')).toBe(false);
    const dlq = schedule.deadLetterQueue!;
    const received = await system.clients.sqs.send(new ReceiveMessageCommand({ QueueUrl: dlq.url, MaxNumberOfMessages: 1, WaitTimeSeconds: 2, MessageAttributeNames: ['All'] }));
    const message = received.Messages![0]!;
    expect(JSON.parse(message.Body!)).toMatchObject({ id: 'schedule:tick:2026-12-02T09:00:00Z', type: 'tick' });
    expect(message.MessageAttributes!.RETRY_ATTEMPTS!.StringValue).toBe('1');
    expect(message.MessageAttributes!.ERROR_CODE!.StringValue).toBeTruthy();
    expect(message.MessageAttributes!.SCHEDULE_ARN!.StringValue).toMatch(/schedule\/.+\/tick$/);
    // Visible or in flight (this receive hides it): the alarm pages either way.
    await until(() => (system.alarms.statuses.find((a) => a.name === alarmName)?.state === 'ALARM' ? true : undefined), 20_000, 'ScheduleDeliveryFailed in ALARM');
  });
});
