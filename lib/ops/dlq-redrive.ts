/**
 * `taskq dlq redrive`: moves dead-lettered messages back to the source queue.
 *
 * - Unfiltered and unbounded (no --type, no --max) it asks SQS to do it:
 *   StartMessageMoveTask (DLQ → source, MaxNumberOfMessagesPerSecond = --rate), and follows
 *   the task with ListMessageMoveTasks. An endpoint without that API (fauxqs answers
 *   "Unknown action") falls back to the path below.
 * - Otherwise: receive (short hold) → SendMessageBatch to the source with the ORIGINAL
 *   body and message attributes minus the dead-letter attributes, plus `taskq.redrivenAt`
 *   (the mark that lets the consumer run a DEAD_LETTERED task again) → DeleteMessage from the
 *   DLQ only for the entries whose send succeeded. Messages of another type are counted
 *   as skipped and made visible again; messages whose send failed stay in the DLQ and are
 *   counted as failed. A crash between send and delete leaves a copy in both queues: the
 *   consumer's idempotency (the task id in the envelope) makes the second delivery harmless.
 * - FIFO: the message group id is kept; the deduplication id is `taskq-redrive-<DLQ message
 *   id>`, never the original one — SQS would silently drop a send that reuses an id seen in
 *   the last 5 minutes, and the message would be lost after its delete. The derived id
 *   also deduplicates a re-run after a crash between send and delete (within 5 minutes).
 * - Only messages that were in the DLQ when the redrive started move: one whose DLQ
 *   SentTimestamp is later (a redriven task that failed again while the redrive ran) is left
 *   in the DLQ, so a poison task cannot bounce between the queues for as long as it runs.
 */
