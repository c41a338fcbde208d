/**
 * Recurring tasks declared on the TaskQueue (`schedules` prop): each becomes an EventBridge
 * Scheduler schedule that sends a task envelope to the source queue (./schedules.ts).
 */
import { Duration } from 'aws-cdk-lib';
import type { TaskContract } from '../protocol/contract.ts';

export interface TaskScheduleProps {
  /**
   * Name of the schedule, unique within the task queue: 1–64 letters, digits, `.`, `_`, `-`
   * (Scheduler's rule). It is part of every occurrence's task id and idempotency key
   * (`schedule:<name>:<scheduled time>`): renaming a schedule starts a new series of keys.
   */
  readonly name: string;
  /**
   * Scheduler cron fields: `minutes hours day-of-month month day-of-week year`, evaluated in
   * `timezone`; exactly one of day-of-month and day-of-week is `?`; weekdays 1 (SUN) – 7 (SAT)
   * or SUN–SAT. Example: `0 9 ? * MON-FRI *` (09:00 on weekdays). `cron(…)` around it is accepted.
   * Exactly one of `cron` and `rate` is required.
   * @default none
   */
  readonly cron?: string;
  /**
   * Run every `rate`, counted from the schedule's creation: a whole number of minutes ≥ 1.
   * Exactly one of `cron` and `rate` is required.
   * @default none
   */
  readonly rate?: Duration;
  /**
   * IANA time zone the cron expression is read in (daylight-saving changes included).
   * @default 'UTC'
   */
  readonly timezone?: string;
  /**
   * The task type each occurrence runs, or its contract (then the payload is checked against
   * the contract's schema at synth, and the type is the contract's).
   */
  readonly task: string | TaskContract;
  /**
   * The payload of every occurrence (JSON). Keep it small: it is stored in the schedule's
   * target input; put large data somewhere the task can read it.
   * @default {}
   */
  readonly payload?: unknown;
  /**
   * Description shown in the Scheduler console and `taskq schedules`.
   * @default none
   */
  readonly description?: string;
  /**
   * Create the schedule enabled. `taskq schedules pause|resume <name>` changes it later — until
   * the next deployment, which sets it back to this value.
   * @default true
   */
  readonly enabled?: boolean;
  /**
   * Let Scheduler start an occurrence anywhere within this window after its time (spreads
   * load); whole minutes, 1–1440. The scheduled time in the key stays the nominal one.
   * @default none — each occurrence is sent at its time
   */
  readonly flexibleWindow?: Duration;
  /**
   * Retries of a failed delivery to the queue (0–185), within `maxEventAge`. A delivery that
   * still fails goes to the schedule dead-letter queue (and pages through its alarm).
   * @default 185 — Scheduler's maximum: an occurrence is worth hours of retries (a KMS or SQS
   *   outage), and a retried delivery cannot run twice (the key is the scheduled time).
   */
  readonly retryAttempts?: number;
  /**
   * How long after its time an occurrence may still be delivered (1 minute – 24 hours).
   * @default Duration.hours(24) — Scheduler's maximum, for the same reason.
   */
  readonly maxEventAge?: Duration;
}

export const SCHEDULE_DEFAULTS = {
  timezone: 'UTC',
  payload: {},
  enabled: true,
  retryAttempts: 185,
  maxEventAge: Duration.hours(24),
  /** Retention of the schedule dead-letter queue: the longest SQS keeps a message. */
  deadLetterRetentionPeriod: Duration.days(14),
} as const;
