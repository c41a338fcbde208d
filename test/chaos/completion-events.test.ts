/**
 * Chaos for completion events (issue 14.3): fast-check picks tasks that succeed, fail for good
 * or are cancelled before they run, SQS duplicates of them, a redrive of the dead-lettered ones
 * (which then succeed), and wire faults on the stream function's EventBridge client (lost
 * responses, resets: the SDK sends PutEvents again; storms of lost responses that outlast the
 * SDK's retries, so the mapping runs the stream batch again after its events were put) and
 * partial failures (the bus refuses single entries of a call and puts the others; at 75 % an
 * entry fails all of the handler's tries and the mapping runs the batch again) — then checks, from DynamoDB Local's real
 * stream through the real stream handler to the local event bus, that each task's final
 * transitions each produced an event (at least once; duplicates share the event id), nothing
 * else did (no event for a duplicate's acknowledgement or a leftover copy), and no event carries
 * the payload.
 *
 *   TASKQ_MODEL_RUNS > 6 (npm run test:chaos): 30 runs instead of 6.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DescribeTableCommand, UpdateTableCommand } from '@aws-sdk/client-dynamodb';
import { DeleteMessageCommand } from '@aws-sdk/client-sqs';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { TaskProducer } from '../../lib/client/index.ts';
import { createStreamHandler } from '../../lib/events/stream-handler.ts';
import { LOCAL_CREDENTIALS } from '../../lib/local/emulators.ts';
import { LocalEventBus } from '../../lib/local/local-event-bus.ts';
import { StreamPoller, type LambdaStreamHandler } from '../../lib/local/stream-poller.ts';
import { MESSAGE_ATTRIBUTES, REDRIVE_ATTRIBUTES } from '../../lib/protocol/attributes.ts';
import type { TaskCompletionEventDetail } from '../../lib/protocol/completion-events.ts';
import { PermanentError } from '../../lib/protocol/errors.ts';
import type { TaskDefinitions } from '../../lib/runtime/index.ts';
import { createTestResources, emulatorEndpoints, testClients, type TestResources } from '../support/aws.ts';
import { actingAs, asTestHarness } from '../support/iam/principals.ts';
import { injectWireFaults, seededFaults, type FaultRule, type InjectedFault, type WireFault } from '../support/wire-faults.ts';
import { consumer, fakeContext, invokeLikeLambda, receive, receiveEvent, sendRaw, sleep } from '../integration/runtime/helpers.ts';

const clients = testClients();
const RUNS = Number(process.env.TASKQ_MODEL_RUNS ?? 6) > 6 ? 30 : 6;
const SECRET = 'payload-never-in-events';

let r: TestResources;
let bus: LocalEventBus;
let streams: DynamoDBStreamsClient;
let poller: StreamPoller;
/** The EventBridge client's fault: replaced by each property run. */
let putEventsFault: { storm: number } = { storm: 0 };
let faultsInjected = 0;
let faultLog: InjectedFault[] = [];
let putEventsRule: FaultRule = () => undefined;
/** The bus's per-entry refusals (a partial PutEvents failure): replaced by each property run. */
let entryFault: () => boolean = () => false;
let entriesRefused = 0;