import {
  CancelMessageMoveTaskCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ListMessageMoveTasksCommand,
  SendMessageBatchCommand,
  StartMessageMoveTaskCommand,
  type Message,
  type SendMessageBatchRequestEntry,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { SQS_BATCH_MAX_BYTES, SQS_BATCH_MAX_ENTRIES } from '../protocol/limits.ts';
import { isUnsupportedOperation, OpsError, toOpsError } from './errors.ts';
import { redriveAttributes, taskTypeOf, describeDeadLetter } from './dead-letter-message.ts';
import { DEFAULT_HOLD_SECONDS, receiveDeadLetters, releaseMessages } from './dlq-messages.ts';
import { isFifoQueueUrl } from './queue-name.ts';
import { RateLimiter, systemClock, type Clock } from './rate-limiter.ts';

/** SQS's ceiling for MaxNumberOfMessagesPerSecond of a move task. */
export const MOVE_TASK_MAX_RATE = 500;

export interface RedriveInput {
  readonly sqs: SQSClient;
  readonly deadLetterQueueUrl: string;
  /** The source queue the messages go back to. */
  readonly queueUrl: string;
  readonly deadLetterQueueArn?: string;
  readonly queueArn?: string;
  /** Only messages of this task type. */
  readonly type?: string;
  /** Only these DLQ messages (message ids, e.g. picked in `taskq console`); the others stay in the DLQ. */
  readonly messageIds?: readonly string[];
  /** Stop after this many messages were moved or failed. */
  readonly max?: number;
  /** Messages per second. */
  readonly rate?: number;
  /** Count what would move; move nothing. */
  readonly dryRun?: boolean;
  /** 'auto' (default): StartMessageMoveTask when unfiltered and available; 'never': always receive → send → delete. */
  readonly moveTask?: 'auto' | 'never';
  readonly holdSeconds?: number;
  readonly waitSeconds?: number;
  readonly pollIntervalMs?: number;
  readonly clock?: Clock;
  readonly signal?: AbortSignal;
  readonly onProgress?: (progress: RedriveProgress) => void;
}

export interface RedriveProgress {
  readonly method: RedriveMethod;
  /** Messages handled so far (moved + failed, plus skipped when filtering). */
  readonly done: number;
  /** Best estimate of the total: the DLQ depth at the start, bounded by --max. */
  readonly total: number;
  readonly moved: number;
  readonly skipped: number;
  readonly failed: number;
}

export type RedriveMethod = 'move-task' | 'receive-send-delete';

export interface RedriveFailure {
  readonly messageId: string;
  readonly taskId: string | null;
  readonly type: string | null;
  readonly error: string;
}

export interface RedriveResult {
  readonly method: RedriveMethod;
  readonly dryRun: boolean;
  /** Messages now in the source queue (a dry run: messages that would move). */
  readonly moved: number;
  /** Messages of another type, left in the DLQ and visible again. */
  readonly skipped: number;
  /** Messages that reached the DLQ after the redrive started (e.g. a redriven task failing again): left there. */
  readonly arrivedDuringRun: number;
  /** Messages whose send failed: still in the DLQ. */
  readonly failed: number;
  /** Sent to the source but the delete from the DLQ failed: a copy is in both queues (harmless, see above). */
  readonly deleteFailed: number;
  /** Moved (or would move) per task type. */
  readonly byType: Record<string, number>;
  readonly failures: RedriveFailure[];
  readonly stoppedBecause: 'empty' | 'max' | 'interrupted' | 'completed' | 'move-task-failed' | 'move-task-cancelled';
  /** Why the move task was not used, when it was tried. */
  readonly fallbackReason?: string;
  readonly moveTask?: { readonly taskHandle?: string; readonly status?: string; readonly failureReason?: string };
  /** Held messages that could not be made visible at once (they return after the hold). */
  readonly notReleased: string[];
}

export async function redriveDeadLetters(input: RedriveInput): Promise<RedriveResult> {
  validate(input);
  const total = await depthEstimate(input);
  const canMove = (input.moveTask ?? 'auto') === 'auto' && !filtered(input) && input.max === undefined && !input.dryRun;
  if (canMove) {
    const moved = await tryMoveTask(input, total);
    if (moved.kind === 'done') return moved.result;
    return receiveSendDelete(input, total, moved.reason);
  }
  return receiveSendDelete(input, total);
}

/** Whether only some messages move (by type or by id), so the others must be looked at and left. */
function filtered(input: RedriveInput): boolean {
  return input.type !== undefined || input.messageIds !== undefined;
}

function validate(input: RedriveInput): void {
  if (input.max !== undefined && (!Number.isSafeInteger(input.max) || input.max < 1)) {
    throw new OpsError('USAGE', `--max must be a positive integer, got ${input.max}`);
  }
  if (input.rate !== undefined && (!Number.isFinite(input.rate) || input.rate <= 0)) {
    throw new OpsError('USAGE', `--rate must be a positive number of messages per second, got ${input.rate}`);
  }
  if (input.deadLetterQueueUrl === input.queueUrl) {
    throw new OpsError('USAGE', 'the DLQ and the destination queue are the same queue');
  }
  if (isFifoQueueUrl(input.deadLetterQueueUrl) !== isFifoQueueUrl(input.queueUrl)) {
    throw new OpsError('USAGE', 'the DLQ and the source queue must both be FIFO or both standard');
  }
}

async function attributes(sqs: SQSClient, queueUrl: string, names: ('QueueArn' | 'ApproximateNumberOfMessages')[]): Promise<Record<string, string>> {
  try {
    const result = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: names }));
    return result.Attributes ?? {};
  } catch (error) {
    throw toOpsError(error, { resource: `queue ${queueUrl}` });
  }
}

async function depthEstimate(input: RedriveInput): Promise<number> {
  // Also proves both queues exist before anything moves.
  const [dlq] = await Promise.all([
    attributes(input.sqs, input.deadLetterQueueUrl, ['ApproximateNumberOfMessages']),
    attributes(input.sqs, input.queueUrl, ['QueueArn']),
  ]);
  const depth = Number(dlq.ApproximateNumberOfMessages ?? 0);
  return input.max === undefined ? depth : Math.min(depth, input.max);
}

type MoveOutcome = { kind: 'done'; result: RedriveResult } | { kind: 'fallback'; reason: string };

