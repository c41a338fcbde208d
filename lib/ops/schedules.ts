/**
 * `taskq schedules`: the task queue's recurring tasks with their next run, and pausing or
 * resuming one.
 *
 * AWS: the schedule names come from the stack's AWS::Scheduler::Schedule resources
 * (ListStackResources: no scheduler:ListSchedules, which has no resource-level permission),
 * their settings from GetSchedule in the stack's schedule group, and pause / resume is an
 * UpdateSchedule that sends the schedule back as it is with only its State changed
 * (UpdateSchedule replaces every field). A deployment sets State back to the construct's
 * `enabled`. The next run is computed here from the expression, time zone and, for a rate,
 * the schedule's start or creation date.
 *
 * Local: the local system's state file lists its schedules; pause / resume writes the control
 * file its scheduler reads (lib/local/local-scheduler.ts).
 */
import { paginateListStackResources, type CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { GetScheduleCommand, UpdateScheduleCommand, type GetScheduleCommandOutput, type SchedulerClient } from '@aws-sdk/client-scheduler';
import { setLocalScheduleState } from '../local/schedule-control.ts';
import { localStatePath, readLocalState } from '../local/state.ts';
import { nextOccurrence, parseScheduleExpression } from '../protocol/schedule-expression.ts';
import { OpsError } from './errors.ts';
import type { OpsTarget } from './resolve-target.ts';

export type ScheduleState = 'ENABLED' | 'DISABLED';

export interface ScheduleView {
  readonly name: string;
  readonly state: ScheduleState;
  /** `cron(…)` or `rate(…)`. */
  readonly expression: string;
  readonly timezone: string;
  readonly description?: string;
  /** ISO-8601 UTC time of the next occurrence; absent when the schedule is disabled or has none left. */
  readonly nextRun?: string;
}

export interface ScheduleSources {
  readonly target: OpsTarget;
  readonly scheduler: () => Promise<SchedulerClient>;
  readonly cloudFormation: () => Promise<CloudFormationClient>;
  /** @default localStatePath() */
  readonly statePath?: string;
  /** @default () => new Date() */
  readonly now?: () => Date;
}

export async function listSchedules(sources: ScheduleSources): Promise<ScheduleView[]> {
  if (sources.target.mode === 'local') {
    const state = await readLocalState(sources.statePath ?? localStatePath());
    if (!state) throw new OpsError('NO_LOCAL_SYSTEM', 'no local system running — start it with taskq local');
    return (state.schedules ?? []).map(({ lastRun: _lastRun, ...view }) => view);
  }
  const group = groupOf(sources.target);
  const scheduler = await sources.scheduler();
  const names = await scheduleNames(await sources.cloudFormation(), stackOf(sources.target));
  const now = (sources.now ?? (() => new Date()))();
  const views: ScheduleView[] = [];
  for (const name of names) {
    const s = await scheduler.send(new GetScheduleCommand({ Name: name, GroupName: group }));
    views.push(viewOf(s, now));
  }
  return views;
}

/** Pauses (DISABLED) or resumes (ENABLED) one schedule; returns it as it now is. */
export async function setScheduleState(sources: ScheduleSources, name: string, state: ScheduleState): Promise<ScheduleView> {
  if (sources.target.mode === 'local') {
    const statePath = sources.statePath ?? localStatePath();
    const known = await listSchedules(sources);
    const schedule = known.find((s) => s.name === name);
    if (!schedule) throw notFound(name, known.map((s) => s.name));
    await setLocalScheduleState(statePath, name, state);
    const { nextRun: _nextRun, ...rest } = schedule;
    return { ...rest, state };
  }
  const group = groupOf(sources.target);
  const scheduler = await sources.scheduler();
  let current: GetScheduleCommandOutput;
  try {
    current = await scheduler.send(new GetScheduleCommand({ Name: name, GroupName: group }));
  } catch (error) {
    if ((error as { name?: string }).name === 'ResourceNotFoundException') throw notFound(name, undefined, group);
    throw error;
  }
  if (current.State !== state) {
    await scheduler.send(
      new UpdateScheduleCommand({
        Name: name,
        GroupName: group,
        ScheduleExpression: current.ScheduleExpression,
        FlexibleTimeWindow: current.FlexibleTimeWindow,
        Target: current.Target,
        State: state,
        ...(current.ScheduleExpressionTimezone !== undefined ? { ScheduleExpressionTimezone: current.ScheduleExpressionTimezone } : {}),
        ...(current.StartDate !== undefined ? { StartDate: current.StartDate } : {}),
        ...(current.EndDate !== undefined ? { EndDate: current.EndDate } : {}),
        ...(current.Description !== undefined ? { Description: current.Description } : {}),
        ...(current.KmsKeyArn !== undefined ? { KmsKeyArn: current.KmsKeyArn } : {}),
        ...(current.ActionAfterCompletion !== undefined ? { ActionAfterCompletion: current.ActionAfterCompletion } : {}),
      }),
    );
  }
  return viewOf({ ...current, State: state }, (sources.now ?? (() => new Date()))());
}

function viewOf(s: Pick<GetScheduleCommandOutput, 'Name' | 'State' | 'ScheduleExpression' | 'ScheduleExpressionTimezone' | 'Description' | 'StartDate' | 'CreationDate'>, now: Date): ScheduleView {
  const timezone = s.ScheduleExpressionTimezone ?? 'UTC';
  const expression = s.ScheduleExpression ?? '';
  const state: ScheduleState = s.State === 'DISABLED' ? 'DISABLED' : 'ENABLED';
  let nextRun: Date | undefined;
  if (state === 'ENABLED') {
    try {
      nextRun = nextOccurrence(parseScheduleExpression(expression), timezone, now, s.StartDate ?? s.CreationDate);
    } catch {
      nextRun = undefined; // an expression this CLI does not read (at(…)): shown without a next run
    }
  }
  return {
    name: s.Name ?? '',
    state,
    expression,
    timezone,
    ...(s.Description ? { description: s.Description } : {}),
    ...(nextRun ? { nextRun: nextRun.toISOString() } : {}),
  };
}

/** Names (physical ids) of the stack's AWS::Scheduler::Schedule resources. */
async function scheduleNames(cfn: CloudFormationClient, stackName: string): Promise<string[]> {
  const names: string[] = [];
  for await (const page of paginateListStackResources({ client: cfn }, { StackName: stackName })) {
    for (const resource of page.StackResourceSummaries ?? []) {
      if (resource.ResourceType === 'AWS::Scheduler::Schedule' && resource.PhysicalResourceId) names.push(resource.PhysicalResourceId);
    }
  }
  return names;
}

function groupOf(target: OpsTarget): string {
  const group = target.resources.scheduleGroupName;
  if (!group) throw new OpsError('MISSING_RESOURCE', `the outputs of stack ${target.stackName ?? '?'} name no ScheduleGroupName: the task queue has no schedules (or was deployed before they existed)`);
  return group;
}

function stackOf(target: OpsTarget): string {
  if (!target.stackName) throw new OpsError('MISSING_RESOURCE', 'taskq schedules reads the schedule names from the stack: pass --stack');
  return target.stackName;
}

function notFound(name: string, known?: readonly string[], group?: string): OpsError {
  const where = known ? `; the schedules are ${known.join(', ') || 'none'}` : group ? ` in schedule group ${group}` : '';
  return new OpsError('SCHEDULE_NOT_FOUND', `no schedule named ${name}${where}`);
}

export function formatSchedules(views: readonly ScheduleView[]): string {
  if (views.length === 0) return 'No schedules.';
  const rows = views.map((v) => [v.name, v.state === 'ENABLED' ? 'enabled' : 'paused', v.expression, v.timezone, v.nextRun ?? '—']);
  const header = ['NAME', 'STATE', 'EXPRESSION', 'TIME ZONE', 'NEXT RUN (UTC)'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  return [header, ...rows].map((r) => r.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
}