beforeAll(async () => {
  const e = emulatorEndpoints();
  r = await createTestResources(clients, { visibilityTimeout: 1 });
  await asTestHarness(() => clients.dynamo.send(new UpdateTableCommand({ TableName: r.tableName, StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' } })));
  const table = await asTestHarness(() => clients.dynamo.send(new DescribeTableCommand({ TableName: r.tableName })));
  // Partial failures: the bus refuses single entries of a call (FailedEntryCount > 0) and puts the others.
  bus = new LocalEventBus({
    entryFault: () => {
      if (!entryFault()) return undefined;
      entriesRefused++;
      return { errorCode: 'ThrottlingException', errorMessage: 'chaos: rate exceeded for this entry' };
    },
  });
  await bus.start();
  const eventBridge = new EventBridgeClient({ region: e.region, credentials: LOCAL_CREDENTIALS, endpoint: bus.endpoint });
  // Only connection faults (no error bodies): the SDK sends PutEvents again, as after a real lost response.
  faultLog = injectWireFaults(eventBridge, 'sqs', (commandName, input) => {
    if (commandName !== 'PutEventsCommand') return undefined;
    // A storm: the first 16 PutEvents tries of the run lose their responses (the SDK tries 3 times, the
    // handler 5: 15), so the handler fails after its events were put and the mapping runs the batch again.
    if (putEventsFault.storm > 0) {
      putEventsFault.storm--;
      return { kind: 'lose-response' };
    }
    return putEventsRule(commandName, input);
  });
  streams = new DynamoDBStreamsClient({ region: e.region, credentials: LOCAL_CREDENTIALS, endpoint: e.dynamoEndpoint });
  const handler = createStreamHandler({ eventBusName: 'default', source: 'taskq', sender: () => eventBridge, log: () => {} }) as unknown as LambdaStreamHandler;
  // One mapping for the whole property: each drain goes on from where the last one stopped.
  poller = new StreamPoller({ streams, streamArn: table.Table!.LatestStreamArn!, handler, functionArn: 'arn:aws:lambda:us-east-1:000000000000:function:events' });
});

afterAll(async () => {
  streams?.destroy();
  await bus?.stop();
});

const typeAttribute = (type: string) => ({ [MESSAGE_ATTRIBUTES.taskType]: { DataType: 'String', StringValue: type } });

/** Runs the queue dry (several consumers taking turns, a 5-s function), until nothing is in flight. */
async function drain(handlers: ReturnType<typeof consumer>['handler'][]): Promise<void> {
  let empty = 0;
  for (let round = 0; round < 300 && empty < 3; round++) {
    const event = await receiveEvent(clients.sqs, r, 10, 1);
    if (event.Records.length === 0) {
      empty++;
      continue;
    }
    empty = 0;
    await invokeLikeLambda(clients.sqs, r.queueUrl, handlers[round % handlers.length]!, event, fakeContext(5000));
  }
}

describe('completion events under chaos: duplicates, redrives, cancels and lost PutEvents responses', { timeout: 600_000 }, () => {
  it('each final transition is published (at least once, one event id), nothing else is, never the payload', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          outcomes: fc.array(fc.constantFrom('ok', 'fail', 'cancel'), { minLength: 1, maxLength: 6 }),
          duplicates: fc.array(fc.nat({ max: 5 }), { maxLength: 4 }),
          redrive: fc.boolean(),
          fault: fc.record({ seed: fc.integer(), percent: fc.integer({ min: 0, max: 50 }), fault: fc.constantFrom<WireFault>({ kind: 'lose-response' }, { kind: 'reset' }), storm: fc.constantFrom(0, 0, 16) }),
          // Entries refused one by one (at 75 %, about one entry in four fails all five tries: the mapping runs its batch again).
          entryRefusals: fc.record({ seed: fc.integer(), percent: fc.constantFrom(0, 20, 50, 75) }),
        }),
        async ({ outcomes, duplicates, redrive, fault, entryRefusals }) => {
          putEventsFault = fault;
          putEventsRule = seededFaults(['PutEventsCommand'], fault.seed, fault.percent, fault.fault);
          const refuse = seededFaults(['entry'], entryRefusals.seed, entryRefusals.percent, { kind: 'reset' });
          entryFault = () => refuse('entry', undefined) !== undefined;
          const failing = new Set<number>();
          outcomes.forEach((o, i) => o === 'fail' && failing.add(i));
          const tasks: TaskDefinitions = {
            job: {
              handler: (p: { i: number }) => {
                if (failing.has(p.i)) throw new PermanentError(`job ${p.i} refuses`);
                return { i: p.i };
              },
            },
          };
          const handlers = [consumer(r, clients, tasks).handler, consumer(r, clients, tasks).handler];
          const producer = actingAs('producer', new TaskProducer({ queueUrl: r.queueUrl, sqs: clients.sqs, dynamo: clients.dynamo, tableName: r.tableName }));
          const sent = await producer.sendBatch(outcomes.map((_, i) => ({ type: 'job', payload: { i, secret: SECRET } })));
          const ids = sent.map((s) => (s.ok ? s.taskId : ''));
          for (const [i, o] of outcomes.entries()) if (o === 'cancel') await producer.cancel(ids[i]!);
          const messages = await receive(clients.sqs, r.queueUrl, 10, 1);
          for (const d of duplicates.filter((x) => x < outcomes.length)) {
            const m = messages.find((x) => (JSON.parse(x.Body!) as { id: string }).id === ids[d]);
            if (m) await sendRaw(clients.sqs, r.queueUrl, m.Body!, typeAttribute('job'));
          }
          await sleep(1100);
          await drain(handlers);
          const dead = await receive(clients.sqs, r.deadLetterQueueUrl, 10, 1);
          for (const m of dead) await clients.sqs.send(new DeleteMessageCommand({ QueueUrl: r.deadLetterQueueUrl, ReceiptHandle: m.ReceiptHandle! }));
          if (redrive) {
            failing.clear();
            for (const m of dead) {
              await sendRaw(clients.sqs, r.queueUrl, m.Body!, { ...typeAttribute('job'), [REDRIVE_ATTRIBUTES.redrivenAt]: { DataType: 'String', StringValue: new Date().toISOString() } });
            }
            await drain(handlers);
          }
          await poller.drain();
          faultsInjected += faultLog.splice(0).length;

          const mine = bus.events.filter((e) => ids.includes((e.detail as TaskCompletionEventDetail).taskId));
          expect(JSON.stringify(mine)).not.toContain(SECRET);
          for (const [i, o] of outcomes.entries()) {
            const events = mine.filter((e) => (e.detail as TaskCompletionEventDetail).taskId === ids[i]);
            const types = [...new Set(events.map((e) => e.detailType))].sort();
            const distinctIds = new Set(events.map((e) => (e.detail as TaskCompletionEventDetail).eventId));
            // A dead-lettered task that a redrive then runs to success: both of its final states, each once.
            const expected = o === 'ok' ? ['TaskSucceeded'] : o === 'cancel' ? ['TaskCancelled'] : redrive ? ['TaskDeadLettered', 'TaskSucceeded'] : ['TaskDeadLettered'];
            expect(types, `task ${i} (${o})`).toEqual(expected);
            expect(distinctIds.size, `task ${i} (${o})`).toBe(expected.length);
          }
          producer.destroy();
        },
      ),
      { numRuns: RUNS },
    );
    expect(faultsInjected).toBeGreaterThan(0);
    expect(entriesRefused).toBeGreaterThan(0);
  });
});