async function tryMoveTask(input: RedriveInput, total: number): Promise<MoveOutcome> {
  const clock = input.clock ?? systemClock;
  const sourceArn = input.deadLetterQueueArn ?? (await attributes(input.sqs, input.deadLetterQueueUrl, ['QueueArn'])).QueueArn;
  const destinationArn = input.queueArn ?? (await attributes(input.sqs, input.queueUrl, ['QueueArn'])).QueueArn;
  let taskHandle: string | undefined;
  try {
    const started = await input.sqs.send(
      new StartMessageMoveTaskCommand({
        SourceArn: sourceArn,
        DestinationArn: destinationArn,
        ...(input.rate !== undefined ? { MaxNumberOfMessagesPerSecond: Math.min(MOVE_TASK_MAX_RATE, Math.max(1, Math.floor(input.rate))) } : {}),
      }),
    );
    taskHandle = started.TaskHandle;
  } catch (error) {
    if (isUnsupportedOperation(error)) {
      return { kind: 'fallback', reason: `the endpoint does not support StartMessageMoveTask (${(error as Error).name}: ${(error as Error).message})` };
    }
    throw toOpsError(error, { resource: `move task from ${sourceArn}` });
  }
  const base = { method: 'move-task' as const, dryRun: false, skipped: 0, arrivedDuringRun: 0, deleteFailed: 0, byType: {}, failures: [], notReleased: [] };
  for (;;) {
    if (input.signal?.aborted && taskHandle) {
      await input.sqs.send(new CancelMessageMoveTaskCommand({ TaskHandle: taskHandle })).catch(() => undefined);
    }
    const listed = await input.sqs.send(new ListMessageMoveTasksCommand({ SourceArn: sourceArn, MaxResults: 1 }));
    const task = listed.Results?.[0];
    const moved = task?.ApproximateNumberOfMessagesMoved ?? 0;
    const toMove = task?.ApproximateNumberOfMessagesToMove ?? total;
    input.onProgress?.({ method: 'move-task', done: moved, total: toMove, moved, skipped: 0, failed: 0 });
    const status = task?.Status;
    if (status === 'COMPLETED' || status === 'FAILED' || status === 'CANCELLED') {
      const failureReason = task?.FailureReason;
      return {
        kind: 'done',
        result: {
          ...base,
          moved,
          failed: status === 'FAILED' ? Math.max(0, toMove - moved) : 0,
          stoppedBecause: status === 'COMPLETED' ? 'completed' : status === 'FAILED' ? 'move-task-failed' : input.signal?.aborted ? 'interrupted' : 'move-task-cancelled',
          moveTask: { ...(taskHandle ? { taskHandle } : {}), status, ...(failureReason ? { failureReason } : {}) },
        },
      };
    }
    await clock.sleep(input.pollIntervalMs ?? 1000);
  }
}

function entrySize(entry: SendMessageBatchRequestEntry): number {
  let size = Buffer.byteLength(entry.MessageBody ?? '');
  for (const [name, value] of Object.entries(entry.MessageAttributes ?? {})) {
    size += Buffer.byteLength(name) + Buffer.byteLength(value.DataType ?? '') + Buffer.byteLength(value.StringValue ?? '') + (value.BinaryValue?.byteLength ?? 0);
  }
  return size;
}

