/**
 * Schedules on the TaskQueue: what the template holds (Scheduler schedules in a group of the
 * task queue, targeting the source queue with a retry policy and a dead-letter queue, an
 * alarm on that queue), the occurrence's message (a valid envelope whose id and key come from
 * the schedule name and the scheduled time), the least-privilege role Scheduler assumes, the
 * operator grant for `taskq schedules`, and every synth-time rule with its message.
 */
import { Duration, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { TaskQueueProps } from '../../lib/infra/props.ts';
import type { TaskScheduleProps } from '../../lib/infra/schedule-props.ts';
import { TaskQueue } from '../../lib/infra/task-queue.ts';
import { TaskQueueValidationError } from '../../lib/infra/validation.ts';
import { defineContract } from '../../lib/protocol/contract.ts';
import { decodeEnvelope, idempotencyKeyOf } from '../../lib/protocol/envelope.ts';
import { SCHEDULE_OUTPUTS } from '../../lib/protocol/resources.ts';
import { substituteScheduledTime } from '../../lib/protocol/schedule.ts';
import { type Json, logicalId, resource, roleStatements, str, testStack } from './helpers.ts';

const NIGHTLY: TaskScheduleProps = { name: 'nightly-report', cron: '0 2 ? * MON-FRI *', timezone: 'Europe/Berlin', task: 'report', payload: { scope: 'all' } };
const TICK: TaskScheduleProps = { name: 'tick', rate: Duration.minutes(5), task: 'tick' };

function synth(props: TaskQueueProps, extra?: (stack: Stack, tq: TaskQueue) => void): Template {
  const stack = testStack();
  const tq = new TaskQueue(stack, 'Tasks', props);
  extra?.(stack, tq);
  return Template.fromStack(stack);
}

function schedules(template: Template): Record<string, Json> {
  return Object.fromEntries(Object.values(template.findResources('AWS::Scheduler::Schedule')).map((r: Json) => [r.Properties.Name, r.Properties]));
}

describe('the template', () => {
  const template = synth({ schedules: [NIGHTLY, TICK] });
  const byName = schedules(template);
  const queueArn = `\${${logicalId(template, 'AWS::SQS::Queue', 'TasksQueue')}.Arn}`;
  const scheduleDlqArn = `\${${logicalId(template, 'AWS::SQS::Queue', 'TasksSchedulesDeadLetterQueue')}.Arn}`;

  it('one schedule per entry, in the task queue\'s group, with its expression and time zone', () => {
    expect(Object.keys(byName).sort()).toEqual(['nightly-report', 'tick']);
    const group = logicalId(template, 'AWS::Scheduler::ScheduleGroup');
    const groupName = resource(template, group).Properties.Name;
    expect(byName['nightly-report']).toMatchObject({ ScheduleExpression: 'cron(0 2 ? * MON-FRI *)', ScheduleExpressionTimezone: 'Europe/Berlin', State: 'ENABLED', GroupName: groupName });
    expect(byName.tick).toMatchObject({ ScheduleExpression: 'rate(5 minutes)', ScheduleExpressionTimezone: 'UTC' });
  });

  it('targets the source queue, with a retry policy and the schedule dead-letter queue', () => {
    for (const s of Object.values(byName)) {
      expect(str(s.Target.Arn)).toBe(queueArn);
      expect(str(s.Target.DeadLetterConfig.Arn)).toBe(scheduleDlqArn);
      expect(s.Target.RetryPolicy).toEqual({ MaximumRetryAttempts: 185, MaximumEventAgeInSeconds: 86_400 });
    }
  });

  it('each occurrence is a valid envelope whose id and key are the schedule name and the scheduled time', () => {
    const input = byName['nightly-report'].Target.Input as string;
    const first = decodeEnvelope(substituteScheduledTime(input, '2026-03-02T01:00:00Z'));
    expect(first).toMatchObject({ v: 1, type: 'report', payload: { scope: 'all' }, createdAt: '2026-03-02T01:00:00Z' });
    expect(idempotencyKeyOf(first)).toBe('schedule:nightly-report:2026-03-02T01:00:00Z');
    // A retry of the same occurrence carries the same time: the same key. The next one does not.
    expect(idempotencyKeyOf(decodeEnvelope(substituteScheduledTime(input, '2026-03-02T01:00:00Z')))).toBe(idempotencyKeyOf(first));
    expect(idempotencyKeyOf(decodeEnvelope(substituteScheduledTime(input, '2026-03-03T01:00:00Z')))).not.toBe(idempotencyKeyOf(first));
  });

  it('an alarm pages when an occurrence lands in the schedule dead-letter queue', () => {
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')) as Json[];
    const alarm = alarms.find((a) => String(a.Properties.AlarmDescription).includes('scheduled task'));
    expect(alarm).toBeDefined();
    const dims = JSON.stringify(alarm.Properties.Metrics);
    expect(dims).toContain(logicalId(template, 'AWS::SQS::Queue', 'TasksSchedulesDeadLetterQueue'));
    expect(alarm.Properties.Threshold).toBe(1);
    expect(alarm.Properties.AlarmActions).toHaveLength(1);
  });

  it('outputs the group name and the schedule dead-letter queue for the CLI', () => {
    const outputs = template.toJSON().Outputs as Record<string, Json>;
    expect(Object.keys(outputs)).toEqual(expect.arrayContaining(Object.values(SCHEDULE_OUTPUTS)));
  });

  it('the role: assumed only by Scheduler for this group in this account, allowed only to send to the two queues', () => {
    const roleId = logicalId(template, 'AWS::IAM::Role', 'TasksSchedulesRole');
    const trust = resource(template, roleId).Properties.AssumeRolePolicyDocument.Statement as Json[];
    expect(trust).toHaveLength(1);
    expect(trust[0].Principal).toEqual({ Service: 'scheduler.amazonaws.com' });
    expect(str(trust[0].Condition.StringEquals['aws:SourceArn'])).toBe(`\${${logicalId(template, 'AWS::Scheduler::ScheduleGroup')}.Arn}`);
    expect(trust[0].Condition.StringEquals['aws:SourceAccount']).toBeDefined();
    const pairs = roleStatements(template, roleId).flatMap((s) => s.actions.flatMap((a) => s.resources.map((r) => `${a} on ${r}`)));
    expect(pairs.sort()).toEqual([`sqs:SendMessage on ${queueArn}`, `sqs:SendMessage on ${scheduleDlqArn}`].sort());
    for (const s of Object.values(byName)) expect(str(s.Target.RoleArn)).toBe(`\${${roleId}.Arn}`);
  });

  it('no schedules: no Scheduler resources, no extra queue, role or outputs', () => {
    const plain = synth({});
    expect(plain.findResources('AWS::Scheduler::Schedule')).toEqual({});
    expect(plain.findResources('AWS::Scheduler::ScheduleGroup')).toEqual({});
    expect(Object.keys(plain.toJSON().Outputs)).not.toContain(SCHEDULE_OUTPUTS.scheduleGroupName);
  });
});

describe('variants', () => {
  it('with a customer-managed key: the schedule DLQ is encrypted with it and the role may use it to send', () => {
    const stack = testStack();
    const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
    new TaskQueue(stack, 'Tasks', { encryptionKey: key, schedules: [TICK] });
    const template = Template.fromStack(stack);
    const keyArn = `\${${logicalId(template, 'AWS::KMS::Key')}.Arn}`;
    const dlq = resource(template, logicalId(template, 'AWS::SQS::Queue', 'TasksSchedulesDeadLetterQueue'));
    expect(str(dlq.Properties.KmsMasterKeyId)).toBe(keyArn);
    const statements = roleStatements(template, logicalId(template, 'AWS::IAM::Role', 'TasksSchedulesRole'));
    const onKey = statements.filter((s) => s.resources.includes(keyArn)).flatMap((s) => s.actions).sort();
    expect(onKey).toEqual(['kms:Decrypt', 'kms:GenerateDataKey']);
  });

  it('FIFO with content-based deduplication: each schedule sends in a message group of its own', () => {
    const byName = schedules(synth({ fifo: true, contentBasedDeduplication: true, schedules: [TICK] }));
    expect(byName.tick.Target.SqsParameters).toEqual({ MessageGroupId: 'schedule:tick' });
  });

  it('enabled: false, a description and a flexible window reach the schedule', () => {
    const byName = schedules(synth({ schedules: [{ ...TICK, enabled: false, description: 'every five', flexibleWindow: Duration.minutes(10), retryAttempts: 3, maxEventAge: Duration.hours(1) }] }));
    expect(byName.tick).toMatchObject({
      State: 'DISABLED',
      Description: 'every five',
      FlexibleTimeWindow: { Mode: 'FLEXIBLE', MaximumWindowInMinutes: 10 },
      Target: { RetryPolicy: { MaximumRetryAttempts: 3, MaximumEventAgeInSeconds: 3600 } },
    });
  });

  it('rates are written in the largest whole unit, singular for 1', () => {
    const byName = schedules(
      synth({ schedules: [{ name: 'a', rate: Duration.minutes(1), task: 't' }, { name: 'b', rate: Duration.hours(2), task: 't' }, { name: 'c', rate: Duration.days(1), task: 't' }] }),
    );
    expect([byName.a.ScheduleExpression, byName.b.ScheduleExpression, byName.c.ScheduleExpression]).toEqual(['rate(1 minute)', 'rate(2 hours)', 'rate(1 day)']);
  });
});

describe('grantOperate and grantOperatorRead cover `taskq schedules`', () => {
  function operatorPairs(grant: 'grantOperate' | 'grantOperatorRead'): { pairs: string[]; template: Template; statements: Json[] } {
    const stack = testStack();
    const tq = new TaskQueue(stack, 'Tasks', { schedules: [TICK] });
    tq[grant](new iam.Role(stack, 'Operator', { assumedBy: new iam.AccountRootPrincipal() }));
    const template = Template.fromStack(stack);
    const statements = roleStatements(template, logicalId(template, 'AWS::IAM::Role', 'Operator'));
    return { template, statements, pairs: statements.flatMap((s) => s.actions.flatMap((a) => s.resources.map((r) => `${a} on ${r}`))) };
  }

  it('operate: GetSchedule and UpdateSchedule on the task queue\'s schedules only, PassRole of the schedules\' role to Scheduler only', () => {
    const { pairs, template, statements } = operatorPairs('grantOperate');
    const group = resource(template, logicalId(template, 'AWS::Scheduler::ScheduleGroup')).Properties.Name;
    const schedulePairs = pairs.filter((p) => p.startsWith('scheduler:') || p.startsWith('iam:'));
    const roleArn = `\${${logicalId(template, 'AWS::IAM::Role', 'TasksSchedulesRole')}.Arn}`;
    expect(schedulePairs.sort()).toEqual(
      [
        `iam:PassRole on ${roleArn}`,
        `scheduler:GetSchedule on arn:\${AWS::Partition}:scheduler:\${AWS::Region}:\${AWS::AccountId}:schedule/${group}/tick`,
        `scheduler:UpdateSchedule on arn:\${AWS::Partition}:scheduler:\${AWS::Region}:\${AWS::AccountId}:schedule/${group}/tick`,
      ].sort(),
    );
    const passRole = statements.find((s: Json) => s.actions.includes('iam:PassRole'));
    expect(passRole.raw.Condition).toEqual({ StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } });
  });

  it('read: GetSchedule only', () => {
    const { pairs } = operatorPairs('grantOperatorRead');
    expect(pairs.filter((p) => p.startsWith('scheduler:') || p.startsWith('iam:')).map((p) => p.split(' ')[0])).toEqual(['scheduler:GetSchedule']);
  });
});

