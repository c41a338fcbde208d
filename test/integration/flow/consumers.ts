/**
 * Several consumers draining one queue at once, as Lambda's pollers would: each loops
 * receive → handler → delete (what the response did not name as a failure), until the
 * queue has stayed empty for a while or the time is up.
 */
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { Context, SQSEvent } from 'aws-lambda';
import type { TestResources } from '../../support/aws.ts';
import { fakeContext, invokeLikeLambda, receiveEvent } from '../runtime/helpers.ts';

type Handler = (event: SQSEvent, context: Context) => Promise<{ batchItemFailures: { itemIdentifier: string }[] }>;

export interface DrainOptions {
  /** Stop when every consumer has received nothing this long. @default 3000 */
  readonly quietMs?: number;
  /** Stop regardless after this long. @default 60000 */
  readonly maxMs?: number;
  /** Records per receive. @default 10 */
  readonly batchSize?: number;
  /** Stop early when this returns true. */
  readonly done?: () => boolean;
  /** Each invocation's remaining time. @default 30000 */
  readonly invocationMs?: number;
}

export async function drain(sqs: SQSClient, r: TestResources, handlers: readonly Handler[], options: DrainOptions = {}): Promise<void> {
  const quietMs = options.quietMs ?? 3000;
  const stopAt = Date.now() + (options.maxMs ?? 60_000);
  let lastWork = Date.now();
  await Promise.all(
    handlers.map(async (handler) => {
      while (Date.now() < stopAt && !options.done?.() && Date.now() - lastWork < quietMs) {
        const event = await receiveEvent(sqs, r, options.batchSize ?? 10, 1);
        if (event.Records.length === 0) continue;
        lastWork = Date.now();
        await invokeLikeLambda(sqs, r.queueUrl, handler, event, fakeContext(options.invocationMs ?? 30_000));
        lastWork = Date.now();
      }
    }),
  );
}
