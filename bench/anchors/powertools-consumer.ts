/**
 * Anchor (c): the consumer a team would write with Powertools for AWS Lambda instead of this
 * project — BatchProcessor + processPartialResponse (EventType.SQS) with each record made
 * idempotent by makeIdempotent and a DynamoDBPersistenceLayer, configured as the Powertools
 * docs show ("Batch integration" in the idempotency docs, examples/snippets/idempotency/
 * workingWithBatch.ts), with one change the docs call for when duplicates come from the
 * producer: the idempotency key is the task id in the message body
 * (`eventKeyJmesPath: 'powertools_json(body).id'`), not the SQS messageId (a re-sent or
 * redriven copy gets a new messageId). Table: partition key `id`, TTL `expiration` (the
 * docs' table). Everything else is left at the Powertools defaults.
 *
 * Bundled on its own for the cold-start comparison (the exported `handler`, configured from
 * the environment like a deployed function), and built per Lambda instance with injected
 * clients for the in-process pipeline runs (`createPowertoolsConsumer`).
 */
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';

export type PowertoolsTask = (payload: unknown, record: SQSRecord) => unknown;

export interface PowertoolsConsumerOptions {
  readonly tableName: string;
  /** Injected client (bench); by default the persistence layer creates its own. */
  readonly dynamo?: DynamoDBClient;
  readonly tasks: Record<string, PowertoolsTask>;
}

export function createPowertoolsConsumer(options: PowertoolsConsumerOptions): (event: SQSEvent, context: Context) => Promise<SQSBatchResponse> {
  const processor = new BatchProcessor(EventType.SQS);
  const persistenceStore = new DynamoDBPersistenceLayer({
    tableName: options.tableName,
    ...(options.dynamo ? { awsSdkV3Client: options.dynamo } : {}),
  });
  const idempotencyConfig = new IdempotencyConfig({ eventKeyJmesPath: 'powertools_json(body).id' });

  const recordHandler = async (record: SQSRecord): Promise<unknown> => {
    const envelope = JSON.parse(record.body) as { type?: string; payload?: unknown };
    const task = envelope.type !== undefined ? options.tasks[envelope.type] : undefined;
    if (!task) throw new Error(`no handler for task type ${String(envelope.type)}`);
    return task(envelope.payload, record);
  };
  const processIdempotently = makeIdempotent(recordHandler, { persistenceStore, config: idempotencyConfig });

  return async (event, context) => {
    idempotencyConfig.registerLambdaContext(context);
    return processPartialResponse(event, processIdempotently, processor, { context });
  };
}

/** The deployed form: the same task as functions/tasks (log_event), table from the environment. */
export const handler = createPowertoolsConsumer({
  tableName: process.env.IDEMPOTENCY_TABLE_NAME ?? 'idempotency',
  tasks: {
    log_event: async (payload) => {
      console.log(JSON.stringify({ message: 'event', size: JSON.stringify(payload).length }));
    },
  },
});
