/**
 * Completion events in the local system, reproduced from the synthesized template: the task
 * table is created with its stream on DynamoDB Local, the template's stream mapping runs the
 * completion-events function (its source here; the bundle under `taskq local`) with the
 * mapping's settings, and its real EventBridge client puts the events on the local event bus;
 * the state file keeps them for `taskq events --local`.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TaskProducer } from '../../../lib/client/index.ts';
import { TaskQueueStack } from '../../../lib/infra/task-queue-stack.ts';
import { readLocalState } from '../../../lib/local/state.ts';
import { startLocalSystem, type LocalSystem } from '../../../lib/local/system.ts';
import type { CfnTemplate } from '../../../lib/local/template.ts';
import type { TaskCompletionEventDetail } from '../../../lib/protocol/completion-events.ts';
import { testApp } from '../../infra/helpers.ts';
import { uniqueName } from '../../support/aws.ts';
import { until } from '../../support/until.ts';

const execFileAsync = promisify(execFile);
const BIN = fileURLToPath(new URL('../../../bin/taskq.ts', import.meta.url));
const CONSUMER = fileURLToPath(new URL('../../fixtures/scheduled-consumer.ts', import.meta.url));

let system: LocalSystem;
let dir: string;

beforeAll(async () => {
  const app = testApp();
  const stack = new TaskQueueStack(app, uniqueName('Events').replace(/-/g, ''), { taskQueue: { completionEvents: { source: 'shop.tasks' } } });
  const template = app.synth().getStackByName(stack.stackName).template as CfnTemplate;
  dir = await mkdtemp(join(tmpdir(), 'taskq-events-'));
  system = await startLocalSystem({
    template,
    stackName: stack.stackName,
    consumerModule: CONSUMER,
    sqsPort: 0,
    dynamoPort: 0,
    // Streams: DynamoDB Local has them, dynalite does not.
    dynamo: 'dynamodb-local',
    statePath: join(dir, 'state.json'),
  });
}, 180_000);

afterAll(async () => {
  await system?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('local completion events', () => {
  it('reproduces the stream mapping of the template: its function, batch size, retries and on-failure queue', () => {
    expect(system.provisioned.streamMappings).toHaveLength(1);
    const mapping = system.provisioned.streamMappings[0]!;
    expect(mapping).toMatchObject({ batchSize: 100, startingPosition: 'TRIM_HORIZON', maximumRetryAttempts: 10, enabled: true });
    expect(mapping.onFailureQueue?.logicalId).toMatch(/CompletionEventsFailureQueue/);
    expect(mapping.function.logicalId).toMatch(/CompletionEventsFunction/);
    expect(system.streamPollers).toHaveLength(1);
    expect(system.alarms.statuses.map((a) => a.name).join(' ')).toMatch(/CompletionEventsFailed/);
  });

  it('a task that succeeds and one of an unknown type publish TaskSucceeded and TaskDeadLettered, kept for `taskq events --local`', async () => {
    const c = system.connection;
    const producer = new TaskProducer({ queueUrl: c.queueUrl, tableName: c.tableName!, sqs: system.clients.sqs, dynamo: system.clients.dynamo });
    const ok = await producer.send('tick', { n: 1 });
    const unknown = await producer.send('no-such-type', {});
    const detailOf = (taskId: string) => system.eventBus!.events.find((e) => (e.detail as TaskCompletionEventDetail).taskId === taskId);
    const succeeded = await until(() => detailOf(ok.taskId), 60_000, 'the TaskSucceeded event');
    const dead = await until(() => detailOf(unknown.taskId), 60_000, 'the TaskDeadLettered event');
    expect(succeeded).toMatchObject({ source: 'shop.tasks', detailType: 'TaskSucceeded', detail: { eventId: `${ok.taskId}:SUCCEEDED`, type: 'tick', attempts: 1, result: { ran: true } } });
    expect(succeeded.eventBusName).toMatch(/^arn:aws:events:us-east-1:000000000000:event-bus\/default$/);
    expect(dead).toMatchObject({ detailType: 'TaskDeadLettered', detail: { status: 'DEAD_LETTERED', type: 'no-such-type' } });

    const statePath = join(dir, 'state.json');
    await until(async () => ((await readLocalState(statePath))?.events?.length === 2 ? true : undefined), 10_000, 'the state file');
    const cli = (...args: string[]) => execFileAsync(process.execPath, ['--import', 'tsx', BIN, ...args], { env: { ...process.env, TASKQ_LOCAL_STATE: statePath } });
    const listed = JSON.parse((await cli('events', '--local', '--json')).stdout) as { detailType: string; detail: TaskCompletionEventDetail }[];
    expect(listed.map((e) => [e.detailType, e.detail.taskId]).sort()).toEqual([
      ['TaskDeadLettered', unknown.taskId],
      ['TaskSucceeded', ok.taskId],
    ].sort());
    const filtered = JSON.parse((await cli('events', '--local', '--json', '--type', 'TaskSucceeded')).stdout) as unknown[];
    expect(filtered).toHaveLength(1);
    expect((await cli('events', '--local')).stdout).toMatch(new RegExp(`TaskSucceeded +${ok.taskId} +tick · attempts 1 · \\d+ ms · result \\{"ran":true\\}`));
    const deployed = await cli('events').catch((e: { code: number; stderr: string }) => e);
    expect(deployed).toMatchObject({ code: 1 }); // EXIT_CODES.usage
    expect((deployed as { stderr: string }).stderr).toContain('EventBridge');
  }, 120_000);
});
