/**
 * EventBridge Scheduler's schedule expressions — `cron(minutes hours day-of-month month
 * day-of-week year)` and `rate(value unit)` — checked with the rules Scheduler applies, and
 * their next occurrences in a time zone. One reading serves the construct (synth-time
 * validation), the local system (firing) and the CLI (next run), so they cannot disagree.
 *
 * Cron fields are evaluated by croner (pinned exactly): its Quartz mode numbers weekdays
 * 1 = SUN … 7 = SAT as Scheduler does, it knows `L`, `W`, `#`, `?` and a year field, and it
 * walks wall-clock time in IANA zones across daylight-saving changes.
 */
import { Cron } from 'croner';

export type ScheduleExpression =
  | { readonly kind: 'cron'; readonly fields: string; readonly expression: string }
  | { readonly kind: 'rate'; readonly seconds: number; readonly expression: string };

/** An expression or time zone Scheduler would reject; `rule` says which rule. */
export class ScheduleExpressionError extends Error {
  constructor(
    readonly value: string,
    readonly rule: string,
  ) {
    super(`${JSON.stringify(value)}: ${rule}`);
    this.name = 'ScheduleExpressionError';
  }
}

const RATE = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/;
const UNIT_SECONDS: Record<string, number> = { minute: 60, hour: 3600, day: 86_400 };

/** Parses `cron(…)` or `rate(…)` (the template's ScheduleExpression); throws ScheduleExpressionError. */
export function parseScheduleExpression(expression: string): ScheduleExpression {
  const rate = RATE.exec(expression);
  if (rate) {
    const value = Number(rate[1]);
    const unit = rate[2]!;
    if (value < 1) throw new ScheduleExpressionError(expression, 'a rate must be a whole number ≥ 1');
    if (value === 1 && unit.endsWith('s')) throw new ScheduleExpressionError(expression, `a rate of 1 takes the singular unit (${unit.slice(0, -1)})`);
    if (value > 1 && !unit.endsWith('s')) throw new ScheduleExpressionError(expression, `a rate above 1 takes the plural unit (${unit}s)`);
    return { kind: 'rate', seconds: value * UNIT_SECONDS[unit.replace(/s$/, '')]!, expression };
  }
  const cron = /^cron\((.*)\)$/.exec(expression);
  if (cron) return { kind: 'cron', fields: checkCronFields(cron[1]!.trim(), expression), expression };
  throw new ScheduleExpressionError(expression, 'must be cron(minutes hours day-of-month month day-of-week year) or rate(value minute|minutes|hour|hours|day|days)');
}

/**
 * Checks the six fields of a Scheduler cron expression; returns them normalised to single
 * spaces. Scheduler's own rules first (six fields; exactly one of day-of-month and day-of-week
 * is `?`), then every field's values through croner.
 */
export function checkCronFields(fields: string, shown = fields): string {
  const parts = fields.split(/\s+/).filter((p) => p.length > 0);
  if (parts.length !== 6) {
    throw new ScheduleExpressionError(shown, `a cron expression has six fields (minutes hours day-of-month month day-of-week year), got ${parts.length}`);
  }
  const [, , dayOfMonth, , dayOfWeek] = parts as [string, string, string, string, string, string];
  if ((dayOfMonth === '?') === (dayOfWeek === '?')) {
    throw new ScheduleExpressionError(shown, 'exactly one of day-of-month and day-of-week must be ? (Scheduler does not combine them)');
  }
  // croner also takes 0 and 8 for Sunday; Scheduler's weekdays are 1 (SUN) to 7 (SAT) only.
  const weekdays = dayOfWeek.replace(/[#/]\d+/g, '').match(/\d+/g) ?? [];
  if (weekdays.some((d) => Number(d) < 1 || Number(d) > 7)) {
    throw new ScheduleExpressionError(shown, `day-of-week values are 1 (SUN) to 7 (SAT) or SUN–SAT, got ${dayOfWeek}`);
  }
  try {
    cronOf(toCronerFields(parts.join(' ')), 'UTC');
  } catch (error) {
    throw new ScheduleExpressionError(shown, error instanceof Error ? error.message.replace(/^CronPattern: /, '') : String(error));
  }
  return parts.join(' ');
}

/** True for an IANA time zone name this runtime knows (Scheduler takes IANA names). */
export function isKnownTimeZone(timeZone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
    return true;
  } catch {
    return false;
  }
}

/** Throws ScheduleExpressionError unless `timeZone` is a known IANA name. */
export function checkTimeZone(timeZone: string): void {
  if (!isKnownTimeZone(timeZone)) throw new ScheduleExpressionError(timeZone, 'is not an IANA time zone name (e.g. Europe/Berlin, America/New_York, UTC)');
}

/**
 * The first occurrence strictly after `after`. Cron occurrences are wall-clock times in
 * `timeZone`; rate occurrences are `start` + k × rate (Scheduler counts a rate from the
 * schedule's start date or creation). Undefined when a cron expression has no more
 * occurrences (a past year).
 */
export function nextOccurrence(expression: ScheduleExpression, timeZone: string, after: Date, start?: Date): Date | undefined {
  if (expression.kind === 'rate') {
    const origin = (start ?? after).getTime();
    const periodMs = expression.seconds * 1000;
    const elapsed = after.getTime() - origin;
    const k = elapsed < 0 ? 0 : Math.floor(elapsed / periodMs) + 1;
    return new Date(origin + k * periodMs);
  }
  return cronOf(toCronerFields(expression.fields), timeZone).nextRun(after) ?? undefined;
}

/** Largest value of each Scheduler cron field, for `start/step` (croner wants `start-max/step`). */
const FIELD_MAX = [59, 23, 31, 12, 7, 2199];

/** Scheduler's `5/15` (from 5, every 15) in croner's spelling `5-59/15`; the rest is the same. */
function toCronerFields(fields: string): string {
  return fields
    .split(' ')
    .map((field, i) => field.replace(/(^|,)(\d+)\/(\d+)/g, (_m, sep: string, from: string, step: string) => `${sep}${from}-${FIELD_MAX[i]}/${step}`))
    .join(' ');
}

function cronOf(fields: string, timeZone: string): Cron {
  // Second 0, then Scheduler's six fields: croner's seven-part form.
  return new Cron(`0 ${fields}`, { timezone: timeZone, mode: '7-part', alternativeWeekdays: true, paused: true });
}
