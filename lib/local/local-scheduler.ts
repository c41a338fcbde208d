/**
 * EventBridge Scheduler on the laptop: fires the template's schedules on their own
 * expressions and time zones, sending each occurrence's target input to the local queue with
 * `<aws.scheduler.scheduled-time>` replaced — the same envelope, with the same derived
 * idempotency key, that Scheduler sends in AWS. A failed send is retried (a few times, with
 * backoff, bounded by the schedule's retry policy) and then goes to the schedule's dead-letter
 * queue with Scheduler's error attributes.
 *
 * Occurrences missed while the process was busy or the machine slept are sent late, in
 * order, as long as they are younger than the schedule's maximum event age (as Scheduler
 * retries within it); older ones are dropped.
 *
 * Pause and resume: `taskq schedules pause|resume <name>` writes a small control file next to
 * the state file (./schedule-control.ts); the scheduler reads it every tick. Its state wins
 * over the template's until the local system restarts.
 */
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { nextOccurrence } from '../protocol/schedule-expression.ts';
import { formatScheduledTime, substituteScheduledTime } from '../protocol/schedule.ts';
import type { LocalSchedule } from './local-schedules.ts';
import { readScheduleControl } from './schedule-control.ts';

export interface LocalScheduleStatus {
  readonly name: string;
  readonly state: 'ENABLED' | 'DISABLED';
  /** `cron(…)` or `rate(…)`. */
  readonly expression: string;
  readonly timezone: string;
  readonly description?: string;
  /** ISO-8601 UTC time of the next occurrence (absent when disabled or none is left). */
  readonly nextRun?: string;
  /** Scheduled time of the last occurrence sent. */
  readonly lastRun?: string;
}

export interface LocalSchedulerOptions {
  readonly sqs: SQSClient;
  readonly schedules: readonly LocalSchedule[];
  /** The local system's state file; the control file lives next to it. */
  readonly statePath: string;
  /** The clock (tests move it). @default () => new Date() */
  readonly now?: () => Date;
  /** How often due occurrences are looked for, ms. @default 250 */
  readonly tickMs?: number;
  /** Most send attempts per occurrence locally (the retry policy may allow fewer). @default 4 */
  readonly maxLocalAttempts?: number;
  readonly onFire?: (event: { readonly name: string; readonly scheduledTime: string; readonly delivered: boolean }) => void;
  readonly onChange?: (statuses: readonly LocalScheduleStatus[]) => void;
  readonly onError?: (error: unknown) => void;
}

interface Running {
  readonly schedule: LocalSchedule;
  enabled: boolean;
  /** Origin of a rate schedule: when it was (re-)enabled. */
  origin: Date;
  next: Date | undefined;
  lastRun?: string;
}

export class LocalScheduler {
  private readonly running: Running[];
  private readonly now: () => Date;
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(private readonly options: LocalSchedulerOptions) {
    this.now = options.now ?? (() => new Date());
    const start = this.now();
    this.running = options.schedules.map((schedule) => ({
      schedule,
      enabled: schedule.enabled,
      origin: start,
      next: nextOccurrence(schedule.expression, schedule.timezone, start, start),
    }));
  }

  start(): void {
    this.timer = setInterval(() => {
      this.ticking = this.ticking.then(() => this.tick()).catch((error: unknown) => this.options.onError?.(error));
    }, this.options.tickMs ?? 250);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.ticking;
  }

  get statuses(): LocalScheduleStatus[] {
    return this.running.map((r) => ({
      name: r.schedule.name,
      state: r.enabled ? 'ENABLED' : 'DISABLED',
      expression: r.schedule.expression.expression,
      timezone: r.schedule.timezone,
      ...(r.schedule.description !== undefined ? { description: r.schedule.description } : {}),
      ...(r.enabled && r.next ? { nextRun: r.next.toISOString() } : {}),
      ...(r.lastRun ? { lastRun: r.lastRun } : {}),
    }));
  }

