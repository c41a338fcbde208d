/**
 * Completion events as `taskq local -c taskq:completionEvents=true` runs them: this
 * repository's CDK app synthesized with its real bundles, the completion-events function's
 * esbuild bundle (what deploys, its EventBridge client inside) invoked by the local stream
 * mapping on DynamoDB Local's stream, its PutEvents reaching the local event bus over HTTP.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { TaskProducer } from '../../lib/client/index.ts';
import { startLocalSystem, type LocalSystem } from '../../lib/local/system.ts';
import type { TaskCompletionEventDetail } from '../../lib/protocol/completion-events.ts';

let system: LocalSystem;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'taskq-events-bundle-'));
  system = await startLocalSystem({
    context: { 'taskq:completionEvents': true },
    sqsPort: 0,
    dynamoPort: 0,
    dynamo: 'dynamodb-local',
    statePath: join(dir, 'state.json'),
  });
}, 240_000);

afterAll(async () => {
  await system?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

it('the bundled function publishes a TaskDeadLettered for a task of an unknown type', async () => {
  const streamFunction = system.provisioned.streamMappings[0]!.function;
  expect(streamFunction.logicalId).toMatch(/CompletionEventsFunction/);
  const c = system.connection;
  const producer = new TaskProducer({ queueUrl: c.queueUrl, tableName: c.tableName!, sqs: system.clients.sqs, dynamo: system.clients.dynamo });
  const { taskId } = await producer.send('no-such-type', { n: 1 });
  const deadline = Date.now() + 60_000;
  while (system.eventBus!.events.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  expect(system.eventBus!.events).toHaveLength(1);
  const [event] = system.eventBus!.events;
  expect(event).toMatchObject({ source: 'taskq', detailType: 'TaskDeadLettered', eventBusName: 'arn:aws:events:us-east-1:000000000000:event-bus/default' });
  expect(event!.detail as TaskCompletionEventDetail).toMatchObject({ eventId: `${taskId}:DEAD_LETTERED`, taskId, type: 'no-such-type', deadLetterReason: 'unknown-type', attempts: 0 });
}, 90_000);
