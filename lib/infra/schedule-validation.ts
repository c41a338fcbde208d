/**
 * Synth-time validation of the `schedules` and `taskTypes` props: every rule Scheduler would
 * apply at deploy time (names, expressions, time zones, retry bounds), and the queue's own
 * (a task type the consumer handles, a payload its contract accepts, FIFO deduplication),
 * each failing with the prop, the value and the rule.
 */
import { Duration, Token } from 'aws-cdk-lib';
import { describeIssues, isTaskContract, type TaskContract } from '../protocol/contract.ts';
import { isValidTaskType } from '../protocol/envelope.ts';
import { TASK_TYPE_PATTERN } from '../protocol/limits.ts';
import { checkTimeZone, parseScheduleExpression, ScheduleExpressionError } from '../protocol/schedule-expression.ts';
import { SCHEDULE_NAME_PATTERN } from '../protocol/schedule.ts';
import { SCHEDULE_DEFAULTS as D, type TaskScheduleProps } from './schedule-props.ts';
import { TaskQueueValidationError } from './validation.ts';

/** One schedule with its defaults applied, as the construct creates it. */
export interface ResolvedSchedule {
  readonly name: string;
  /** `cron(…)` or `rate(…)`: Scheduler's ScheduleExpression. */
  readonly expression: string;
  readonly timezone: string;
  readonly type: string;
  readonly payload: unknown;
  readonly description?: string;
  readonly enabled: boolean;
  readonly flexibleWindow?: Duration;
  readonly retryAttempts: number;
  readonly maxEventAge: Duration;
}

export interface ScheduleQueueFacts {
  readonly fifo: boolean;
  readonly contentBasedDeduplication: boolean;
  /** The `taskTypes` prop: when given, the types a schedule may name. */
  readonly taskTypes?: readonly (string | TaskContract)[];
}

export function resolveTaskTypes(taskTypes: readonly (string | TaskContract)[] | undefined): ReadonlySet<string> | undefined {
  if (taskTypes === undefined) return undefined;
  const types = new Set<string>();
  taskTypes.forEach((entry, i) => {
    const type = isTaskContract(entry) ? entry.type : entry;
    if (!isValidTaskType(type)) fail(`taskTypes[${i}]`, type, `a task type must match ${TASK_TYPE_PATTERN.source}`);
    types.add(type);
  });
  return types;
}

