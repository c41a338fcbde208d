/**
 * Lanes under the IAM harness: a stack with lanes provisioned on the emulators (the routing
 * item written as the deployment writes it), and the producer and the lanes' consumers acting
 * as the synthesized roles of the harness's lanes variant (test/support/iam, LANES_VARIANT:
 * lanes `critical` and `bulk`, an event fanned out to a type of each). Every call below is
 * evaluated against that template's policies before it is sent, and a call the template would
 * refuse fails the test:
 *
 * - a producer with grantSend only reads the routing item (GetItem, its dynamodb:LeadingKeys the
 *   routing key) and sends to each type's lane queue, and publishes an event to the targets'
 *   lanes;
 * - the default lane's consumer forwards a task of the critical lane to that lane's queue;
 * - the critical lane's consumer — its event source receiving and deleting with the lane's
 *   role — forwards a task of the bulk lane to the bulk queue, runs its own type, and
 *   dead-letters a permanent failure to its own lane's DLQ.
 */
import type { Context, SQSEvent } from 'aws-lambda';
import { DeleteMessageCommand } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { TaskProducer } from '../../../lib/client/index.ts';
import type { ProvisionedSystem } from '../../../lib/local/provision.ts';
import { DEAD_LETTER_ATTRIBUTES } from '../../../lib/protocol/attributes.ts';
import { PermanentError } from '../../../lib/protocol/errors.ts';
import { DEFAULT_LANE } from '../../../lib/protocol/lanes.ts';
import { defineTasks, type TaskDefinitions } from '../../../lib/runtime/index.ts';
import { testClients, uniqueName } from '../../support/aws.ts';
import { actingAs, asPrincipal, type PrincipalName } from '../../support/iam/principals.ts';
import { registerResources } from '../../support/iam/resource-roles.ts';
import { LANES_VARIANT } from '../../support/iam/synthesized-policies.ts';
import { envelope, fakeContext, receive, sendTask, taskRecord, toRecord } from '../runtime/helpers.ts';
import { deployLanes, laneOf } from './lane-system.ts';

const clients = testClients();
const { lane: CRITICAL, otherLane: BULK } = LANES_VARIANT;

/** The lanes variant's lanes and fan-out, provisioned on the emulators; its resources registered by the roles they play. */
async function deployVariantLanes(): Promise<ProvisionedSystem> {
  const system = await deployLanes(uniqueName('LanesIam'), { lanes: LANES_VARIANT.props.lanes, fanOut: LANES_VARIANT.props.fanOut });
  const out = system.outputs;
  registerResources({
    queueUrl: out.QueueUrl!,
    deadLetterQueueUrl: out.DeadLetterQueueUrl!,
    tableName: out.TableName!,
    bucketName: out.BucketName!,
    lanes: { [CRITICAL]: laneOf(system, CRITICAL), [BULK]: laneOf(system, BULK) },
  });
  return system;
}

/**
 * A lane's consumer as deployed (configured from its function's environment, as Lambda does),
 * run as `principal` — and its event source mapping too, which receives and deletes with the
 * function's role. Returns one poll: the records it handled.
 */
function laneConsumerAs(system: ProvisionedSystem, name: string, principal: PrincipalName, tasks: TaskDefinitions) {
  const l = laneOf(system, name);
  const saved = { ...process.env };
  Object.assign(process.env, l.environment);
  let handler: ReturnType<typeof defineTasks>;
  try {
    handler = defineTasks(tasks, { clients, backoff: { baseSeconds: 1, capSeconds: 60, jitter: 'none' }, logger: { debug() {}, info() {}, warn() {}, error() {} }, metrics: { flush: () => {} } });
  } finally {
    process.env = saved;
  }
  return () =>
    asPrincipal(principal, async () => {
      const messages = await receive(clients.sqs, l.queueUrl, 10, 1);
      const event: SQSEvent = { Records: messages.map((m) => toRecord(m, l.queueArn)) };
      if (event.Records.length === 0) return 0;
      const response = await handler(event, fakeContext() as Context);
      const failed = new Set(response.batchItemFailures.map((f) => f.itemIdentifier));
      for (const record of event.Records) {
        if (!failed.has(record.messageId)) await clients.sqs.send(new DeleteMessageCommand({ QueueUrl: l.queueUrl, ReceiptHandle: record.receiptHandle }));
      }
      return event.Records.length;
    });
}

