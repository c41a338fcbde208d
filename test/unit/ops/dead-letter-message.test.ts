import { describe, expect, it } from 'vitest';
import { describeDeadLetter, redriveAttributes, redriveIdentity, taskTypeOf } from '../../../lib/ops/dead-letter-message.ts';
import { readLocalAlarms } from '../../../lib/ops/alarm-state.ts';
import { formatDuration, formatPeek, formatRedrive, formatStats } from '../../../lib/ops/format.ts';
import { readPayloadArgument } from '../../../lib/ops/payload-input.ts';
import { RateLimiter } from '../../../lib/ops/rate-limiter.ts';
import { DEAD_LETTER_ATTRIBUTES, REDRIVE_ATTRIBUTES } from '../../../lib/protocol/attributes.ts';
import type { LocalState } from '../../../lib/local/state.ts';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const s = (v: string) => ({ DataType: 'String', StringValue: v });

const message = {
  MessageId: 'm1',
  Body: JSON.stringify({ v: 1, id: 'tsk_1', type: 'from_body', createdAt: '2026-01-01T00:00:00.000Z', payload: { secret: 'x' } }),
  Attributes: { SentTimestamp: String(Date.parse('2026-01-01T00:05:00.000Z')), ApproximateReceiveCount: '2', MessageGroupId: 'g' },
  MessageAttributes: {
    taskType: s('send_email'),
    taskId: s('tsk_1'),
    ExtendedPayloadSize: { DataType: 'Number', StringValue: '123' },
    bin: { DataType: 'Binary', BinaryValue: new Uint8Array([1, 2]) },
    [DEAD_LETTER_ATTRIBUTES.reason]: s('permanent-error'),
    [DEAD_LETTER_ATTRIBUTES.attempts]: { DataType: 'Number', StringValue: '3' },
    [DEAD_LETTER_ATTRIBUTES.lastError]: s('bad'),
    [DEAD_LETTER_ATTRIBUTES.originalMessageId]: s('orig'),
    [DEAD_LETTER_ATTRIBUTES.deadLetteredAt]: s('2026-01-01T00:06:00.000Z'),
  },
};

describe('describeDeadLetter', () => {
  it('reads the dead-letter attributes, prefers attributes over the envelope, ages from createdAt, hides the body', () => {
    const view = describeDeadLetter(message, { now: Date.parse('2026-01-01T01:00:00.000Z') });
    expect(view).toEqual({
      messageId: 'm1',
      reason: 'permanent-error',
      attempts: 3,
      type: 'send_email',
      taskId: 'tsk_1',
      ageSeconds: 3600,
      createdAt: '2026-01-01T00:00:00.000Z',
      deadLetteredAt: '2026-01-01T00:06:00.000Z',
      lastError: 'bad',
      originalMessageId: 'orig',
      receiveCount: 2,
      messageGroupId: 'g',
    });
    expect(describeDeadLetter(message, { showBody: true }).body).toBe(message.Body);
  });

  it('copes with a non-envelope body (Extended Client pointer, junk)', () => {
    const view = describeDeadLetter({ MessageId: 'x', Body: '["software.amazon.payloadoffloading.PayloadS3Pointer",{}]', Attributes: { SentTimestamp: '1000' } }, { now: 11_000 });
    expect(view).toMatchObject({ type: null, taskId: null, reason: null, attempts: null, ageSeconds: 10 });
    expect(taskTypeOf({ Body: '{oops' })).toBeNull();
    expect(taskTypeOf({ Body: JSON.stringify({ type: 'from_body' }) })).toBe('from_body');
  });
});

describe('redriveAttributes', () => {
  const at = '2026-02-01T10:00:00.000Z';
  it('keeps every attribute except the dead-letter ones (binary included), and marks the copy with taskq.redriveId and taskq.redrivenAt', () => {
    const attrs = redriveAttributes(message, at);
    expect(Object.keys(attrs).sort()).toEqual(['ExtendedPayloadSize', 'bin', 'taskId', 'taskType', REDRIVE_ATTRIBUTES.redriveId, REDRIVE_ATTRIBUTES.redrivenAt].sort());
    expect(attrs.bin).toEqual({ DataType: 'Binary', BinaryValue: new Uint8Array([1, 2]) });
    expect(attrs[REDRIVE_ATTRIBUTES.redrivenAt]).toEqual(s(at));
  });

  it('names the redrive after the dead-lettering: its taskq.deadLetterId, else its original messageId and time, else the DLQ messageId', () => {
    const withId = { ...message, MessageAttributes: { ...message.MessageAttributes, [DEAD_LETTER_ATTRIBUTES.deadLetterId]: s('dl-1') } };
    expect(redriveIdentity(withId)).toBe('dl-1');
    expect(redriveAttributes(withId, at)[REDRIVE_ATTRIBUTES.redriveId]).toEqual(s('dl-1'));
    expect(redriveIdentity(message)).toBe(`dead-letter:orig:${message.MessageAttributes![DEAD_LETTER_ATTRIBUTES.deadLetteredAt]!.StringValue}`);
    expect(redriveIdentity({ MessageId: 'moved-by-policy', MessageAttributes: {} })).toBe('message:moved-by-policy');
  });

  it('replaces an earlier redrive mark', () => {
    const again = { ...message, MessageAttributes: { ...message.MessageAttributes, [REDRIVE_ATTRIBUTES.redrivenAt]: s('2026-01-02T00:00:00.000Z') } };
    expect(redriveAttributes(again, at)[REDRIVE_ATTRIBUTES.redrivenAt]).toEqual(s(at));
  });

  it('stays within SQS’s 10 attributes: a message already carrying 10 of its own goes back unmarked', () => {
    const full = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`a${i}`, s(String(i))]));
    const nine = Object.fromEntries(Array.from({ length: 9 }, (_, i) => [`a${i}`, s(String(i))]));
    expect(Object.keys(redriveAttributes({ MessageAttributes: full }, at))).toHaveLength(10);
    expect(redriveAttributes({ MessageAttributes: full }, at)).not.toHaveProperty(REDRIVE_ATTRIBUTES.redriveId);
    // Room for one mark: the identity, which is what the consumer reads.
    expect(Object.keys(redriveAttributes({ MessageAttributes: nine }, at))).toContain(REDRIVE_ATTRIBUTES.redriveId);
    expect(redriveAttributes({ MessageAttributes: nine }, at)).not.toHaveProperty(REDRIVE_ATTRIBUTES.redrivenAt);
    // A consumer's dead letter at the limit (6 dead-letter + 4 others) has room once the dead-letter ones go.
    expect(Object.keys(redriveAttributes({ MessageAttributes: { ...message.MessageAttributes, extra: s('x') } }, at))).toHaveLength(7);
  });
});