/** Splits entries into SendMessageBatch requests of ≤ 10 entries and ≤ 1 MiB, in order. */
export function chunkEntries(entries: SendMessageBatchRequestEntry[]): SendMessageBatchRequestEntry[][] {
  const chunks: SendMessageBatchRequestEntry[][] = [];
  let current: SendMessageBatchRequestEntry[] = [];
  let bytes = 0;
  for (const entry of entries) {
    const size = entrySize(entry);
    if (current.length > 0 && (current.length === SQS_BATCH_MAX_ENTRIES || bytes + size > SQS_BATCH_MAX_BYTES)) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(entry);
    bytes += size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/** Errors after which no further send can succeed: stop instead of failing every message. */
function isFatal(error: unknown): boolean {
  const code = toOpsError(error).code;
  return code === 'QUEUE_NOT_FOUND' || code === 'ACCESS_DENIED' || code === 'NO_CREDENTIALS' || code === 'ENDPOINT_UNREACHABLE';
}

async function receiveSendDelete(input: RedriveInput, total: number, fallbackReason?: string): Promise<RedriveResult> {
  const { sqs, deadLetterQueueUrl, queueUrl } = input;
  const clock = input.clock ?? systemClock;
  const limiter = new RateLimiter(input.rate, clock);
  const fifo = isFifoQueueUrl(queueUrl);
  const dryRun = input.dryRun ?? false;
  const holdSeconds = input.holdSeconds ?? DEFAULT_HOLD_SECONDS;
  const startedAt = clock.now();

  let moved = 0;
  let deleteFailed = 0;
  const byType: Record<string, number> = {};
  const failures: RedriveFailure[] = [];
  /** Messages kept hidden until the end: skipped ones, failed ones, and everything in a dry run. */
  const held = new Map<string, Message>();
  const skippedIds = new Set<string>();
  const selected = input.messageIds === undefined ? undefined : new Set(input.messageIds);
  const lateIds = new Set<string>();
  const failedIds = new Set<string>();
  /** Sent to the source, delete failed: never sent again in this run. */
  const sentNotDeleted = new Map<string, Message>();
  let stoppedBecause: RedriveResult['stoppedBecause'] = 'empty';

  const progress = () =>
    input.onProgress?.({
      method: 'receive-send-delete',
      done: moved + failedIds.size + (filtered(input) ? skippedIds.size : 0),
      total,
      moved,
      skipped: skippedIds.size,
      failed: failedIds.size,
    });
  const fail = (m: Message, error: string) => {
    const id = m.MessageId ?? '?';
    failedIds.add(id);
    held.set(id, m);
    const view = describeDeadLetter(m);
    failures.push({ messageId: id, taskId: view.taskId, type: view.type, error });
  };

  let notReleased: string[] = [];
  try {
    for (;;) {
      if (input.signal?.aborted) {
        stoppedBecause = 'interrupted';
        break;
      }
      const attempted = moved + failedIds.size;
      const remaining = input.max === undefined ? Number.POSITIVE_INFINITY : input.max - attempted;
      if (remaining <= 0) {
        stoppedBecause = 'max';
        break;
      }
      if (!dryRun) await limiter.wait(moved);
      const batch = await receiveDeadLetters(sqs, deadLetterQueueUrl, {
        max: Math.min(limiter.batchSize(), remaining),
        holdSeconds,
        waitSeconds: input.waitSeconds ?? 1,
      });
      if (batch.length === 0) {
        stoppedBecause = 'empty';
        break;
      }

      const toSend: Message[] = [];
      const retryDelete: Message[] = [];
      for (const m of batch) {
        const id = m.MessageId ?? '?';
        if (sentNotDeleted.has(id)) {
          retryDelete.push(m);
        } else if (skippedIds.has(id) || failedIds.has(id) || lateIds.has(id)) {
          held.set(id, m); // seen again after its hold ran out: hold it again with the new receipt handle
        } else if (Number(m.Attributes?.SentTimestamp ?? 0) >= startedAt) {
          lateIds.add(id);
          held.set(id, m);
        } else if ((input.type !== undefined && taskTypeOf(m) !== input.type) || (selected !== undefined && !selected.has(id))) {
          skippedIds.add(id);
          held.set(id, m);
        } else if (dryRun) {
          moved += 1;
          const type = taskTypeOf(m) ?? '(unknown)';
          byType[type] = (byType[type] ?? 0) + 1;
          held.set(id, m);
        } else {
          toSend.push(m);
        }
      }

      if (toSend.length > 0) {
        const redrivenAt = new Date(clock.now()).toISOString();
        const entries: SendMessageBatchRequestEntry[] = toSend.map((m, n) => {
          const entry: SendMessageBatchRequestEntry = { Id: String(n), MessageBody: m.Body ?? '' };
          const attrs = redriveAttributes(m, redrivenAt);
          if (Object.keys(attrs).length > 0) entry.MessageAttributes = attrs;
          if (fifo) {
            entry.MessageGroupId = m.Attributes?.MessageGroupId ?? 'taskq-redrive';
            entry.MessageDeduplicationId = `taskq-redrive-${m.MessageId}`;
          }
          return entry;
        });
        // Held until sent, so a fatal error half-way releases the unsent ones too.
        for (const m of toSend) held.set(m.MessageId ?? '?', m);
        const sent: Message[] = [];
        for (const chunk of chunkEntries(entries)) {
          try {
            const result = await sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: chunk }));
            const failedEntries = new Map((result.Failed ?? []).map((f) => [f.Id, f]));
            for (const entry of chunk) {
              const m = toSend[Number(entry.Id)]!;
              const f = failedEntries.get(entry.Id);
              if (f) fail(m, `${f.Code ?? 'SendFailed'}: ${f.Message ?? ''}`.trim());
              else if ((result.Successful ?? []).some((s) => s.Id === entry.Id)) sent.push(m);
              else fail(m, 'SendMessageBatch reported neither success nor failure for this entry');
            }
          } catch (error) {
            for (const entry of chunk) fail(toSend[Number(entry.Id)]!, toOpsError(error).message);
            if (isFatal(error)) throw toOpsError(error, { resource: `queue ${queueUrl}` });
          }
        }
        for (const m of sent) {
          held.delete(m.MessageId ?? '?');
          const type = taskTypeOf(m) ?? '(unknown)';
          byType[type] = (byType[type] ?? 0) + 1;
          moved += 1;
        }
        // Delete only what the source queue accepted.
        deleteFailed += await deleteMessages(sqs, deadLetterQueueUrl, sent, sentNotDeleted);
      }
      if (retryDelete.length > 0) {
        const before = sentNotDeleted.size;
        await deleteMessages(sqs, deadLetterQueueUrl, retryDelete, sentNotDeleted, true);
        deleteFailed -= before - sentNotDeleted.size;
      }
      progress();
    }
  } finally {
    notReleased = await releaseMessages(sqs, deadLetterQueueUrl, [...held.values()]);
  }
  progress();
  return {
    method: 'receive-send-delete',
    dryRun,
    moved,
    skipped: skippedIds.size,
    arrivedDuringRun: lateIds.size,
    failed: failedIds.size,
    deleteFailed,
    byType,
    failures,
    stoppedBecause,
    ...(fallbackReason ? { fallbackReason } : {}),
    notReleased,
  };
}

