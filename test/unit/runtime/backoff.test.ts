import { describe, expect, it } from 'vitest';
import { backoffSeconds, clampVisibility } from '../../../lib/runtime/backoff.ts';
import { assertClaimAllowed } from '../../../lib/runtime/claim-check.ts';
import { queueUrlFromArn, resolveConfig } from '../../../lib/runtime/config.ts';

describe('backoff', () => {
  it('doubles from the base, capped, never above the 12 h SQS limit', () => {
    const o = { baseSeconds: 10, capSeconds: 100, jitter: 'none' as const };
    expect([1, 2, 3, 4, 5].map((a) => backoffSeconds(a, o))).toEqual([10, 20, 40, 80, 100]);
    expect(backoffSeconds(40, { baseSeconds: 10, capSeconds: 1e9, jitter: 'none' })).toBe(43_200);
  });
  it('equal jitter stays within [d/2, d]; full jitter within [1, d]', () => {
    const o = { baseSeconds: 10, capSeconds: 1000, jitter: 'equal' as const };
    expect(backoffSeconds(3, o, () => 0)).toBe(20);
    expect(backoffSeconds(3, o, () => 0.999)).toBe(40);
    expect(backoffSeconds(3, { ...o, jitter: 'full' }, () => 0)).toBe(1);
  });
  it('clamps visibility to 1 s – 12 h', () => {
    expect(clampVisibility(0)).toBe(1);
    expect(clampVisibility(1e9)).toBe(43_200);
    expect(clampVisibility(1.2)).toBe(2);
  });
});

describe('claim policy', () => {
  const policy = { bucketName: 'b', claimPrefix: 'claims/' };
  it.each([
    ['other', 'claims/x'],
    ['b', 'x'],
    ['b', 'claims/'],
    ['b', 'claims/../x'],
    ['b', 'claims/a/..'],
    ['b', 'claims/%2E%2E/x'],
    ['b', 'claims/%252e%252e/x'],
    ['b', 'claims/a%2fb'],
    ['b', 'claims\\..\\x'],
    ['b', 'claims//x'],
  ])('refuses %s/%s', (bucket, key) => {
    expect(() => assertClaimAllowed({ bucket, key }, policy)).toThrow(expect.objectContaining({ reason: 'pointer-not-allowed' }));
  });
  it('allows keys under the prefix in the bucket', () => {
    expect(() => assertClaimAllowed({ bucket: 'b', key: 'claims/2026/tsk_1.json' }, policy)).not.toThrow();
  });
  it('refuses everything when no bucket is configured', () => {
    expect(() => assertClaimAllowed({ bucket: 'b', key: 'claims/x' }, { bucketName: undefined, claimPrefix: 'claims/' })).toThrow();
  });
});

describe('configuration', () => {
  it('reads the construct environment with documented defaults', () => {
    const c = resolveConfig({}, { TASKQ_TABLE_NAME: 't', TASKQ_FIFO: 'true', TASKQ_RECORD_TTL_SECONDS: '100' });
    expect(c).toMatchObject({ tableName: 't', fifo: true, recordTtlSeconds: 100, claimPrefix: 'claims/', concurrency: 10, maxAttempts: 5, metricsNamespace: 'TaskQueue' });
    expect(resolveConfig({}, {}).recordTtlSeconds).toBe(30 * 24 * 3600);
  });
  it('derives a queue URL from an ARN', () => {
    expect(queueUrlFromArn('arn:aws:sqs:eu-west-1:123456789012:jobs.fifo')).toBe('https://sqs.eu-west-1.amazonaws.com/123456789012/jobs.fifo');
  });
});
