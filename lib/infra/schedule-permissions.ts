/**
 * What `taskq schedules` needs from an operator: GetSchedule (list with next run) on the
 * task queue's schedules only (each by its ARN), and UpdateSchedule (pause / resume) with iam:PassRole of
 * the schedules' role, passed to Scheduler only — UpdateSchedule replaces the whole
 * schedule, target role included. The names come from the stack's resources
 * (cloudformation:ListStackResources, already in the read grant): no scheduler:ListSchedules,
 * which has no resource-level permissions.
 */
import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as scheduler from 'aws-cdk-lib/aws-scheduler';

export const SCHEDULE_ACTIONS = {
  read: ['scheduler:GetSchedule'],
  update: ['scheduler:UpdateSchedule'],
  passRole: ['iam:PassRole'],
} as const;

export interface ScheduleResources {
  readonly group: scheduler.IScheduleGroup;
  readonly role: iam.IRole;
  /** The schedules' names: each is granted by its own ARN (no wildcard). */
  readonly names: readonly string[];
}

function schedulesArn(r: ScheduleResources): string[] {
  const stack = Stack.of(r.group);
  return r.names.map((name) => stack.formatArn({ service: 'scheduler', resource: 'schedule', resourceName: `${r.group.scheduleGroupName}/${name}` }));
}

export function grantScheduleRead(grantee: iam.IGrantable, r: ScheduleResources): iam.Grant {
  return iam.Grant.addToPrincipal({ grantee, actions: [...SCHEDULE_ACTIONS.read], resourceArns: schedulesArn(r) });
}

export function grantScheduleUpdate(grantee: iam.IGrantable, r: ScheduleResources): iam.Grant {
  const update = iam.Grant.addToPrincipal({ grantee, actions: [...SCHEDULE_ACTIONS.update], resourceArns: schedulesArn(r) });
  const pass = iam.Grant.addToPrincipal({
    grantee,
    actions: [...SCHEDULE_ACTIONS.passRole],
    resourceArns: [r.role.roleArn],
    conditions: { StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } },
  });
  return update.combine(pass);
}