describe('readLocalAlarms', () => {
  const base = { pid: 1 } as unknown as LocalState;
  it('accepts an array or a name → state map, ignores junk; undefined when absent', () => {
    expect(readLocalAlarms(base)).toBeUndefined();
    expect(readLocalAlarms({ ...base, alarms: [{ name: 'A', state: 'ALARM', reason: 'r' }, { name: 'B', state: 'weird' }] } as never)).toEqual([{ name: 'A', state: 'ALARM', reason: 'r' }]);
    expect(readLocalAlarms({ ...base, alarms: { A: 'ok', B: { state: 'INSUFFICIENT_DATA' } } } as never)).toEqual([
      { name: 'A', state: 'OK' },
      { name: 'B', state: 'INSUFFICIENT_DATA' },
    ]);
  });
});

describe('readPayloadArgument', () => {
  it('parses inline JSON, @file and @-; explains bad JSON', async () => {
    expect(await readPayloadArgument('{"a":1}')).toEqual({ a: 1 });
    const dir = await mkdtemp(join(tmpdir(), 'taskq-payload-'));
    await writeFile(join(dir, 'p.json'), '[1,2]');
    expect(await readPayloadArgument(`@${join(dir, 'p.json')}`)).toEqual([1, 2]);
    expect(await readPayloadArgument('@-', async () => '"hi"')).toBe('hi');
    await expect(readPayloadArgument('{nope')).rejects.toMatchObject({ code: 'USAGE', message: expect.stringContaining('not valid JSON') });
    await expect(readPayloadArgument('@/nonexistent/p.json')).rejects.toMatchObject({ code: 'USAGE', message: expect.stringContaining('ENOENT') });
  });
});

describe('RateLimiter', () => {
  it('batch size follows the rate; no rate means no waiting', async () => {
    expect(new RateLimiter(undefined).batchSize()).toBe(10);
    expect(new RateLimiter(3).batchSize()).toBe(3);
    expect(new RateLimiter(0.5).batchSize()).toBe(1);
    let t = 0;
    const sleeps: number[] = [];
    const clock = { now: () => t, sleep: async (ms: number) => void (sleeps.push(ms), (t += ms)) };
    const limiter = new RateLimiter(2, clock);
    await limiter.wait(0);
    await limiter.wait(4);
    expect(sleeps).toEqual([2000]);
    await new RateLimiter(undefined, clock).wait(1000);
    expect(sleeps).toEqual([2000]);
  });
});

describe('format', () => {
  it('durations', () => {
    expect([formatDuration(null), formatDuration(5), formatDuration(125), formatDuration(7300), formatDuration(90_000)]).toEqual(['n/a', '5s', '2m 5s', '2h 1m', '1d 1h']);
  });

  it('human output says what matters', () => {
    const stats = formatStats({
      queue: { url: 'q', visible: 3, inFlight: 1, delayed: 0, oldestAge: { seconds: null, source: 'unavailable', note: 'no datapoint' } },
      deadLetterQueue: { url: 'd', visible: 2, inFlight: 0, delayed: 0 },
      alarms: { source: 'cloudwatch', alarms: [{ name: 'Dlq', state: 'ALARM' }] },
    });
    expect(stats).toMatch(/n\/a.*no datapoint/);
    expect(stats).toMatch(/ALARM.*Dlq/);
    const peek = formatPeek({ queueUrl: 'd', notReleased: [], messages: [describeDeadLetter(message)] });
    expect(peek).toMatch(/permanent-error/);
    expect(peek).not.toMatch(/secret/);
    const redrive = formatRedrive({ method: 'receive-send-delete', dryRun: false, moved: 2, skipped: 1, arrivedDuringRun: 0, failed: 1, deleteFailed: 0, byType: { a: 2 }, failures: [{ messageId: 'm', taskId: 't', type: 'a', error: 'boom' }], stoppedBecause: 'empty', notReleased: [] });
    expect(redrive).toMatch(/moved.*2.*skipped.*1.*failed.*1/s);
    expect(redrive).toMatch(/failed m \(t\): boom/);
  });
});
