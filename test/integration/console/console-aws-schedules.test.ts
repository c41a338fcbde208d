/**
 * The console's schedules page against a deployed stack (`taskq console --stack`): the same
 * calls as `taskq schedules` — the names from the stack's resources, GetSchedule in the stack's
 * group, pause / resume as an UpdateSchedule that sends the schedule back with only its State
 * changed — behind the token and the confirmation word. EventBridge Scheduler and
 * CloudFormation have no emulator here: they are the recorded stand-ins
 * test/unit/ops/schedules.test.ts uses (aws-sdk-client-mock); the queues the console samples are
 * real (fauxqs). The permissions of these calls for the console are checked in
 * test/infra/operator-permissions.test.ts.
 */
import { CloudFormationClient, ListStackResourcesCommand } from '@aws-sdk/client-cloudformation';
import { GetScheduleCommand, SchedulerClient, UpdateScheduleCommand, type GetScheduleCommandOutput } from '@aws-sdk/client-scheduler';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startConsole, type RunningConsole } from '../../../lib/ops/console/run-console.ts';
import { SCHEDULE_OUTPUTS, STACK_OUTPUTS } from '../../../lib/protocol/resources.ts';
import { createTestResources, emulatorEndpoints } from '../../support/aws.ts';
import { call } from './helpers.ts';

const scheduler = mockClient(SchedulerClient);
const cfn = mockClient(CloudFormationClient);
const GROUP = 'ConsoleAwsStack-Tasks-Schedules-Group';
const NOW = Date.parse('2026-12-02T20:00:00Z');

const DIGEST: GetScheduleCommandOutput = {
  $metadata: {},
  Name: 'weekday-digest',
  GroupName: GROUP,
  State: 'ENABLED',
  ScheduleExpression: 'cron(0 9 ? * MON-FRI *)',
  ScheduleExpressionTimezone: 'Europe/Berlin',
  FlexibleTimeWindow: { Mode: 'OFF' },
  Target: { Arn: 'arn:aws:sqs:us-east-1:123456789012:tasks', RoleArn: 'arn:aws:iam::123456789012:role/sched', Input: '{"v":1}' },
  CreationDate: new Date('2026-11-01T00:00:00Z'),
};

let console_: RunningConsole;
let headers: Record<string, string>;

beforeAll(async () => {
  const r = await createTestResources();
  cfn.on(ListStackResourcesCommand).resolves({
    StackResourceSummaries: [{ LogicalResourceId: 'S1', ResourceType: 'AWS::Scheduler::Schedule', PhysicalResourceId: 'weekday-digest', ResourceStatus: 'CREATE_COMPLETE', LastUpdatedTimestamp: new Date(NOW) }],
  });
  scheduler.on(GetScheduleCommand, { Name: 'weekday-digest', GroupName: GROUP }).resolves(DIGEST);
  scheduler.on(UpdateScheduleCommand).resolves({ ScheduleArn: 'arn', $metadata: {} });
  const outputs = {
    [STACK_OUTPUTS.queueUrl]: r.queueUrl,
    [STACK_OUTPUTS.deadLetterQueueUrl]: r.deadLetterQueueUrl,
    [STACK_OUTPUTS.tableName]: r.tableName,
    [SCHEDULE_OUTPUTS.scheduleGroupName]: GROUP,
  };
  const e = emulatorEndpoints();
  console_ = await startConsole({
    target: { stack: 'ConsoleAwsStack', region: e.region, endpoint: e.sqsEndpoint },
    sampleIntervalMs: 60_000,
    resolve: { stackOutputs: async () => outputs },
    log: () => undefined,
  });
  headers = { Authorization: `Bearer ${console_.token}` };
});

afterAll(async () => {
  await console_?.close();
  scheduler.restore();
  cfn.restore();
});

describe('taskq console --stack: schedules', () => {
  it('lists the stack\'s schedules with state, expression, time zone and next run', async () => {
    expect((await call(console_.port, '/api/schedules')).status).toBe(401);
    const reply = await call(console_.port, '/api/schedules', { headers });
    expect(reply.status).toBe(200);
    const [digest] = reply.json<{ schedules: Record<string, unknown>[] }>().schedules;
    expect(digest).toMatchObject({ name: 'weekday-digest', state: 'ENABLED', expression: 'cron(0 9 ? * MON-FRI *)', timezone: 'Europe/Berlin' });
    // The next weekday 09:00 in Berlin, within a few days.
    const next = new Date(digest!.nextRun as string);
    const berlin = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Berlin', weekday: 'short', hour: '2-digit', minute: '2-digit', hour12: false }).format(next);
    expect(berlin).toMatch(/^(Mon|Tue|Wed|Thu|Fri) 09:00$/);
    expect(next.getTime() - Date.now()).toBeGreaterThan(0);
    expect(next.getTime() - Date.now()).toBeLessThan(4 * 86_400_000);
    expect(scheduler.commandCalls(GetScheduleCommand).map((c) => c.args[0].input.GroupName)).toEqual([GROUP]);
  });

  it('pause needs its confirmation; then an UpdateSchedule with every field sent back and State DISABLED', async () => {
    const refused = await call(console_.port, '/api/schedules/weekday-digest/pause', { method: 'POST', headers, body: { confirm: 'resume' } });
    expect(refused.status).toBe(400);
    expect(scheduler.commandCalls(UpdateScheduleCommand)).toHaveLength(0);

    const paused = await call(console_.port, '/api/schedules/weekday-digest/pause', { method: 'POST', headers, body: { confirm: 'pause' } });
    expect(paused.status).toBe(200);
    expect(paused.json()).toMatchObject({ name: 'weekday-digest', state: 'DISABLED' });
    expect(scheduler.commandCalls(UpdateScheduleCommand).map((c) => c.args[0].input)).toEqual([
      {
        Name: 'weekday-digest',
        GroupName: GROUP,
        State: 'DISABLED',
        ScheduleExpression: DIGEST.ScheduleExpression,
        ScheduleExpressionTimezone: 'Europe/Berlin',
        FlexibleTimeWindow: DIGEST.FlexibleTimeWindow,
        Target: DIGEST.Target,
      },
    ]);
  });
});
