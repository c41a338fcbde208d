/**
 * Local mode runs every lane: one poller per event source mapping of the template, each
 * lane's consumer initialized from its own function's environment (its lane, its queue), and
 * the routing item written from the template — so a producer with `routing: true` reaches
 * every lane, and each task runs in its lane's consumer. Each lane's queues and function are
 * observed, so its alarms are evaluated locally like the default lane's.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { Duration } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { afterAll, describe, expect, it } from 'vitest';
import { TaskProducer } from '../../../lib/client/index.ts';
import { TaskQueue } from '../../../lib/infra/task-queue.ts';
import { startLocalSystem, type LocalSystem } from '../../../lib/local/system.ts';
import type { CfnTemplate } from '../../../lib/local/template.ts';
import { uniqueName } from '../../support/aws.ts';
import { testStack } from '../../infra/helpers.ts';
import type { LaneRun } from '../../fixtures/lanes-consumer.ts';

let system: LocalSystem | undefined;
let dir: string | undefined;

afterAll(async () => {
  await system?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('local system with lanes', () => {
  it('polls every lane with its own settings and runs each type in its lane', { timeout: 180_000 }, async () => {
    const stackName = uniqueName('Lanes').replace(/-/g, '');
    const stack = testStack({}, stackName);
    new TaskQueue(stack, 'Tasks', {
      lanes: {
        critical: { types: ['password_reset'], reservedConcurrency: 3 },
        bulk: { types: ['analytics'], maxConcurrency: 2, batchSize: 50, maxBatchingWindow: Duration.seconds(1) },
      },
    });
    const template = Template.fromStack(stack).toJSON() as CfnTemplate;
    dir = await mkdtemp(join(tmpdir(), 'taskq-lanes-'));
    system = await startLocalSystem({
      template,
      stackName,
      sqsPort: 0,
      dynamoPort: 0,
      dynamo: 'dynalite',
      statePath: join(dir, 'state.json'),
      consumerModule: fileURLToPath(new URL('../../fixtures/lanes-consumer.ts', import.meta.url)),
    });
    expect(system.provisioned.mappings).toHaveLength(3);
    const byLane = Object.fromEntries(system.lanePollers.map((l) => [l.mapping.function.environment.TASKQ_LANE, l.mapping]));
    expect(Object.keys(byLane).sort()).toEqual(['bulk', 'critical']);
    expect(byLane.bulk).toMatchObject({ batchSize: 50, maximumBatchingWindowInSeconds: 1, maximumConcurrency: 2 });
    expect(byLane.critical!.function.reservedConcurrency).toBe(3);

    // A producer of the local system: routing read from the local task table.
    const c = system.connection;
    const dynamoProducer = new TaskProducer({ queueUrl: c.queueUrl, tableName: c.tableName!, routing: true, sqs: system.clients.sqs, dynamo: system.clients.dynamo });
    const sent = await Promise.all([
      dynamoProducer.send('password_reset', {}),
      dynamoProducer.send('analytics', {}),
      dynamoProducer.send('send_email', {}),
    ]);
    const runs = ((globalThis as { __taskqLaneRuns?: LaneRun[] }).__taskqLaneRuns ??= []);
    const deadline = Date.now() + 60_000;
    while (runs.length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    const laneOf = (taskId: string) => runs.find((r) => r.taskId === taskId)?.lane;
    expect(laneOf(sent[0].taskId)).toBe('critical');
    expect(laneOf(sent[1].taskId)).toBe('bulk');
    expect(laneOf(sent[2].taskId)).toBe('default');
    expect(runs).toHaveLength(3);

    // A dead letter in the bulk lane's DLQ raises that lane's alarm, and only that one.
    const alarm = (name: string) => system!.snapshot().alarms.find((a) => a.name.endsWith(name));
    expect(alarm('-bulk-DeadLetterQueueNotEmpty')?.state).not.toBe('ALARM');
    const bulkDeadLetters = JSON.parse(byLane.bulk!.queue.attributes.RedrivePolicy!) as { deadLetterTargetArn: string };
    const bulkDlq = system.provisioned.queues.find((q) => q.arn === bulkDeadLetters.deadLetterTargetArn)!;
    await system.clients.sqs.send(new SendMessageCommand({ QueueUrl: bulkDlq.url, MessageBody: '{}' }));
    const alarmDeadline = Date.now() + 30_000;
    while (alarm('-bulk-DeadLetterQueueNotEmpty')?.state !== 'ALARM' && Date.now() < alarmDeadline) await new Promise((r) => setTimeout(r, 250));
    expect(alarm('-bulk-DeadLetterQueueNotEmpty')?.state).toBe('ALARM');
    expect(alarm('-critical-DeadLetterQueueNotEmpty')?.state).not.toBe('ALARM');
    expect(system.snapshot().alarms.filter((a) => a.name.endsWith('-DeadLetterQueueNotEmpty') && a.state === 'ALARM').map((a) => a.name)).toEqual([alarm('-bulk-DeadLetterQueueNotEmpty')!.name]);
    // The lane's function is observed: its invocations are in the store the alarms read.
    const invocations = system.metrics.store.values({ namespace: 'AWS/Lambda', metricName: 'Invocations', dimensions: { FunctionName: byLane.bulk!.function.name } }, 0, Date.now() + 1);
    expect(invocations.length).toBeGreaterThan(0);
  });
});