describe('synth-time rules: the prop, the value and the rule', () => {
  const Report = defineContract('report', z.object({ scope: z.enum(['all', 'mine']) }));
  const rejected: [string, TaskQueueProps, string, RegExp][] = [
    ['an invalid cron expression (hour 25)', { schedules: [{ ...NIGHTLY, cron: '0 25 ? * * *' }] }, 'schedules[0].cron', /hour: 25/],
    ['a cron expression with five fields', { schedules: [{ ...NIGHTLY, cron: '0 2 * * *' }] }, 'schedules[0].cron', /six fields/],
    ['day-of-month and day-of-week both given', { schedules: [{ ...NIGHTLY, cron: '0 2 1 * MON *' }] }, 'schedules[0].cron', /exactly one of day-of-month and day-of-week must be \?/],
    ['weekday 0 (Scheduler counts 1–7)', { schedules: [{ ...NIGHTLY, cron: '0 2 ? * 0 *' }] }, 'schedules[0].cron', /1 \(SUN\) to 7 \(SAT\)/],
    ['a rate below a minute', { schedules: [{ ...TICK, rate: Duration.seconds(30) }] }, 'schedules[0].rate', /whole number of minutes/],
    ['a rate of a fractional minute', { schedules: [{ ...TICK, rate: Duration.seconds(90) }] }, 'schedules[0].rate', /whole number of minutes/],
    ['neither cron nor rate', { schedules: [{ name: 'x', task: 't' }] }, 'schedules[0]', /exactly one of cron and rate/],
    ['both cron and rate', { schedules: [{ ...NIGHTLY, rate: Duration.minutes(5) }] }, 'schedules[0]', /exactly one of cron and rate/],
    ['an unknown time zone', { schedules: [{ ...NIGHTLY, timezone: 'Europe/Atlantis' }] }, 'schedules[0].timezone', /IANA time zone/],
    ['duplicate names', { schedules: [TICK, { ...TICK, rate: Duration.minutes(10) }] }, 'schedules[1].name', /unique/],
    ['a name Scheduler refuses', { schedules: [{ ...TICK, name: 'every tick!' }] }, 'schedules[0].name', /1–64 letters/],
    ['a task type no consumer handles (taskTypes given)', { taskTypes: ['report', 'cleanup'], schedules: [TICK] }, 'schedules[0].task', /no consumer handles this type: taskTypes lists "report", "cleanup"/],
    ['an invalid task type', { schedules: [{ ...TICK, task: '9lives' }] }, 'schedules[0].task', /task type must match/],
    ['a payload the contract refuses', { schedules: [{ ...NIGHTLY, task: Report, payload: { scope: 'everything' } }] }, 'schedules[0].payload', /does not satisfy the report contract: scope:/],
    ['a payload that is not JSON', { schedules: [{ ...TICK, payload: { n: 1n } }] }, 'schedules[0].payload', /JSON-serialisable/],
    ['retries above 185', { schedules: [{ ...TICK, retryAttempts: 186 }] }, 'schedules[0].retryAttempts', /0–185/],
    ['a max event age above 24 hours', { schedules: [{ ...TICK, maxEventAge: Duration.hours(25) }] }, 'schedules[0].maxEventAge', /1 minute to 24 hours/],
    ['a flexible window above 1440 minutes', { schedules: [{ ...TICK, flexibleWindow: Duration.days(2) }] }, 'schedules[0].flexibleWindow', /1 to 1440/],
    ['FIFO without content-based deduplication', { fifo: true, schedules: [TICK] }, 'schedules', /contentBasedDeduplication: true/],
    ['an invalid entry in taskTypes', { taskTypes: ['ok', ''], schedules: [{ ...TICK, task: 'ok' }] }, 'taskTypes[1]', /task type must match/],
  ];

  it.each(rejected)('%s', (_rule, props, prop, pattern) => {
    let error: unknown;
    try {
      new TaskQueue(testStack(), 'Tasks', props);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(TaskQueueValidationError);
    expect((error as TaskQueueValidationError).prop).toBe(prop);
    expect((error as Error).message).toMatch(pattern);
  });

  it('accepts the boundaries: a 1-minute rate, cron(…) around the fields, a listed type, a contract, the limits', () => {
    const props: TaskQueueProps = {
      taskTypes: ['tick', Report],
      schedules: [
        { ...TICK, rate: Duration.minutes(1), retryAttempts: 185, maxEventAge: Duration.minutes(1), flexibleWindow: Duration.minutes(1440) },
        { ...NIGHTLY, cron: 'cron(0/15 * ? * 1-7 *)', task: Report, payload: { scope: 'mine' } },
      ],
    };
    expect(() => new TaskQueue(testStack(), 'Tasks', props)).not.toThrow();
  });
});
