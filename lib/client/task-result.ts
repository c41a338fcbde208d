/**
 * waitForResult(): polls the task's record (getTaskStatus: one eventually consistent GetItem,
 * half a read unit) until it reaches a final state — no busy loop. The first read is at once;
 * then the wait between reads grows by 1.5× from `pollIntervalMs` (250 ms) up to
 * `maxPollIntervalMs` (5 s): 250, 375, 563, 844, 1266, 1898, 2848, 4271, 5000, 5000 … ms, so
 * a task taking a minute costs about 20 reads. SUCCEEDED resolves with the result (read from
 * S3 when it was too large for the record); DEAD_LETTERED, CANCELLED, the timeout and the
 * caller's signal reject with a TaskOutcomeError.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { S3Client } from '@aws-sdk/client-s3';
import { TaskOutcomeError, TaskValidationError } from '../protocol/errors.ts';
import { DEFAULTS } from '../protocol/resources.ts';
import type { ResultRef, TaskStatusView } from '../protocol/task-record.ts';
import { awsErrorCode } from './aws-errors.ts';
import type { TaskStatusReader } from './task-status.ts';

export interface WaitForResultOptions {
  /** Give up after this many milliseconds (WAIT_TIMEOUT; the task may still finish later). @default 60000 */
  readonly timeout?: number;
  /** Stops waiting when aborted (WAIT_ABORTED). @default none */
  readonly signal?: AbortSignal;
  /** The idempotency key the task was sent with, when it was not the task id. @default the task id */
  readonly idempotencyKey?: string;
  /** The first wait between two reads of the record. @default 250 */
  readonly pollIntervalMs?: number;
  /** The longest wait between two reads (the waits grow by 1.5× up to it). @default 5000 */
  readonly maxPollIntervalMs?: number;
}

export const WAIT_DEFAULTS = { timeout: 60_000, pollIntervalMs: 250, maxPollIntervalMs: 5000, growth: 1.5 } as const;

export class ResultWaiter {
  constructor(
    private readonly status: TaskStatusReader,
    private readonly s3: () => Promise<S3Client>,
    private readonly now: () => number = Date.now,
  ) {}

  async wait<R = unknown>(taskId: string, options: WaitForResultOptions = {}): Promise<R> {
    const timeout = positive(options.timeout, 'timeout', WAIT_DEFAULTS.timeout);
    const first = positive(options.pollIntervalMs, 'pollIntervalMs', WAIT_DEFAULTS.pollIntervalMs);
    const max = Math.max(first, positive(options.maxPollIntervalMs, 'maxPollIntervalMs', WAIT_DEFAULTS.maxPollIntervalMs));
    const deadline = this.now() + timeout;
    const signal = options.signal;
    const read = options.idempotencyKey !== undefined ? { idempotencyKey: options.idempotencyKey } : {};
    for (let n = 0; ; n++) {
      if (signal?.aborted) throw aborted(taskId);
      const view = await this.status.get(taskId, read);
      if (view.status === 'SUCCEEDED') return (await this.result(view)) as R;
      if (view.status === 'DEAD_LETTERED') {
        throw new TaskOutcomeError('TASK_DEAD_LETTERED', `task ${taskId} was dead-lettered (${view.deadLetterReason ?? 'reason unknown'})`, {
          taskId,
          status: view.status,
          ...(view.deadLetterReason ? { deadLetterReason: view.deadLetterReason } : {}),
        });
      }
      if (view.status === 'CANCELLED') throw new TaskOutcomeError('TASK_CANCELLED', `task ${taskId} was cancelled`, { taskId, status: view.status });
      const delay = Math.min(max, first * WAIT_DEFAULTS.growth ** n, deadline - this.now());
      if (delay <= 0) throw new TaskOutcomeError('WAIT_TIMEOUT', `task ${taskId} did not finish within ${timeout} ms (last status ${view.status})`, { taskId, status: view.status });
      try {
        await sleep(delay, undefined, signal ? { signal } : {});
      } catch {
        throw aborted(taskId);
      }
    }
  }

  /** The stored result: inline, or read from S3 by its reference. */
  async result(view: TaskStatusView): Promise<unknown> {
    if (view.resultRef) return this.readRef(view.taskId, view.resultRef);
    if (view.resultTruncated) {
      throw new TaskOutcomeError('RESULT_UNREADABLE', `task ${view.taskId} SUCCEEDED, but its result was too large to store (or no bucket was configured)`, {
        taskId: view.taskId,
        status: view.status,
      });
    }
    return view.result;
  }

  private async readRef(taskId: string, ref: ResultRef): Promise<unknown> {
    // Only the consumer's results prefix: a record is no licence to read any object.
    if (!ref.key.startsWith(DEFAULTS.resultPrefix)) {
      throw new TaskOutcomeError('RESULT_UNREADABLE', `task ${taskId}: its result reference is outside ${DEFAULTS.resultPrefix}`, { taskId, status: 'SUCCEEDED' });
    }
    try {
      const [client, { GetObjectCommand }] = await Promise.all([this.s3(), import('@aws-sdk/client-s3')]);
      const out = await client.send(new GetObjectCommand({ Bucket: ref.bucket, Key: ref.key }));
      return JSON.parse(await out.Body!.transformToString('utf8')) as unknown;
    } catch (error) {
      const awsCode = awsErrorCode(error);
      throw new TaskOutcomeError(
        'RESULT_UNREADABLE',
        `task ${taskId}: its result s3://${ref.bucket}/${ref.key} could not be read${awsCode ? ` (${awsCode})` : ''}`,
        { taskId, status: 'SUCCEEDED', ...(awsCode ? { awsCode } : {}) },
        { cause: error },
      );
    }
  }
}

function aborted(taskId: string): TaskOutcomeError {
  return new TaskOutcomeError('WAIT_ABORTED', `waiting for task ${taskId} was aborted`, { taskId });
}

function positive(value: number | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new TaskValidationError('INVALID_OPTIONS', `waitForResult: ${name} must be a positive number of milliseconds (got ${String(value)})`);
  }
  return value;
}