/**
 * Deletes messages from the DLQ; returns how many new delete failures there were. Failed
 * ones are remembered in `pending` (so they are never sent twice); with `retry`, successes
 * are removed from it.
 */
async function deleteMessages(sqs: SQSClient, queueUrl: string, messages: Message[], pending: Map<string, Message>, retry = false): Promise<number> {
  let failures = 0;
  for (let i = 0; i < messages.length; i += SQS_BATCH_MAX_ENTRIES) {
    const chunk = messages.slice(i, i + SQS_BATCH_MAX_ENTRIES);
    let failedIds: Set<string>;
    try {
      const result = await sqs.send(
        new DeleteMessageBatchCommand({ QueueUrl: queueUrl, Entries: chunk.map((m, n) => ({ Id: String(n), ReceiptHandle: m.ReceiptHandle! })) }),
      );
      failedIds = new Set((result.Failed ?? []).map((f) => f.Id ?? ''));
    } catch {
      failedIds = new Set(chunk.map((_, n) => String(n)));
    }
    chunk.forEach((m, n) => {
      const id = m.MessageId ?? '?';
      if (failedIds.has(String(n))) {
        if (!pending.has(id)) failures += 1;
        pending.set(id, m);
      } else if (retry) {
        pending.delete(id);
      }
    });
  }
  return failures;
}