export function resolveSchedules(schedules: readonly TaskScheduleProps[] | undefined, facts: ScheduleQueueFacts): ResolvedSchedule[] {
  if (!schedules || schedules.length === 0) return [];
  if (facts.fifo && !facts.contentBasedDeduplication) {
    fail('schedules', `${schedules.length} schedule(s)`, 'on a FIFO queue schedules need contentBasedDeduplication: true (Scheduler cannot set a MessageDeduplicationId)');
  }
  const known = resolveTaskTypes(facts.taskTypes);
  const seen = new Set<string>();
  return schedules.map((s, i) => {
    const at = `schedules[${i}]`;
    if (typeof s.name !== 'string' || !SCHEDULE_NAME_PATTERN.test(s.name)) {
      fail(`${at}.name`, s.name, 'a schedule name is 1–64 letters, digits, ".", "_" or "-"');
    }
    if (seen.has(s.name)) fail(`${at}.name`, s.name, 'schedule names must be unique within the task queue (the name is part of every occurrence\'s idempotency key)');
    seen.add(s.name);

    const expression = expressionOf(s, at);
    const timezone = s.timezone ?? D.timezone;
    try {
      checkTimeZone(timezone);
    } catch (error) {
      fail(`${at}.timezone`, timezone, (error as ScheduleExpressionError).rule);
    }

    const type = isTaskContract(s.task) ? s.task.type : s.task;
    if (!isValidTaskType(type)) fail(`${at}.task`, type, `a task type must match ${TASK_TYPE_PATTERN.source}`);
    if (known && !known.has(type)) {
      fail(`${at}.task`, type, `no consumer handles this type: taskTypes lists ${[...known].map((t) => JSON.stringify(t)).join(', ') || 'none'}`);
    }
    const payload = s.payload === undefined ? D.payload : s.payload;
    checkPayload(s.task, payload, `${at}.payload`);

    const retryAttempts = s.retryAttempts ?? D.retryAttempts;
    if (!Number.isInteger(retryAttempts) || retryAttempts < 0 || retryAttempts > 185) {
      fail(`${at}.retryAttempts`, retryAttempts, 'Scheduler retries a delivery 0–185 times');
    }
    const maxEventAge = s.maxEventAge ?? D.maxEventAge;
    const ageSeconds = maxEventAge.toSeconds();
    if (!Number.isInteger(ageSeconds) || ageSeconds < 60 || ageSeconds > 86_400) {
      fail(`${at}.maxEventAge`, maxEventAge.toHumanString(), 'must be whole seconds from 1 minute to 24 hours');
    }
    if (s.flexibleWindow !== undefined) {
      const minutes = s.flexibleWindow.toSeconds() / 60;
      if (!Number.isInteger(minutes) || minutes < 1 || minutes > 1440) {
        fail(`${at}.flexibleWindow`, s.flexibleWindow.toHumanString(), 'must be whole minutes from 1 to 1440');
      }
    }
    if (s.description !== undefined && s.description.length > 512) fail(`${at}.description`, `${s.description.length} characters`, 'at most 512 characters');
    return {
      name: s.name,
      expression,
      timezone,
      type,
      payload,
      ...(s.description !== undefined ? { description: s.description } : {}),
      enabled: s.enabled ?? D.enabled,
      ...(s.flexibleWindow !== undefined ? { flexibleWindow: s.flexibleWindow } : {}),
      retryAttempts,
      maxEventAge,
    };
  });
}

function expressionOf(s: TaskScheduleProps, at: string): string {
  if ((s.cron === undefined) === (s.rate === undefined)) fail(at, s.name, 'exactly one of cron and rate is required');
  if (s.cron !== undefined) {
    const fields = s.cron.trim().replace(/^cron\((.*)\)$/, '$1');
    try {
      return parseScheduleExpression(`cron(${fields})`).expression;
    } catch (error) {
      if (!(error instanceof ScheduleExpressionError)) throw error;
      fail(`${at}.cron`, s.cron, error.rule);
    }
  }
  const rate = s.rate!;
  if (Token.isUnresolved(rate.toSeconds())) fail(`${at}.rate`, rate, 'must be known at synth time');
  const minutes = rate.toSeconds() / 60;
  if (!Number.isInteger(minutes) || minutes < 1) fail(`${at}.rate`, rate.toHumanString(), 'a rate is a whole number of minutes ≥ 1');
  const [value, unit] = minutes % 1440 === 0 ? [minutes / 1440, 'day'] : minutes % 60 === 0 ? [minutes / 60, 'hour'] : [minutes, 'minute'];
  return `rate(${value} ${unit}${value === 1 ? '' : 's'})`;
}

/** A contract's schema checks the payload now, when it can answer synchronously (zod, valibot, arktype do). */
function checkPayload(task: string | TaskContract, payload: unknown, prop: string): void {
  let json: string | undefined;
  try {
    json = JSON.stringify(payload);
  } catch {
    json = undefined;
  }
  if (json === undefined) fail(prop, typeof payload, 'the payload must be JSON-serialisable');
  if (!isTaskContract(task)) return;
  const result = task.schema['~standard'].validate(payload);
  if (result instanceof Promise) return;
  if (result.issues) fail(prop, json, `does not satisfy the ${task.type} contract: ${describeIssues(result.issues)}`);
}

function fail(prop: string, value: unknown, rule: string): never {
  throw new TaskQueueValidationError(prop, value, rule);
}
