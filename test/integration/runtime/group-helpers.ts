/**
 * Helpers of the group tests (runtime/groups.test.ts, chaos/groups.test.ts): a producer acting
 * as the producer role, consumers taking turns until the queue is dry, recording handlers.
 */
import type { Context, SQSEvent } from 'aws-lambda';
import { DeleteMessageCommand, GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { TaskProducer } from '../../../lib/client/index.ts';
import { MESSAGE_ATTRIBUTES } from '../../../lib/protocol/attributes.ts';
import { PermanentError } from '../../../lib/protocol/errors.ts';
import type { GroupResult } from '../../../lib/protocol/group.ts';
import type { TaskDefinitions } from '../../../lib/runtime/index.ts';
import { testClients, type TestResources } from '../../support/aws.ts';
import { actingAs } from '../../support/iam/principals.ts';
import { fakeContext, invokeLikeLambda, receive, receiveEvent } from './helpers.ts';

const clients = testClients();

export function producerFor(r: TestResources, extra: Partial<ConstructorParameters<typeof TaskProducer>[0]> = {}): TaskProducer {
  return actingAs('producer', new TaskProducer({ queueUrl: r.queueUrl, sqs: clients.sqs, s3: clients.s3, dynamo: clients.dynamo, bucketName: r.bucketName, tableName: r.tableName, ...extra }));
}

export const typeAttribute = (type: string) => ({ [MESSAGE_ATTRIBUTES.taskType]: { DataType: 'String', StringValue: type } });

export type Handler = (event: SQSEvent, context: Context) => Promise<{ batchItemFailures: { itemIdentifier: string }[] }>;

/**
 * Runs the queue dry with the given consumers taking turns, each batch in its own invocation of
 * a function with `remainingMs` left (a 5-s function by default, as the chaos suite's: a copy
 * waiting for another's lease waits seconds), until the queue holds nothing — in flight and
 * delayed included, so a message that went back (a retry, a count to try again) is waited for.
 */
export async function drain(r: TestResources, handlers: Handler[], remainingMs = 5000): Promise<void> {
  for (let round = 0; round < 400; round++) {
    const event = await receiveEvent(clients.sqs, r, 10, 1);
    if (event.Records.length > 0) {
      await invokeLikeLambda(clients.sqs, r.queueUrl, handlers[round % handlers.length]!, event, fakeContext(remainingMs));
      continue;
    }
    const { Attributes: a = {} } = await clients.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: r.queueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed'] }),
    );
    if (Number(a.ApproximateNumberOfMessages) + Number(a.ApproximateNumberOfMessagesNotVisible) + Number(a.ApproximateNumberOfMessagesDelayed) === 0) return;
  }
  throw new Error('the queue did not drain');
}

export async function emptyDeadLetterQueue(r: TestResources): Promise<void> {
  for (const m of await receive(clients.sqs, r.deadLetterQueueUrl, 10, 0)) await clients.sqs.send(new DeleteMessageCommand({ QueueUrl: r.deadLetterQueueUrl, ReceiptHandle: m.ReceiptHandle! }));
}

/** Member handlers and a callback handler that records what each run saw. */
export function recordingTasks(fail: Set<number> = new Set()) {
  const runs = new Map<number, number>();
  const callbacks: { payload: unknown; result: GroupResult | undefined; groupId: string | undefined }[] = [];
  const memberGroups = new Set<string | undefined>();
  const tasks: TaskDefinitions = {
    member: {
      handler: (payload: { n: number }, ctx) => {
        runs.set(payload.n, (runs.get(payload.n) ?? 0) + 1);
        memberGroups.add(ctx.groupId);
        if (fail.has(payload.n)) throw new PermanentError(`member ${payload.n} refuses`);
        return { n: payload.n };
      },
    },
    report: { handler: (payload, ctx) => void callbacks.push({ payload, result: ctx.groupResult, groupId: ctx.groupId }) },
  };
  return { tasks, runs, callbacks, memberGroups };
}
