/**
 * The local system in-process, with the template's event source mapping disabled: a
 * backlog nobody consumes must raise the template's "no consumers" alarm (metric math) —
 * the metrics, the alarm evaluation and the state file working together.
 */
import { mkdtemp, rm, access } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { startLocalSystem, type LocalSystem, type LocalSystemEvent } from '../../../lib/local/system.ts';
import { readLocalState } from '../../../lib/local/state.ts';
import { synthesizeTemplate, type CfnTemplate } from '../../../lib/local/template.ts';
import { uniqueName } from '../../support/aws.ts';
import { until } from '../../support/until.ts';

let system: LocalSystem | undefined;
let dir: string | undefined;

afterAll(async () => {
  await system?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('local system with the event source mapping disabled', () => {
  it('raises NoConsumers on a backlog nobody consumes, in the panel data and the state file', async () => {
    const synthesized = await synthesizeTemplate({ stackName: uniqueName('Sys').replace(/-/g, '') });
    const resources = Object.fromEntries(
      Object.entries(synthesized.template.Resources).map(([id, r]) => [
        id,
        r.Type === 'AWS::Lambda::EventSourceMapping' ? { ...r, Properties: { ...r.Properties, Enabled: false } } : r,
      ]),
    );
    const template: CfnTemplate = { ...synthesized.template, Resources: resources };
    dir = await mkdtemp(join(tmpdir(), 'taskq-system-'));
    const statePath = join(dir, 'state.json');
    const events: LocalSystemEvent[] = [];
    system = await startLocalSystem({
      template,
      stackName: synthesized.stackName,
      sqsPort: 0,
      dynamoPort: 0,
      dynamo: 'dynalite',
      statePath,
      // A 300 s period lasts 1 s: NoConsumers needs 3 breaching periods, so ~3 s.
      periodScale: 300,
      onEvent: (e) => events.push(e),
    });
    expect(system.poller).toBeUndefined();
    expect(events.some((e) => e.kind === 'error' && e.message.includes('is disabled in the template'))).toBe(true);
    const noConsumers = system.alarms.definitions.find((d) => d.name.endsWith('NoConsumers'))!;
    expect(noConsumers.expressions.length).toBeGreaterThan(0);
    expect(noConsumers.name).toMatch(/NoConsumers$/);
    expect(system.snapshot().alarms.find((a) => a.name === noConsumers.name)!.state).toBe('OK');

    for (let i = 0; i < 3; i++) await system.clients.sqs.send(new SendMessageCommand({ QueueUrl: system.sourceQueue.url, MessageBody: `{"n":${i}}` }));

    const alarm = await until(
      () => events.find((e) => e.kind === 'alarm' && e.status.name === noConsumers.name && e.status.state === 'ALARM'),
      15_000,
      'NoConsumers to go to ALARM',
    );
    expect(alarm.kind === 'alarm' && alarm.previous).toBe('OK');
    const snapshot = system.snapshot();
    expect(snapshot.metrics).toMatchObject({ visible: 3, inFlight: 0, invocations: 0, deleted: 0 });
    expect(snapshot.metrics.oldestAgeSeconds).toBeGreaterThanOrEqual(1);
    // The other alarms are not disturbed by a small backlog.
    expect(snapshot.alarms.filter((a) => a.state === 'ALARM').map((a) => a.name)).toEqual([noConsumers.name]);
    const state = await until(
      async () => {
        const s = await readLocalState(statePath);
        return s?.alarms?.some((a) => a.name === noConsumers.name && a.state === 'ALARM') ? s : undefined;
      },
      5_000,
      'the state file to show the alarm',
    );
    expect(state.pid).toBe(process.pid);

    await system.stop();
    system = undefined;
    await expect(access(statePath)).rejects.toThrow();
  });
});