  /** Applies the control file, then sends every occurrence that is due. */
  async tick(): Promise<void> {
    if (this.stopped) return;
    let changed = await this.applyControl();
    const now = this.now();
    for (const r of this.running) {
      for (let i = 0; r.enabled && r.next && r.next <= now && i < 1000; i++) {
        const due = r.next;
        r.next = nextOccurrence(r.schedule.expression, r.schedule.timezone, due, r.origin);
        // Older than the retry policy's maximum event age: Scheduler would have given up on it.
        if (now.getTime() - due.getTime() > r.schedule.maxEventAgeSeconds * 1000) continue;
        const scheduledTime = formatScheduledTime(due);
        await this.fire(r.schedule, scheduledTime);
        r.lastRun = scheduledTime;
        changed = true;
      }
    }
    if (changed) this.options.onChange?.(this.statuses);
  }

  /**
   * Sends one occurrence as Scheduler would: the target input with the scheduled time, retried
   * on failure, then to the dead-letter queue. Returns whether it reached the queue. Also what a
   * test calls to deliver an occurrence twice (a retried delivery after a lost response).
   */
  async fire(schedule: LocalSchedule, scheduledTime: string): Promise<boolean> {
    const body = substituteScheduledTime(schedule.input, scheduledTime);
    const attempts = Math.min(schedule.retryAttempts + 1, this.options.maxLocalAttempts ?? 4);
    let lastError: unknown;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      try {
        await this.options.sqs.send(
          new SendMessageCommand({
            QueueUrl: schedule.queue.url,
            MessageBody: body,
            ...(schedule.messageGroupId !== undefined ? { MessageGroupId: schedule.messageGroupId } : {}),
          }),
        );
        this.options.onFire?.({ name: schedule.name, scheduledTime, delivered: true });
        return true;
      } catch (error) {
        lastError = error;
        if (attempt < attempts) await new Promise((r) => setTimeout(r, 100 * 2 ** attempt));
      }
    }
    await this.deadLetter(schedule, body, lastError, attempts - 1);
    this.options.onFire?.({ name: schedule.name, scheduledTime, delivered: false });
    return false;
  }

  private async deadLetter(schedule: LocalSchedule, body: string, error: unknown, retries: number): Promise<void> {
    if (!schedule.deadLetterQueue) return;
    const text = (value: string) => ({ DataType: 'String', StringValue: value.slice(0, 256) || '-' });
    await this.options.sqs.send(
      new SendMessageCommand({
        QueueUrl: schedule.deadLetterQueue.url,
        MessageBody: body,
        ...(schedule.deadLetterQueue.fifo ? { MessageGroupId: schedule.messageGroupId ?? schedule.name } : {}),
        // The attributes Scheduler sets on a dead-lettered delivery.
        MessageAttributes: {
          ERROR_CODE: text(error instanceof Error ? error.name : 'Error'),
          ERROR_MESSAGE: text(error instanceof Error ? error.message : String(error)),
          EXHAUSTED_RETRY_CONDITION: text('MaximumRetryAttempts'),
          RETRY_ATTEMPTS: { DataType: 'Number', StringValue: String(retries) },
          TARGET_ARN: text(schedule.queue.arn),
          SCHEDULE_ARN: text(`arn:aws:scheduler:local:000000000000:schedule/${schedule.groupName}/${schedule.name}`),
        },
      }),
    );
  }

  private async applyControl(): Promise<boolean> {
    const control = await readScheduleControl(this.options.statePath);
    let changed = false;
    for (const r of this.running) {
      const wanted = control[r.schedule.name];
      if (wanted === undefined || (wanted === 'ENABLED') === r.enabled) continue;
      r.enabled = wanted === 'ENABLED';
      if (r.enabled) {
        // Resumed: the next occurrence after now (a rate restarts from now); missed ones are not sent.
        const now = this.now();
        r.origin = now;
        r.next = nextOccurrence(r.schedule.expression, r.schedule.timezone, now, now);
      }
      changed = true;
    }
    return changed;
  }
}
