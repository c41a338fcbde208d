import { describe, expect, it } from 'vitest';
import { resolveProducerConfig } from '../../../lib/client/config.ts';
import { attributesSize, encodeInlineBody, prepareTask, serializePayload } from '../../../lib/client/task-message.ts';
import { decodeEnvelope, encodeEnvelope } from '../../../lib/protocol/envelope.ts';

const NOW = Date.parse('2026-11-28T12:00:00.000Z');
const config = (extra: Record<string, unknown> = {}) => resolveProducerConfig({ queueUrl: 'https://q/tasks', now: () => NOW, ...extra });

describe('prepareTask', () => {
  it('encodes the same bytes as encodeEnvelope, with an id, createdAt and the attributes', () => {
    const t = prepareTask('send_email', { to: 'é@x', n: [1, null] }, { idempotencyKey: 'order "42"' }, config());
    expect(t.taskId).toMatch(/^tsk_[0-9a-f]{32}$/);
    expect(t.body).toBe(
      encodeEnvelope({ v: 1, id: t.taskId, type: 'send_email', payload: { to: 'é@x', n: [1, null] }, idempotencyKey: 'order "42"', createdAt: '2026-11-28T12:00:00.000Z' }),
    );
    expect(decodeEnvelope(t.body).idempotencyKey).toBe('order "42"');
    expect(t.attributes).toEqual({ taskType: { DataType: 'String', StringValue: 'send_email' }, taskId: { DataType: 'String', StringValue: t.taskId } });
    expect(t.size).toBe(Buffer.byteLength(t.body) + attributesSize(t.attributes));
  });

  it('leaves the idempotency key out of the envelope when it is the task id', () => {
    const t = prepareTask('t', 1, { taskId: 'abc', idempotencyKey: 'abc' }, config());
    expect(JSON.parse(t.body)).not.toHaveProperty('idempotencyKey');
    expect(t.idempotencyKey).toBe('abc');
  });

  it('escapes U+FFFE/U+FFFF and lone surrogates in the payload, so SQS accepts the body', () => {
    const payload = { s: '\uFFFE\uFFFF\uD800' };
    const t = prepareTask('t', payload, {}, config());
    expect(/[\uFFFE\uFFFF\uD800-\uDFFF]/.test(t.body)).toBe(false);
    expect(decodeEnvelope(t.body).payload).toEqual(payload);
  });

  it('counts the size in UTF-8 bytes', () => {
    const t = prepareTask('t', '€'.repeat(100), {}, config());
    expect(t.size).toBe(Buffer.byteLength(t.body) + attributesSize(t.attributes));
    expect(Buffer.byteLength(t.body)).toBeGreaterThan(t.body.length + 150);
  });

  it('measures PAYLOAD_TOO_LARGE in bytes, not characters', () => {
    const c = config({ maxPayloadBytes: 1000 });
    expect(() => prepareTask('t', 'a'.repeat(900), {}, c)).not.toThrow();
    expect(() => prepareTask('t', '€'.repeat(400), {}, c)).toThrow(expect.objectContaining({ code: 'PAYLOAD_TOO_LARGE' }));
  });
});

describe('delays', () => {
  const c = config();
  it('passes delaySeconds through and drops 0', () => {
    expect(prepareTask('t', 1, { delaySeconds: 900 }, c).delaySeconds).toBe(900);
    expect(prepareTask('t', 1, { delaySeconds: 0 }, c).delaySeconds).toBeUndefined();
  });

  it('turns a short delayMs or runAt into DelaySeconds, rounded up, without notBefore', () => {
    const t = prepareTask('t', 1, { delayMs: 1500 }, c);
    expect([t.delaySeconds, t.notBefore]).toEqual([2, undefined]);
    expect(prepareTask('t', 1, { runAt: new Date(NOW + 900_000) }, c).delaySeconds).toBe(900);
    expect(prepareTask('t', 1, { runAt: new Date(NOW - 5000) }, c).delaySeconds).toBeUndefined();
  });

  it('sets notBefore and a first hop of 900 s beyond 15 minutes', () => {
    const runAt = new Date(NOW + 3 * 3600_000);
    const t = prepareTask('t', 1, { runAt }, c);
    expect(t.delaySeconds).toBe(900);
    expect(t.notBefore).toBe(runAt.toISOString());
    expect(decodeEnvelope(t.body).notBefore).toBe(runAt.toISOString());
    const d = prepareTask('t', 1, { delayMs: 900_001 }, c);
    expect([d.delaySeconds, d.notBefore]).toEqual([900, new Date(NOW + 900_001).toISOString()]);
  });
});

describe('FIFO deduplication id', () => {
  const c = config({ queueUrl: 'https://q/tasks.fifo' });
  it('defaults to the task id, or the idempotency key, or its SHA-256 when SQS would refuse it', () => {
    expect(prepareTask('t', 1, { taskId: 'a', messageGroupId: 'g' }, c).deduplicationId).toBe('a');
    expect(prepareTask('t', 1, { idempotencyKey: 'order-42', messageGroupId: 'g' }, c).deduplicationId).toBe('order-42');
    expect(prepareTask('t', 1, { idempotencyKey: 'with space', messageGroupId: 'g' }, c).deduplicationId).toMatch(/^[0-9a-f]{64}$/);
    expect(prepareTask('t', 1, { deduplicationId: 'd-1', messageGroupId: 'g' }, c).deduplicationId).toBe('d-1');
  });
});

describe('encodeInlineBody', () => {
  it('matches encodeEnvelope for every optional-field combination', () => {
    for (const explicitKey of [undefined, 'k\u2028"\\']) {
      for (const notBefore of [undefined, '2026-12-01T00:00:00.000Z']) {
        const payload = { a: '\uFFFF' };
        const body = encodeInlineBody({ taskId: 'id', type: 'ty', explicitKey, createdAt: '2026-11-28T12:00:00.000Z', notBefore, payloadJson: serializePayload(payload, false) });
        expect(body).toBe(
          encodeEnvelope({
            v: 1,
            id: 'id',
            type: 'ty',
            payload,
            ...(explicitKey !== undefined ? { idempotencyKey: explicitKey } : {}),
            createdAt: '2026-11-28T12:00:00.000Z',
            ...(notBefore !== undefined ? { notBefore } : {}),
          }),
        );
      }
    }
  });
});
