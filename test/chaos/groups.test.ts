/**
 * Chaos for groups (issue 14.4): fast-check picks a group (size, failing members), SQS
 * duplicates of members, a redrive of the dead-lettered ones, how many consumer instances take
 * turns, and wire faults on each instance's own clients — throttled or lost-response
 * TransactWriteItems (the count), BatchGetItem (the completion check), SendMessage (the callback
 * and every other send) — and checks on fauxqs and DynamoDB Local that every member is counted
 * exactly once in the first final state it reached, the group completes, and its callback runs
 * exactly once with the counts. A lost response means the write was applied and the SDK tried
 * again: the count's marker (or the transaction's client token) keeps it single, the callback's
 * idempotency key keeps a second send from running twice.
 *
 *   TASKQ_MODEL_RUNS > 6 (npm run test:chaos): 40 runs instead of 6.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { REDRIVE_ATTRIBUTES } from '../../lib/protocol/attributes.ts';
import { createTestResources, testClients } from '../support/aws.ts';
import { injectWireFaults, seededFaults, type WireFault } from '../support/wire-faults.ts';
import { drain, emptyDeadLetterQueue, producerFor, recordingTasks, typeAttribute } from '../integration/runtime/group-helpers.ts';
import { consumer, receive, sendRaw, sleep } from '../integration/runtime/helpers.ts';

const clients = testClients();
const RUNS = Number(process.env.TASKQ_MODEL_RUNS ?? 6) > 6 ? 40 : 6;

/** As the chaos suite's: backoff capped at 2 s, so that a run's faults delay it by seconds, not minutes. */
const CHAOS_RUNTIME = { backoff: { baseSeconds: 1, capSeconds: 2, jitter: 'none' } } as const;

const faultKind = fc.constantFrom<WireFault>(
  { kind: 'lose-response' },
  { kind: 'reset' },
  { kind: 'error', status: 400, code: 'ThrottlingException' },
  { kind: 'error', status: 500, code: 'InternalServerError' },
);

describe('groups under chaos: duplicates, redrives, concurrent consumers and wire faults', { timeout: 600_000 }, () => {
  it('every member counted once, the group completes, the callback runs once with the counts', async () => {
    const r = await createTestResources(clients, { visibilityTimeout: 1 });
    let faultsInjected = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          size: fc.integer({ min: 1, max: 6 }),
          failing: fc.array(fc.integer({ min: 0, max: 5 }), { maxLength: 3 }),
          duplicates: fc.array(fc.integer({ min: 0, max: 5 }), { maxLength: 4 }),
          redrive: fc.boolean(),
          consumers: fc.array(fc.record({ seed: fc.integer(), percent: fc.integer({ min: 0, max: 30 }), dynamoFault: faultKind, sqsFault: faultKind }), { minLength: 1, maxLength: 3 }),
        }),
        async ({ size, failing, duplicates, redrive, consumers }) => {
          const fail = new Set(failing.filter((n) => n < size));
          const { tasks, runs, callbacks } = recordingTasks(fail);
          const handlers = consumers.map((c) => {
            const own = testClients();
            const logs = [
              injectWireFaults(own.dynamo, 'dynamodb', seededFaults(['TransactWriteItemsCommand', 'BatchGetItemCommand'], c.seed, c.percent, c.dynamoFault)),
              injectWireFaults(own.sqs, 'sqs', seededFaults(['SendMessageCommand'], c.seed ^ 0x5bd1e995, c.percent, c.sqsFault)),
            ];
            const { handler } = consumer(r, own, tasks, CHAOS_RUNTIME);
            return Object.assign(async (...args: Parameters<typeof handler>) => {
              try {
                return await handler(...args);
              } finally {
                faultsInjected += logs.reduce((n, log) => n + log.splice(0).length, 0);
              }
            });
          });
          // A fault-free instance runs last, so that every property run ends (faults only delay).
          handlers.push(consumer(r, clients, tasks, CHAOS_RUNTIME).handler);
          const producer = producerFor(r);
          const sent = await producer.sendGroup(Array.from({ length: size }, (_, n) => ({ type: 'member', payload: { n } })), { onComplete: { type: 'report', payload: {} } });
          const messages = await receive(clients.sqs, r.queueUrl, 10, 1);
          for (const n of duplicates.filter((d) => d < size)) {
            const m = messages.find((x) => (JSON.parse(x.Body!) as { payload: { n: number } }).payload.n === n);
            if (m) await sendRaw(clients.sqs, r.queueUrl, m.Body!, typeAttribute('member'));
          }
          await sleep(1100);
          await drain(r, handlers);
          if (redrive) {
            fail.clear();
            for (const dead of await receive(clients.sqs, r.deadLetterQueueUrl, 10, 0)) {
              await sendRaw(clients.sqs, r.queueUrl, dead.Body!, { ...typeAttribute('member'), [REDRIVE_ATTRIBUTES.redrivenAt]: { DataType: 'String', StringValue: new Date().toISOString() } });
            }
            await drain(r, handlers);
          }
          await emptyDeadLetterQueue(r);
          // A member is counted in the first final state it reaches: a dead-lettered one stays so when its redrive succeeds.
          const failed = new Set(failing.filter((n) => n < size)).size;
          const expected = { groupId: sent.groupId, total: size, succeeded: size - failed, deadLettered: failed, cancelled: 0 };
          expect(await producer.getGroupStatus(sent.groupId, { consistentRead: true })).toMatchObject({ status: 'COMPLETE', ...expected, pending: 0, callbackSentAt: expect.any(String) });
          expect(callbacks.map((c) => c.result)).toEqual([expected]);
          for (let n = 0; n < size; n++) expect(runs.get(n) ?? 0).toBeGreaterThanOrEqual(1);
        },
      ),
      { numRuns: RUNS },
    );
    // The faults happened (a run with none would prove nothing about them).
    expect(faultsInjected).toBeGreaterThan(0);
  });
});
