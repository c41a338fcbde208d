/**
 * Chaos for schedules (issue 14.1): fast-check picks occurrences of two schedules (a cron in a
 * time zone and a rate), how many times Scheduler delivers each (a retried delivery after a lost
 * response: the same message again, at once or later), handlers that fail once and retry, two
 * consumer instances, and lost responses on the consumer's DynamoDB and SQS calls (applied,
 * then tried again by the SDK) and on the scheduler's own sends — and checks on fauxqs and
 * DynamoDB Local that each occurrence ran exactly once and ended SUCCEEDED under its key
 * `schedule:<name>:<scheduled time>`. Deliveries go through the local scheduler's `fire`, the
 * code local mode runs for each occurrence.
 *
 *   TASKQ_MODEL_RUNS > 6 (npm run test:chaos): 30 runs instead of 6.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { LocalScheduler } from '../../lib/local/local-scheduler.ts';
import type { LocalSchedule } from '../../lib/local/local-schedules.ts';
import { parseScheduleExpression } from '../../lib/protocol/schedule-expression.ts';
import { formatScheduledTime, scheduledTaskEnvelope, scheduledTaskId, SCHEDULED_TIME_PLACEHOLDER } from '../../lib/protocol/schedule.ts';
import { encodeEnvelope } from '../../lib/protocol/envelope.ts';
import type { TaskDefinitions } from '../../lib/runtime/index.ts';
import { createTestResources, testClients } from '../support/aws.ts';
import { injectWireFaults, seededFaults } from '../support/wire-faults.ts';
import { drain } from '../integration/runtime/group-helpers.ts';
import { consumer, taskRecord } from '../integration/runtime/helpers.ts';

const clients = testClients();
const RUNS = Number(process.env.TASKQ_MODEL_RUNS ?? 6) > 6 ? 30 : 6;
const LOST = { kind: 'lose-response' } as const;

describe('schedules under chaos: retried deliveries, retries, concurrent consumers, lost responses', { timeout: 600_000 }, () => {
  it('each occurrence runs exactly once and ends SUCCEEDED under its own key', async () => {
    const r = await createTestResources(clients, { visibilityTimeout: 1 });
    const queue = { logicalId: 'Queue', name: r.queueUrl.split('/').at(-1)!, url: r.queueUrl, arn: r.queueArn, fifo: false, attributes: {} };
    const schedule = (name: string, expression: string, timezone: string, type: string): LocalSchedule => ({
      logicalId: name,
      name,
      groupName: 'default',
      expression: parseScheduleExpression(expression),
      timezone,
      enabled: true,
      input: encodeEnvelope(scheduledTaskEnvelope({ scheduleName: name, type, payload: { at: SCHEDULED_TIME_PLACEHOLDER }, scheduledTime: SCHEDULED_TIME_PLACEHOLDER })),
      queue,
      retryAttempts: 3,
      maxEventAgeSeconds: 3600,
    });
    const schedules = [schedule('berlin-morning', 'cron(30 9 ? * * *)', 'Europe/Berlin', 'report'), schedule('tick', 'rate(1 minute)', 'UTC', 'tick')];
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          occurrences: fc.uniqueArray(fc.record({ schedule: fc.nat({ max: 1 }), minute: fc.nat({ max: 10_000 }), deliveries: fc.integer({ min: 1, max: 3 }), failsOnce: fc.boolean() }), {
            minLength: 1,
            maxLength: 8,
            selector: (o) => `${o.schedule}:${o.minute}`,
          }),
          faults: fc.array(fc.record({ seed: fc.integer(), percent: fc.integer({ min: 0, max: 30 }) }), { minLength: 2, maxLength: 2 }),
          schedulerFaults: fc.integer({ min: 0, max: 30 }),
        }),
        async ({ occurrences, faults, schedulerFaults }) => {
          run++;
          const effects = new Map<string, number>();
          const failed = new Set<string>();
          const failsOnce = new Set<string>();
          const handler = (payload: { at: string }, ctx: { taskId: string }) => {
            if (failsOnce.has(ctx.taskId) && !failed.has(ctx.taskId)) {
              failed.add(ctx.taskId);
              throw new Error('a flaky downstream');
            }
            effects.set(ctx.taskId, (effects.get(ctx.taskId) ?? 0) + 1);
            return { at: payload.at };
          };
          const tasks: TaskDefinitions = { report: { handler }, tick: { handler } };
          const handlers = faults.map((f) => {
            const own = testClients();
            injectWireFaults(own.dynamo, 'dynamodb', seededFaults(['UpdateItemCommand', 'BatchWriteItemCommand', 'BatchExecuteStatementCommand', 'PutItemCommand'], f.seed, f.percent, LOST));
            injectWireFaults(own.sqs, 'sqs', seededFaults(['ChangeMessageVisibilityBatchCommand', 'SendMessageCommand'], f.seed ^ 0x2545f491, f.percent, LOST));
            return consumer(r, own, tasks, { backoff: { baseSeconds: 1, capSeconds: 2, jitter: 'none' } }).handler;
          });
          // The scheduler's sends: a lost response is a delivery the scheduler makes again (a duplicate).
          const schedulerSqs = testClients().sqs;
          injectWireFaults(schedulerSqs, 'sqs', seededFaults(['SendMessageCommand'], run, schedulerFaults, LOST));
          const scheduler = new LocalScheduler({ sqs: schedulerSqs, schedules, statePath: `/tmp/taskq-chaos-schedules-${process.pid}/state.json` });
          const keys: string[] = [];
          const late: (() => Promise<unknown>)[] = [];
          for (const o of occurrences) {
            const s = schedules[o.schedule]!;
            // Distinct runs of the property use distinct days, so their keys never meet.
            const time = formatScheduledTime(new Date(Date.UTC(2026, 0, 1) + run * 86_400_000 * 10 + o.minute * 60_000));
            const key = scheduledTaskId(s.name, time);
            keys.push(key);
            if (o.failsOnce) failsOnce.add(key);
            await scheduler.fire(s, time);
            // Further deliveries: one now, the others after the consumers have started on the queue.
            if (o.deliveries > 1) await scheduler.fire(s, time);
            if (o.deliveries > 2) late.push(() => scheduler.fire(s, time));
          }
          await drain(r, handlers.slice(0, 1));
          for (const deliver of late) await deliver();
          await drain(r, handlers);
          for (const key of keys) {
            expect(effects.get(key), key).toBe(1);
            expect(await taskRecord(clients.dynamo, r.tableName, key), key).toMatchObject({ status: 'SUCCEEDED', taskId: key });
          }
        },
      ),
      { numRuns: RUNS },
    );
  });
});
