import { describe, expect, it } from 'vitest';
import { ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { createTestResources, emulatorEndpoints, testClients } from '../../support/aws.ts';
import { emulatorOldestAge } from '../../../lib/ops/oldest-age.ts';
import { localAlarms } from '../../../lib/ops/alarms.ts';
import { putDeadLetter, operator } from './helpers.ts';
import { registerAbsent } from '../../support/iam/resource-roles.ts';

describe('stats', () => {
  it('match the queue state: depth, in flight, delayed, oldest age, DLQ depth, alarms', async () => {
    const { sqs } = testClients();
    const r = await createTestResources();
    for (let i = 0; i < 7; i++) await sqs.send(new SendMessageCommand({ QueueUrl: r.queueUrl, MessageBody: `m${i}` }));
    for (let i = 0; i < 2; i++) await sqs.send(new SendMessageCommand({ QueueUrl: r.queueUrl, MessageBody: `d${i}`, DelaySeconds: 600 }));
    const received = await sqs.send(new ReceiveMessageCommand({ QueueUrl: r.queueUrl, MaxNumberOfMessages: 3, VisibilityTimeout: 300 }));
    expect(received.Messages).toHaveLength(3);
    for (let i = 0; i < 4; i++) await putDeadLetter(sqs, r.deadLetterQueueUrl, { type: 'x' });
    await new Promise((resolve) => setTimeout(resolve, 2100));

    const stats = await operator.queueStats({
      sqs,
      queueUrl: r.queueUrl,
      deadLetterQueueUrl: r.deadLetterQueueUrl,
      oldestAge: emulatorOldestAge(emulatorEndpoints().sqsEndpoint),
      alarms: localAlarms([{ name: 'DlqNotEmpty', state: 'ALARM', reason: '4 > 0' }]),
    });
    expect(stats.queue).toMatchObject({ url: r.queueUrl, visible: 4, inFlight: 3, delayed: 2 });
    expect(stats.deadLetterQueue).toMatchObject({ visible: 4, inFlight: 0, delayed: 0 });
    expect(stats.queue.oldestAge.source).toBe('emulator');
    expect(stats.queue.oldestAge.seconds).toBeGreaterThanOrEqual(2);
    expect(stats.queue.oldestAge.seconds).toBeLessThan(30);
    expect(stats.alarms).toEqual({ source: 'local-state', alarms: [{ name: 'DlqNotEmpty', state: 'ALARM', reason: '4 > 0' }] });
  });

  it('an empty queue has oldest age 0; an unreadable age or alarm source is reported, not thrown', async () => {
    const { sqs } = testClients();
    const r = await createTestResources();
    const stats = await operator.queueStats({
      sqs,
      queueUrl: r.queueUrl,
      deadLetterQueueUrl: r.deadLetterQueueUrl,
      oldestAge: emulatorOldestAge(emulatorEndpoints().sqsEndpoint),
      alarms: async () => {
        throw Object.assign(new Error('User is not authorized to perform: cloudwatch:DescribeAlarms'), { name: 'AccessDenied' });
      },
    });
    expect(stats.queue).toMatchObject({ visible: 0, inFlight: 0, delayed: 0, oldestAge: { seconds: 0, source: 'emulator' } });
    expect(stats.alarms).toMatchObject({ source: 'unavailable', alarms: null, note: expect.stringContaining('access denied') });
  });

  it('an unknown queue is a not-found error (exit code 2)', async () => {
    const { sqs } = testClients();
    const r = await createTestResources();
    registerAbsent('queue', `${r.queueUrl}-missing`);
    await expect(
      operator.queueStats({ sqs, queueUrl: `${r.queueUrl}-missing`, deadLetterQueueUrl: r.deadLetterQueueUrl, oldestAge: async () => ({ seconds: null, source: 'unavailable' }), alarms: localAlarms(undefined) }),
    ).rejects.toMatchObject({ code: 'QUEUE_NOT_FOUND', exitCode: 2 });
  });
});

describe('dlq purge', () => {
  it('refuses without yes and leaves the DLQ alone; with yes it empties it', async () => {
    const { sqs } = testClients();
    const r = await createTestResources();
    for (let i = 0; i < 3; i++) await putDeadLetter(sqs, r.deadLetterQueueUrl, { type: 'x' });
    await expect(operator.purgeDeadLetters({ sqs, deadLetterQueueUrl: r.deadLetterQueueUrl, yes: false })).rejects.toMatchObject({ code: 'REFUSED', exitCode: 1, message: expect.stringContaining('--yes') });
    const counts = async () => (await operator.queueStats({ sqs, queueUrl: r.queueUrl, deadLetterQueueUrl: r.deadLetterQueueUrl, oldestAge: async () => ({ seconds: null, source: 'unavailable' }), alarms: localAlarms(undefined) })).deadLetterQueue.visible;
    expect(await counts()).toBe(3);
    const result = await operator.purgeDeadLetters({ sqs, deadLetterQueueUrl: r.deadLetterQueueUrl, yes: true });
    expect(result).toMatchObject({ purged: true, approximateMessagesBefore: 3 });
    expect(await counts()).toBe(0);
  });
});
