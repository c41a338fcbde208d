/**
 * Scheduler's expressions as the construct, the CLI and the local scheduler read them: the
 * rules Scheduler applies, and next occurrences in IANA time zones (daylight-saving changes,
 * L / W / #, years, Scheduler's `start/step` spelling, rates counted from their start).
 */
import { describe, expect, it } from 'vitest';
import { checkTimeZone, nextOccurrence, parseScheduleExpression, ScheduleExpressionError } from '../../../lib/protocol/schedule-expression.ts';
import { formatScheduledTime, scheduledTaskEnvelope, SCHEDULED_TIME_PLACEHOLDER, substituteScheduledTime } from '../../../lib/protocol/schedule.ts';
import { decodeEnvelope, encodeEnvelope } from '../../../lib/protocol/envelope.ts';

const next = (expression: string, timeZone: string, after: string, start?: string) =>
  nextOccurrence(parseScheduleExpression(expression), timeZone, new Date(after), start ? new Date(start) : undefined)?.toISOString();

describe('next occurrences', () => {
  it('09:00 on weekdays in Berlin: 08:00 UTC in winter, 07:00 UTC after the March change, skipping the weekend', () => {
    expect(next('cron(0 9 ? * MON-FRI *)', 'Europe/Berlin', '2026-03-27T12:00:00Z')).toBe('2026-03-30T07:00:00.000Z');
    expect(next('cron(0 9 ? * MON-FRI *)', 'Europe/Berlin', '2026-03-26T12:00:00Z')).toBe('2026-03-27T08:00:00.000Z');
  });

  it('weekday numbers are Scheduler\'s: 1 = SUN, 2 = MON', () => {
    // Wednesday 2 December 2026 → Sunday 6, Monday 7.
    expect(next('cron(0 12 ? * 1 *)', 'UTC', '2026-12-02T00:00:00Z')).toBe('2026-12-06T12:00:00.000Z');
    expect(next('cron(0 12 ? * 2 *)', 'UTC', '2026-12-02T00:00:00Z')).toBe('2026-12-07T12:00:00.000Z');
  });

  it('L, W, #, start/step and a year', () => {
    expect(next('cron(0 0 L * ? *)', 'UTC', '2027-02-01T00:00:00Z')).toBe('2027-02-28T00:00:00.000Z');
    // 15 August 2027 is a Sunday: the nearest weekday is Monday the 16th.
    expect(next('cron(0 0 15W * ? *)', 'UTC', '2027-08-01T00:00:00Z')).toBe('2027-08-16T00:00:00.000Z');
    // The second Monday of January 2027.
    expect(next('cron(0 0 ? 1 2#2 2027)', 'UTC', '2026-12-02T00:00:00Z')).toBe('2027-01-11T00:00:00.000Z');
    expect(next('cron(5/20 * ? * * *)', 'UTC', '2026-12-02T10:26:00Z')).toBe('2026-12-02T10:45:00.000Z');
    expect(next('cron(0 0 1 1 ? 2020)', 'UTC', '2026-12-02T00:00:00Z')).toBeUndefined();
  });

  it('rates: start + k × rate, the first one after `after`', () => {
    expect(next('rate(5 minutes)', 'UTC', '2026-12-02T20:00:00Z', '2026-12-02T19:58:30Z')).toBe('2026-12-02T20:03:30.000Z');
    expect(next('rate(1 hour)', 'UTC', '2026-12-02T20:00:00Z', '2026-12-02T21:00:00Z')).toBe('2026-12-02T21:00:00.000Z');
    expect(next('rate(2 days)', 'UTC', '2026-12-02T20:00:00Z')).toBe('2026-12-04T20:00:00.000Z');
  });
});

describe('Scheduler\'s rules', () => {
  it.each([
    ['cron(0 9 * * MON *)', /exactly one of day-of-month and day-of-week/],
    ['cron(0 9 ? * ? *)', /exactly one of day-of-month and day-of-week/],
    ['cron(0 9 ? * 8 *)', /1 \(SUN\) to 7 \(SAT\)/],
    ['cron(60 9 ? * * *)', /minute/],
    ['cron(0 9 ? * *)', /six fields/],
    ['rate(0 minutes)', /≥ 1/],
    ['rate(1 hours)', /singular/],
    ['rate(2 hour)', /plural/],
    ['rate(5 seconds)', /must be cron\(/],
    ['at(2026-12-24T18:00:00)', /must be cron\(/],
  ])('%s is refused', (expression, rule) => {
    expect(() => parseScheduleExpression(expression)).toThrow(ScheduleExpressionError);
    expect(() => parseScheduleExpression(expression)).toThrow(rule);
  });

  it('time zones: IANA names only', () => {
    expect(() => checkTimeZone('America/New_York')).not.toThrow();
    expect(() => checkTimeZone('UTC')).not.toThrow();
    expect(() => checkTimeZone('Europe/Atlantis')).toThrow(/IANA/);
    expect(() => checkTimeZone('CEST+2')).toThrow(/IANA/);
  });
});

describe('the occurrence envelope', () => {
  it('the placeholder becomes the scheduled time in id, key and createdAt; the result is a valid envelope', () => {
    const input = encodeEnvelope(scheduledTaskEnvelope({ scheduleName: 'nightly', type: 'report', payload: { text: 'a <b>' }, scheduledTime: SCHEDULED_TIME_PLACEHOLDER }));
    const time = formatScheduledTime(new Date('2026-12-02T08:30:00.123Z'));
    expect(time).toBe('2026-12-02T08:30:00Z');
    const envelope = decodeEnvelope(substituteScheduledTime(input, time));
    expect(envelope).toEqual({ v: 1, id: 'schedule:nightly:2026-12-02T08:30:00Z', idempotencyKey: 'schedule:nightly:2026-12-02T08:30:00Z', type: 'report', payload: { text: 'a <b>' }, createdAt: time });
  });
});
