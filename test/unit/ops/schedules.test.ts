/**
 * `taskq schedules` against AWS. EventBridge Scheduler has no emulator here, so its API is a
 * recorded stand-in (aws-sdk-client-mock) answering as the API reference documents; what is
 * checked is what the CLI asks: the names from the stack's resources, GetSchedule in the
 * stack's group, the next run computed from expression, zone and start, and pause / resume
 * as an UpdateSchedule that sends the schedule back unchanged except its State (UpdateSchedule
 * replaces every field: a missing one would be reset).
 */
import { CloudFormationClient, ListStackResourcesCommand } from '@aws-sdk/client-cloudformation';
import { GetScheduleCommand, ResourceNotFoundException, SchedulerClient, UpdateScheduleCommand, type GetScheduleCommandOutput } from '@aws-sdk/client-scheduler';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { OpsError } from '../../../lib/ops/errors.ts';
import type { OpsTarget } from '../../../lib/ops/resolve-target.ts';
import { formatSchedules, listSchedules, setScheduleState, type ScheduleSources } from '../../../lib/ops/schedules.ts';

const scheduler = mockClient(SchedulerClient);
const cfn = mockClient(CloudFormationClient);
const GROUP = 'TaskQueueStack-Tasks-Schedules-Group-ABC';
const target: OpsTarget = { mode: 'aws', region: 'eu-west-1', stackName: 'TaskQueueStack', endpoints: {}, resources: { scheduleGroupName: GROUP } };
const NOW = new Date('2026-12-02T20:00:00Z');

const NIGHTLY: GetScheduleCommandOutput = {
  $metadata: {},
  Name: 'nightly',
  GroupName: GROUP,
  State: 'ENABLED',
  ScheduleExpression: 'cron(30 9 ? * MON-FRI *)',
  ScheduleExpressionTimezone: 'Europe/Berlin',
  Description: 'the report',
  FlexibleTimeWindow: { Mode: 'OFF' },
  Target: {
    Arn: 'arn:aws:sqs:eu-west-1:123456789012:tasks',
    RoleArn: 'arn:aws:iam::123456789012:role/sched',
    Input: '{"v":1}',
    RetryPolicy: { MaximumRetryAttempts: 185, MaximumEventAgeInSeconds: 86400 },
    DeadLetterConfig: { Arn: 'arn:aws:sqs:eu-west-1:123456789012:sched-dlq' },
  },
  CreationDate: new Date('2026-11-01T00:00:00Z'),
};
const TICK: GetScheduleCommandOutput = { ...NIGHTLY, Name: 'tick', ScheduleExpression: 'rate(5 minutes)', ScheduleExpressionTimezone: 'UTC', Description: undefined, CreationDate: new Date('2026-12-02T19:58:30Z') };

function sources(): ScheduleSources {
  return { target, scheduler: async () => new SchedulerClient({ region: 'eu-west-1' }), cloudFormation: async () => new CloudFormationClient({ region: 'eu-west-1' }), now: () => NOW };
}

beforeEach(() => {
  scheduler.reset();
  cfn.reset();
  cfn.on(ListStackResourcesCommand).resolves({
    StackResourceSummaries: [
      { LogicalResourceId: 'Q', ResourceType: 'AWS::SQS::Queue', PhysicalResourceId: 'https://sqs/…', ResourceStatus: 'CREATE_COMPLETE', LastUpdatedTimestamp: NOW },
      { LogicalResourceId: 'S1', ResourceType: 'AWS::Scheduler::Schedule', PhysicalResourceId: 'nightly', ResourceStatus: 'CREATE_COMPLETE', LastUpdatedTimestamp: NOW },
      { LogicalResourceId: 'S2', ResourceType: 'AWS::Scheduler::Schedule', PhysicalResourceId: 'tick', ResourceStatus: 'CREATE_COMPLETE', LastUpdatedTimestamp: NOW },
    ],
  });
  scheduler.on(GetScheduleCommand, { Name: 'nightly', GroupName: GROUP }).resolves(NIGHTLY);
  scheduler.on(GetScheduleCommand, { Name: 'tick', GroupName: GROUP }).resolves(TICK);
  scheduler.on(GetScheduleCommand, { Name: 'gone' }).rejects(new ResourceNotFoundException({ message: 'Schedule gone does not exist.', Message: 'Schedule gone does not exist.', $metadata: {} }));
});

describe('taskq schedules (AWS)', () => {
  it('lists the stack\'s schedules with their next run: a cron in its time zone, a rate from its creation', async () => {
    const views = await listSchedules(sources());
    expect(views).toEqual([
      // Thursday 3 December, 09:30 in Berlin = 08:30 UTC.
      { name: 'nightly', state: 'ENABLED', expression: 'cron(30 9 ? * MON-FRI *)', timezone: 'Europe/Berlin', description: 'the report', nextRun: '2026-12-03T08:30:00.000Z' },
      { name: 'tick', state: 'ENABLED', expression: 'rate(5 minutes)', timezone: 'UTC', nextRun: '2026-12-02T20:03:30.000Z' },
    ]);
    expect(scheduler.commandCalls(GetScheduleCommand).map((c) => c.args[0].input.GroupName)).toEqual([GROUP, GROUP]);
    expect(formatSchedules(views)).toMatch(/^NAME\s+STATE\s+EXPRESSION\s+TIME ZONE\s+NEXT RUN \(UTC\)\nnightly\s+enabled\s+cron\(30 9 \? \* MON-FRI \*\)\s+Europe\/Berlin\s+2026-12-03T08:30:00.000Z/);
  });

  it('pause: UpdateSchedule sends every field back with State DISABLED', async () => {
    scheduler.on(UpdateScheduleCommand).resolves({ ScheduleArn: 'arn', $metadata: {} });
    const view = await setScheduleState(sources(), 'nightly', 'DISABLED');
    expect(view).toMatchObject({ name: 'nightly', state: 'DISABLED' });
    expect(view.nextRun).toBeUndefined();
    const sent = scheduler.commandCalls(UpdateScheduleCommand)[0]!.args[0].input;
    expect(sent).toEqual({
      Name: 'nightly',
      GroupName: GROUP,
      State: 'DISABLED',
      ScheduleExpression: NIGHTLY.ScheduleExpression,
      ScheduleExpressionTimezone: 'Europe/Berlin',
      Description: 'the report',
      FlexibleTimeWindow: NIGHTLY.FlexibleTimeWindow,
      Target: NIGHTLY.Target,
    });
  });

  it('resume of an enabled schedule changes nothing', async () => {
    const view = await setScheduleState(sources(), 'tick', 'ENABLED');
    expect(view.state).toBe('ENABLED');
    expect(scheduler.commandCalls(UpdateScheduleCommand)).toHaveLength(0);
  });

  it('an unknown schedule: SCHEDULE_NOT_FOUND (exit 2)', async () => {
    const error = await setScheduleState(sources(), 'gone', 'DISABLED').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpsError);
    expect((error as OpsError).code).toBe('SCHEDULE_NOT_FOUND');
    expect((error as OpsError).exitCode).toBe(2);
  });

  it('a stack without schedules: MISSING_RESOURCE naming the output', async () => {
    const error = await listSchedules({ ...sources(), target: { ...target, resources: {} } }).catch((e: unknown) => e);
    expect((error as OpsError).code).toBe('MISSING_RESOURCE');
    expect((error as Error).message).toMatch(/ScheduleGroupName/);
  });
});
