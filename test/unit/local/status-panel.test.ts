/**
 * The local panel names what it measures: messages deleted (every acknowledged record —
 * successes, dead letters, duplicates, re-sent copies — not successes), records returned to
 * the queue, and the duration of whole invocations (batches), not of a handler.
 */
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import type { InvocationResult } from '../../../lib/local/event-source-poller.ts';
import { LocalMetrics } from '../../../lib/local/metrics.ts';
import { statusLine } from '../../../lib/local/status-panel.ts';

function record(id: string): SQSRecord {
  return { messageId: id, attributes: { SentTimestamp: String(Date.now() - 50) } } as unknown as SQSRecord;
}

describe('local metrics and the status line', () => {
  it('count deleted and returned records and time whole invocations, under those names', () => {
    const metrics = new LocalMetrics({ sqs: {} as SQSClient, source: { name: 'q', url: 'http://q' }, functionName: 'f' });
    const result = (deleted: string[], failed: string[], durationMs: number): InvocationResult => ({
      requestId: 'r',
      outcome: failed.length > 0 ? 'partial' : 'success',
      records: [...deleted, ...failed].map(record),
      deleted,
      failed,
      startedAt: Date.now() - durationMs,
      durationMs,
    });
    // A batch of 3: one success, one dead letter, one duplicate — all acknowledged, all deleted.
    metrics.invocationSettled(result(['a', 'b', 'c'], [], 40));
    metrics.invocationSettled(result(['d'], ['e'], 80));
    const snapshot = metrics.snapshot();
    expect(snapshot).toMatchObject({ deleted: 4, returned: 1, invocations: 2 });
    expect(snapshot.invocationP50).toBe(40);
    expect(snapshot.sentToDeletedP50).toBeGreaterThanOrEqual(50);
    const line = statusLine({ metrics: snapshot, alarms: [] });
    expect(line).toContain('deleted=4 ');
    expect(line).toContain('returned=1 ');
    expect(line).toMatch(/invocation_p50=40 ms invocation_p99=80 ms/);
    expect(line).not.toMatch(/processed|failures|handler/);
  });
});
