/**
 * The completion-events function's logic, apart from its Lambda entry (./handler.ts): a batch
 * of task-table stream records → one event per completion → PutEvents. When some events could
 * not be published, it answers with a partial batch response naming the first record whose
 * event failed: Lambda retries the batch from that record (the events before it are out, and
 * those after it are published again — at least once, deduplicated by detail.eventId). After
 * the mapping's retries the batch's description goes to the on-failure queue.
 */
import type { TaskCompletionEventDetail } from '../protocol/completion-events.ts';
import { completionOf, type TaskStreamRecord } from './completion-of.ts';
import { publishCompletionEvents, type EventsSender, type PublishOptions } from './publish-events.ts';

export interface StreamBatchResponse {
  readonly batchItemFailures: { readonly itemIdentifier: string }[];
}

export interface StreamHandlerOptions extends PublishOptions {
  /** The EventBridge client, created on the first batch that has an event. */
  readonly sender: () => EventsSender | Promise<EventsSender>;
  readonly log?: (line: Record<string, unknown>) => void;
}

export function createStreamHandler(options: StreamHandlerOptions): (event: { readonly Records?: readonly TaskStreamRecord[] }) => Promise<StreamBatchResponse> {
  const log = options.log ?? ((line) => console.log(JSON.stringify(line)));
  let sender: Promise<EventsSender> | undefined;
  return async (event) => {
    const records = event.Records ?? [];
    const completions = records.map((record) => ({ record, detail: completionOf(record) }));
    const details = completions.flatMap((c) => (c.detail ? [c.detail] : []));
    if (details.length === 0) return { batchItemFailures: [] };
    sender ??= Promise.resolve(options.sender());
    const failures = await publishCompletionEvents(await sender, details, options);
    if (failures.length === 0) {
      log({ level: 'INFO', message: 'completion events published', records: records.length, events: details.length });
      return { batchItemFailures: [] };
    }
    const failed = new Set<TaskCompletionEventDetail>(failures.map((f) => f.detail));
    const first = completions.find((c) => c.detail !== undefined && failed.has(c.detail));
    log({
      level: 'ERROR',
      message: 'completion events not published; the batch is retried from the first failed record',
      failed: failures.map((f) => ({ eventId: f.detail.eventId, errorCode: f.errorCode, errorMessage: f.errorMessage })),
      published: details.length - failures.length,
    });
    const sequenceNumber = first?.record.dynamodb?.SequenceNumber;
    // Without a sequence number Lambda cannot resume mid-batch: fail the whole batch.
    if (sequenceNumber === undefined) throw new Error(`${failures.length} completion events could not be published`);
    return { batchItemFailures: [{ itemIdentifier: sequenceNumber }] };
  };
}
