import { describe, expect, it } from 'vitest';
import {
  DEAD_LETTER_HEADROOM_BYTES,
  DEFAULT_CLAIM_CHECK_THRESHOLD_BYTES,
  EXTENDED_CLIENT_LEGACY_POINTER_CLASS,
  EXTENDED_CLIENT_POINTER_CLASS,
  PoisonMessageError,
  SQS_MAX_MESSAGE_BYTES,
  decodeEnvelope,
  decodeExtendedClientPointer,
  encodeEnvelope,
  encodeExtendedClientPointer,
  idempotencyKeyOf,
  looksLikeExtendedClientPointer,
  toSqsSafeJson,
  validateEnvelope,
  type TaskEnvelope,
} from '../../lib/protocol/index.ts';

const SHA = 'a'.repeat(64);
const base = { v: 1, id: 'tsk_1', type: 'send_email', payload: { to: 'a@example.com' }, createdAt: '2026-11-28T12:00:00.000Z' };

function reasonOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(PoisonMessageError);
    return (error as PoisonMessageError).reason;
  }
  return undefined;
}

describe('envelope v1 validation', () => {
  it('accepts a minimal envelope and one with every optional field', () => {
    expect(validateEnvelope(base)).toEqual(base);
    const full = { ...base, idempotencyKey: 'order-42', notBefore: '2026-11-29T00:00:00Z' };
    expect(validateEnvelope(full)).toEqual(full);
    const claimed = { v: 1, id: 'x', type: 't', createdAt: base.createdAt, payloadRef: { bucket: 'b', key: 'claims/k', size: 0, sha256: SHA } };
    expect(validateEnvelope(claimed)).toEqual(claimed);
  });

  it('round-trips through encodeEnvelope and decodeEnvelope', () => {
    const envelope: TaskEnvelope = { ...base, v: 1 };
    expect(decodeEnvelope(encodeEnvelope(envelope))).toEqual(envelope);
  });

  it('rejects a body that is not JSON as malformed-json', () => {
    expect(reasonOf(() => decodeEnvelope('{"v":1,'))).toBe('malformed-json');
  });

  it.each([
    ['an array', [1]],
    ['null', null],
    ['a string', 'x'],
    ['a number', 3],
  ])('rejects %s as invalid-envelope', (_, value) => {
    expect(reasonOf(() => validateEnvelope(value))).toBe('invalid-envelope');
  });

  it.each([[undefined], [2], ['1'], [0]])('rejects version %j as unsupported-version', (v) => {
    expect(reasonOf(() => validateEnvelope({ ...base, v }))).toBe('unsupported-version');
  });

  it.each([
    ['id missing', { id: undefined }],
    ['id empty', { id: '' }],
    ['id with a slash', { id: 'a/b' }],
    ['id too long', { id: 'x'.repeat(129) }],
    ['type missing', { type: undefined }],
    ['type starting with a digit', { type: '1abc' }],
    ['type with a space', { type: 'send email' }],
    ['type too long', { type: 'a'.repeat(65) }],
    ['createdAt missing', { createdAt: undefined }],
    ['createdAt not UTC', { createdAt: '2026-11-28T12:00:00+01:00' }],
    ['createdAt not a date', { createdAt: '2026-13-45T99:00:00Z' }],
    ['notBefore not ISO', { notBefore: 'tomorrow' }],
    ['idempotencyKey empty', { idempotencyKey: '' }],
    ['idempotencyKey with a control character', { idempotencyKey: 'a\u0001b' }],
    ['idempotencyKey too long', { idempotencyKey: 'k'.repeat(257) }],
    ['idempotencyKey not a string', { idempotencyKey: 42 }],
    ['payload and payloadRef together', { payloadRef: { bucket: 'b', key: 'k', size: 1, sha256: SHA } }],
  ])('rejects %s as invalid-envelope', (_, patch) => {
    expect(reasonOf(() => validateEnvelope({ ...base, ...patch }))).toBe('invalid-envelope');
  });

  it.each([
    ['bucket empty', { bucket: '', key: 'k', size: 1, sha256: SHA }],
    ['key missing', { bucket: 'b', size: 1, sha256: SHA }],
    ['size negative', { bucket: 'b', key: 'k', size: -1, sha256: SHA }],
    ['size fractional', { bucket: 'b', key: 'k', size: 1.5, sha256: SHA }],
    ['size a string', { bucket: 'b', key: 'k', size: '1', sha256: SHA }],
    ['sha256 upper-case', { bucket: 'b', key: 'k', size: 1, sha256: 'A'.repeat(64) }],
    ['sha256 short', { bucket: 'b', key: 'k', size: 1, sha256: 'a'.repeat(63) }],
    ['not an object', 'claims/k'],
  ])('rejects a payloadRef with %s', (_, payloadRef) => {
    const { payload: _p, ...rest } = base;
    expect(reasonOf(() => validateEnvelope({ ...rest, payloadRef }))).toBe('invalid-envelope');
  });

  it('requires exactly one of payload and payloadRef (a null payload counts as given)', () => {
    const { payload: _p, ...withoutPayload } = base;
    expect(reasonOf(() => validateEnvelope(withoutPayload))).toBe('invalid-envelope');
    expect(validateEnvelope({ ...withoutPayload, payload: null }).payload).toBeNull();
  });

  it('defaults the idempotency key to the id, never anything else', () => {
    expect(idempotencyKeyOf({ id: 'tsk_1' })).toBe('tsk_1');
    expect(idempotencyKeyOf({ id: 'tsk_1', idempotencyKey: 'order-42' })).toBe('order-42');
  });
});

