/**
 * Publishes completion events with PutEvents: at most 10 entries per call (EventBridge's
 * limit), and the entries a call reports as failed (FailedEntryCount > 0: throttling, an
 * internal error) sent again with backoff, up to `maxAttempts` calls per entry. What still
 * failed is returned, not thrown: the stream handler turns it into a partial batch response.
 */
import { PutEventsCommand, type PutEventsRequestEntry, type PutEventsResultEntry } from '@aws-sdk/client-eventbridge';
import { COMPLETION_EVENT_TYPES, type TaskCompletionEventDetail } from '../protocol/completion-events.ts';

/** PutEvents takes at most 10 entries per call. */
export const PUT_EVENTS_MAX_ENTRIES = 10;

/** What this needs of an EventBridgeClient (tests pass a mocked one). */
export interface EventsSender {
  send(command: PutEventsCommand): Promise<{ FailedEntryCount?: number; Entries?: PutEventsResultEntry[] }>;
}

export interface PublishOptions {
  readonly eventBusName: string;
  readonly source: string;
  /** Calls per entry before it counts as failed. @default 5 */
  readonly maxAttempts?: number;
  /** First backoff, doubled after each failed call (with jitter). @default 100 */
  readonly baseDelayMs?: number;
  readonly sleep?: (ms: number) => Promise<void>;
}

export interface PublishFailure {
  readonly detail: TaskCompletionEventDetail;
  readonly errorCode: string;
  readonly errorMessage?: string;
}

export function toEntry(detail: TaskCompletionEventDetail, options: Pick<PublishOptions, 'eventBusName' | 'source'>): PutEventsRequestEntry {
  return {
    EventBusName: options.eventBusName,
    Source: options.source,
    DetailType: COMPLETION_EVENT_TYPES[detail.status],
    Detail: JSON.stringify(detail),
    ...(detail.finishedAt !== undefined ? { Time: new Date(detail.finishedAt) } : {}),
  };
}

export async function publishCompletionEvents(sender: EventsSender, details: readonly TaskCompletionEventDetail[], options: PublishOptions): Promise<PublishFailure[]> {
  const maxAttempts = options.maxAttempts ?? 5;
  const baseDelayMs = options.baseDelayMs ?? 100;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const failures: PublishFailure[] = [];
  for (let start = 0; start < details.length; start += PUT_EVENTS_MAX_ENTRIES) {
    let pending = details.slice(start, start + PUT_EVENTS_MAX_ENTRIES);
    let lastErrors = new Map<TaskCompletionEventDetail, { errorCode: string; errorMessage?: string }>();
    for (let attempt = 1; pending.length > 0 && attempt <= maxAttempts; attempt++) {
      if (attempt > 1) await sleep(baseDelayMs * 2 ** (attempt - 2) * (0.5 + Math.random() / 2));
      lastErrors = new Map();
      try {
        const out = await sender.send(new PutEventsCommand({ Entries: pending.map((d) => toEntry(d, options)) }));
        if (!out.FailedEntryCount) {
          pending = [];
          break;
        }
        // Result entries are in request order; a failed one has an ErrorCode.
        pending = pending.filter((detail, i) => {
          const entry = out.Entries?.[i];
          if (entry?.ErrorCode === undefined) return false;
          lastErrors.set(detail, { errorCode: entry.ErrorCode, ...(entry.ErrorMessage !== undefined ? { errorMessage: entry.ErrorMessage } : {}) });
          return true;
        });
      } catch (error) {
        // The whole call failed (after the SDK's own retries): every entry is tried again.
        for (const detail of pending) lastErrors.set(detail, { errorCode: (error as Error)?.name ?? 'Error', errorMessage: (error as Error)?.message ?? String(error) });
      }
    }
    for (const detail of pending) failures.push({ detail, ...(lastErrors.get(detail) ?? { errorCode: 'Unknown' }) });
  }
  return failures;
}