const typesIn = async (queueUrl: string, wait = 1) => (await receive(clients.sqs, queueUrl, 10, wait)).map((m) => (JSON.parse(m.Body!) as { type: string; idempotencyKey?: string }));

describe('lanes under the synthesized roles of the lanes variant', { timeout: 120_000 }, () => {
  it('the producer reads the routing item and sends each type, and each fanned-out target, to its lane’s queue', async () => {
    const system = await deployVariantLanes();
    // A producer granted grantSend only: the routing item is readable under grantSend's own (leading-key) grant.
    const producer = actingAs(
      'sender',
      new TaskProducer({ queueUrl: system.outputs.QueueUrl!, tableName: system.outputs.TableName!, routing: true, sqs: clients.sqs, dynamo: clients.dynamo }),
    );
    await producer.send('password_reset', { user: 'ada' });
    await producer.send('send_email', { to: 'ada@example.com' });
    const published = await producer.publish('order_placed', { order: 'o-1' }, { eventId: 'o-1' });
    expect(published.targets.map((t) => [t.type, t.ok])).toEqual([
      ['password_reset', true],
      ['analytics', true],
    ]);
    expect((await typesIn(laneOf(system, CRITICAL).queueUrl)).map((b) => b.type)).toEqual(['password_reset', 'password_reset']);
    expect((await typesIn(laneOf(system, BULK).queueUrl)).map((b) => [b.type, b.idempotencyKey])).toEqual([['analytics', 'o-1:analytics']]);
    expect((await typesIn(system.outputs.QueueUrl!)).map((b) => b.type)).toEqual(['send_email']);
  });

  it('a lane’s consumer forwards another lane’s task to that lane’s queue, runs its own, and dead-letters to its own lane’s DLQ', async () => {
    const system = await deployVariantLanes();
    const ran: string[] = [];
    const tasks: TaskDefinitions = {
      password_reset: {
        handler: async (payload: { fail?: boolean }, ctx) => {
          ran.push(`${ctx.idempotencyKey}`);
          if (payload.fail) throw new PermanentError('no such user');
        },
      },
      analytics: { handler: async () => void ran.push('analytics') },
    };

    // A producer whose routing cache predates the lanes sent password_reset to the default queue: the default
    // lane's consumer forwards it to the critical lane.
    const stale = envelope('password_reset', { user: 'ada' }, { idempotencyKey: 'reset-ada' });
    await sendTask(clients.sqs, system.outputs.QueueUrl!, stale);
    expect(await laneConsumerAs(system, DEFAULT_LANE, 'consumer', tasks)()).toBe(1);
    expect(ran).toEqual([]);

    // In the critical lane: the forwarded task, an analytics task that belongs to bulk, and one that fails for good.
    const misrouted = envelope('analytics', {}, { idempotencyKey: 'analytics-1' });
    const failing = envelope('password_reset', { fail: true }, { idempotencyKey: 'reset-nobody' });
    await sendTask(clients.sqs, laneOf(system, CRITICAL).queueUrl, misrouted);
    await sendTask(clients.sqs, laneOf(system, CRITICAL).queueUrl, failing);
    const critical = laneConsumerAs(system, CRITICAL, 'laneConsumer', tasks);
    let handled = 0;
    for (let i = 0; i < 5 && handled < 3; i++) handled += await critical();
    expect(handled).toBe(3);
    expect(ran.sort()).toEqual(['reset-ada', 'reset-nobody']);
    expect(await taskRecord(clients.dynamo, system.outputs.TableName!, 'reset-ada')).toMatchObject({ status: 'SUCCEEDED' });

    const forwarded = await receive(clients.sqs, laneOf(system, BULK).queueUrl, 10, 1);
    expect(forwarded.map((m) => JSON.parse(m.Body!).id)).toEqual([misrouted.id]);
    const dead = await receive(clients.sqs, laneOf(system, CRITICAL).deadLetterQueueUrl, 10, 1);
    expect(dead.map((m) => [JSON.parse(m.Body!).id, m.MessageAttributes?.[DEAD_LETTER_ATTRIBUTES.reason]?.StringValue])).toEqual([[failing.id, 'permanent-error']]);
    expect(await receive(clients.sqs, system.outputs.DeadLetterQueueUrl!, 10, 0)).toEqual([]);
  });
});
