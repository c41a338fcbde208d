/**
 * The local system evaluates the template's DeadLetterQueueNotEmpty alarm on what the DLQ
 * holds, visible or not: a `taskq dlq peek`, or a receive that keeps dead letters hidden for
 * longer than an alarm period (a redrive scan, a peek that died mid-way), must not flip the
 * alarm to OK — in AWS that would page on-call a second time when the messages reappear.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { startLocalSystem, type LocalSystem, type LocalSystemEvent } from '../../../lib/local/system.ts';
import { synthesizeTemplate } from '../../../lib/local/template.ts';
import { peekDeadLetters } from '../../../lib/ops/dlq-peek.ts';
import { uniqueName } from '../../support/aws.ts';
import { until } from '../../support/until.ts';

let system: LocalSystem | undefined;
let dir: string | undefined;

afterAll(async () => {
  await system?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('local DeadLetterQueueNotEmpty alarm', () => {
  it('goes to ALARM on a dead letter and stays there through peeks and a receive that hides it for 3 periods', async () => {
    const synthesized = await synthesizeTemplate({ stackName: uniqueName('Dlq').replace(/-/g, '') });
    dir = await mkdtemp(join(tmpdir(), 'taskq-dlq-alarm-'));
    const events: LocalSystemEvent[] = [];
    system = await startLocalSystem({
      template: synthesized.template,
      stackName: synthesized.stackName,
      sqsPort: 0,
      dynamoPort: 0,
      dynamo: 'dynalite',
      statePath: join(dir, 'state.json'),
      onEvent: (e) => events.push(e),
    });
    const dlq = system.deadLetterQueue!;
    const alarmName = system.alarms.definitions.find((d) => d.name.endsWith('DeadLetterQueueNotEmpty'))!.name;
    const transitions = () => events.flatMap((e) => (e.kind === 'alarm' && e.status.name === alarmName ? [`${e.previous}→${e.status.state}`] : []));

    await system.clients.sqs.send(new SendMessageCommand({ QueueUrl: dlq.url, MessageBody: '{"v":1}' }));
    await until(() => (transitions().at(-1)?.endsWith('ALARM') ? true : undefined), 15_000, 'the DLQ alarm to go to ALARM');
    const before = transitions().length;

    // Peeks: each receives the message and releases it at once.
    for (let i = 0; i < 5; i++) {
      const peeked = await peekDeadLetters({ sqs: system.clients.sqs, deadLetterQueueUrl: dlq.url, max: 10, showBody: false });
      expect(peeked.messages).toHaveLength(1);
      await new Promise((r) => setTimeout(r, 300));
    }
    // A receive that hides the dead letter for 3 s: three local periods (60 s → 1 s) with nothing visible.
    const held = await system.clients.sqs.send(new ReceiveMessageCommand({ QueueUrl: dlq.url, VisibilityTimeout: 3, WaitTimeSeconds: 1 }));
    expect(held.Messages).toHaveLength(1);
    await new Promise((r) => setTimeout(r, 3500));

    expect(transitions().slice(before)).toEqual([]);
    expect(system.snapshot().alarms.find((a) => a.name === alarmName)!.state).toBe('ALARM');
  }, 180_000);
});