describe('SQS Extended Client pointer', () => {
  it('parses the current class name (Java form, no spaces)', () => {
    const body = `["${EXTENDED_CLIENT_POINTER_CLASS}",{"s3BucketName":"bkt","s3Key":"k/1"}]`;
    expect(looksLikeExtendedClientPointer(body)).toBe(true);
    expect(decodeExtendedClientPointer(body)).toEqual({ bucket: 'bkt', key: 'k/1' });
  });

  it('parses the legacy class name', () => {
    const body = `["${EXTENDED_CLIENT_LEGACY_POINTER_CLASS}",{"s3BucketName":"bkt","s3Key":"uuid"}]`;
    expect(decodeExtendedClientPointer(body, '300000')).toEqual({ bucket: 'bkt', key: 'uuid', size: 300000 });
  });

  it('parses the Python form with spaces after separators and leading whitespace', () => {
    const body = ` ["${EXTENDED_CLIENT_POINTER_CLASS}", {"s3BucketName": "bkt", "s3Key": "abc"}]`;
    expect(looksLikeExtendedClientPointer(body)).toBe(true);
    expect(decodeExtendedClientPointer(body, '12')).toEqual({ bucket: 'bkt', key: 'abc', size: 12 });
  });

  it('reads the size attribute value (ExtendedPayloadSize or SQSLargePayloadSize) as a byte count', () => {
    const body = encodeExtendedClientPointer('b', 'k');
    expect(decodeExtendedClientPointer(body, '0').size).toBe(0);
    expect(decodeExtendedClientPointer(body).size).toBeUndefined();
    for (const bad of ['-1', '1.5', 'abc', '1e400']) {
      expect(reasonOf(() => decodeExtendedClientPointer(body, bad))).toBe('invalid-envelope');
    }
  });

  it('writes the form the official library writes', () => {
    expect(encodeExtendedClientPointer('bkt', 'claims/x')).toBe(`["${EXTENDED_CLIENT_POINTER_CLASS}",{"s3BucketName":"bkt","s3Key":"claims/x"}]`);
  });

  it('does not take an envelope for a pointer', () => {
    expect(looksLikeExtendedClientPointer(JSON.stringify(base))).toBe(false);
  });

  it.each([
    ['not JSON', '["x",', 'malformed-json'],
    ['another class', '["com.example.Pointer",{"s3BucketName":"b","s3Key":"k"}]', 'invalid-envelope'],
    ['three elements', `["${EXTENDED_CLIENT_POINTER_CLASS}",{"s3BucketName":"b","s3Key":"k"},1]`, 'invalid-envelope'],
    ['no bucket', `["${EXTENDED_CLIENT_POINTER_CLASS}",{"s3Key":"k"}]`, 'invalid-envelope'],
    ['empty key', `["${EXTENDED_CLIENT_POINTER_CLASS}",{"s3BucketName":"b","s3Key":""}]`, 'invalid-envelope'],
    ['null target', `["${EXTENDED_CLIENT_POINTER_CLASS}",null]`, 'invalid-envelope'],
    ['numeric key', `["${EXTENDED_CLIENT_POINTER_CLASS}",{"s3BucketName":"b","s3Key":5}]`, 'invalid-envelope'],
  ])('rejects a malformed pointer: %s', (_, body, reason) => {
    expect(reasonOf(() => decodeExtendedClientPointer(body))).toBe(reason);
  });
});

describe('toSqsSafeJson', () => {
  // Characters SQS accepts: #x9 | #xA | #xD | #x20–#xD7FF | #xE000–#xFFFD | #x10000–#x10FFFF.
  const SQS_INVALID = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;

  it('escapes U+FFFE and U+FFFF, which JSON.stringify leaves raw', () => {
    const value = { s: 'a\uFFFEb\uFFFFc' };
    expect(JSON.stringify(value)).toMatch(/[\uFFFE\uFFFF]/);
    const json = toSqsSafeJson(value);
    expect(json).toBe('{"s":"a\\ufffeb\\uffffc"}');
    expect(SQS_INVALID.test(json)).toBe(false);
    expect(JSON.parse(json)).toEqual(value);
  });

  it('escapes lone surrogates and control characters, and round-trips them', () => {
    const value = { hi: '\uD800', lo: 'x\uDC00y', ctl: '\u0000\u0001\u001f', pair: '😀', 'key\u0002': 1 } as Record<string, unknown>;
    const json = toSqsSafeJson(value);
    expect(SQS_INVALID.test(json)).toBe(false);
    expect(json).toContain('\\ud800');
    expect(json).toContain('\\udc00');
    expect(json).toContain('😀');
    expect(JSON.parse(json)).toEqual(value);
  });

  it('leaves an ordinary value byte-identical to JSON.stringify', () => {
    const value = { a: [1, 'é', null], b: { c: true } };
    expect(toSqsSafeJson(value)).toBe(JSON.stringify(value));
  });
});

describe('limits', () => {
  it('keeps the default claim-check threshold below the SQS maximum by the dead-letter headroom', () => {
    expect(DEFAULT_CLAIM_CHECK_THRESHOLD_BYTES).toBe(SQS_MAX_MESSAGE_BYTES - DEAD_LETTER_HEADROOM_BYTES);
  });
});
