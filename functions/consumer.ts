/**
 * The deployed consumer (minimal first version): parses each SQS record, dispatches it by
 * task type to a registered handler, and reports the records that failed through
 * batchItemFailures — only ever messageIds of this batch. Replaced by the runtime's
 * defineTasks() (idempotency, claim check, backoff, DLQ reasons).
 */
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { tasks } from './tasks/index.ts';

export async function handler(event: SQSEvent): Promise<SQSBatchResponse> {
  const results = await Promise.allSettled(event.Records.map((record) => processRecord(record)));
  return {
    batchItemFailures: results.flatMap((result, index) =>
      result.status === 'rejected' ? [{ itemIdentifier: event.Records[index]!.messageId }] : [],
    ),
  };
}

async function processRecord(record: SQSRecord): Promise<void> {
  const envelope = JSON.parse(record.body) as { type?: unknown; payload?: unknown };
  const handle = typeof envelope.type === 'string' ? tasks[envelope.type] : undefined;
  if (!handle) throw new Error(`no handler for task type ${String(envelope.type)}`);
  await handle(envelope.payload);
}
