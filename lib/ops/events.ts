/**
 * `taskq events`: the completion events the local system's event bus received (its state
 * file keeps the latest). A deployed stack's events are on EventBridge, which keeps none to
 * list: route them with a rule (docs/EVENTS.md) — the command says so instead of guessing.
 */
import type { RecordedEvent } from '../local/local-event-bus.ts';
import { localStatePath, readLocalState } from '../local/state.ts';
import type { TaskCompletionEventDetail } from '../protocol/completion-events.ts';
import { OpsError } from './errors.ts';

export interface ListEventsOptions {
  /** Only events of this task. */
  readonly taskId?: string;
  /** Only this detail type (TaskSucceeded, TaskDeadLettered, TaskCancelled). */
  readonly detailType?: string;
  /** The newest `limit` events. @default 20 */
  readonly limit?: number;
  /** @default localStatePath() */
  readonly statePath?: string;
}

export async function listLocalEvents(options: ListEventsOptions = {}): Promise<RecordedEvent[]> {
  const state = await readLocalState(options.statePath ?? localStatePath());
  if (!state) throw new OpsError('NO_LOCAL_SYSTEM', 'no local system running — start it with taskq local');
  const matching = (state.events ?? []).filter(
    (e) => (options.detailType === undefined || e.detailType === options.detailType) && (options.taskId === undefined || (e.detail as Partial<TaskCompletionEventDetail>).taskId === options.taskId),
  );
  return matching.slice(-(options.limit ?? 20));
}

export function notLocalEventsError(): OpsError {
  return new OpsError(
    'USAGE',
    'completion events of a deployed stack are on EventBridge, which keeps no list of them: route them to a queue, a log group or a webhook with a rule (docs/EVENTS.md). `taskq events --local` lists the local system\'s.',
  );
}

export function formatEvents(events: readonly RecordedEvent[]): string {
  if (events.length === 0) return 'No completion events yet (is completionEvents on in the construct?).';
  return events
    .map((e) => {
      const d = e.detail as Partial<TaskCompletionEventDetail>;
      const extra = [
        d.type,
        `attempts ${d.attempts ?? '?'}`,
        d.durationMs !== undefined ? `${d.durationMs} ms` : undefined,
        d.deadLetterReason,
        d.resultRef ? `result in s3://${d.resultRef.bucket}/${d.resultRef.key}` : d.result !== undefined ? `result ${JSON.stringify(d.result).slice(0, 60)}` : undefined,
      ].filter((x) => x !== undefined);
      return `${e.time}  ${e.detailType.padEnd(16)}  ${d.taskId ?? '?'}  ${extra.join(' · ')}`;
    })
    .join('\n');
}
