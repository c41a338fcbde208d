import { describe, expect, it } from 'vitest';
import { taskStatusFromItem } from '../../../lib/client/task-status.ts';

describe('taskStatusFromItem', () => {
  it('is PENDING with 0 attempts when there is no item', () => {
    expect(taskStatusFromItem('tsk_1', 'tsk_1', undefined)).toEqual({ taskId: 'tsk_1', idempotencyKey: 'tsk_1', status: 'PENDING', attempts: 0 });
  });

  it('reads every field of a record', () => {
    const view = taskStatusFromItem('tsk_1', 'k', {
      pk: { S: 'k' },
      taskId: { S: 'tsk_1' },
      type: { S: 'send_email' },
      status: { S: 'DEAD_LETTERED' },
      attempts: { N: '5' },
      leaseUntil: { N: '123' },
      createdAt: { S: '2026-11-28T12:00:00.000Z' },
      updatedAt: { S: '2026-11-28T12:05:00.000Z' },
      nextAttemptAt: { S: '2026-11-28T12:06:00.000Z' },
      lastError: { S: 'boom' },
      result: { S: '{"ok":1}' },
      resultTruncated: { BOOL: true },
      deadLetterReason: { S: 'attempts-exhausted' },
      expiresAt: { N: '1800000000' },
    });
    expect(view).toEqual({
      taskId: 'tsk_1',
      idempotencyKey: 'k',
      type: 'send_email',
      status: 'DEAD_LETTERED',
      attempts: 5,
      createdAt: '2026-11-28T12:00:00.000Z',
      updatedAt: '2026-11-28T12:05:00.000Z',
      nextAttemptAt: '2026-11-28T12:06:00.000Z',
      lastError: 'boom',
      result: { ok: 1 },
      resultTruncated: true,
      deadLetterReason: 'attempts-exhausted',
    });
  });

  it('keeps a result that is not JSON as its string, and ignores unknown statuses and reasons', () => {
    const view = taskStatusFromItem('t', 't', { pk: { S: 't' }, status: { S: 'WEIRD' }, result: { S: 'not json' }, deadLetterReason: { S: 'nope' } });
    expect(view).toEqual({ taskId: 't', idempotencyKey: 't', status: 'PENDING', attempts: 0, result: 'not json' });
  });
});
