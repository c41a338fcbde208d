/**
 * The completion-events core without AWS: which stream records are completions, and the
 * publisher's batching (≤ 10 per PutEvents) and retries of the entries EventBridge reports as
 * failed (FailedEntryCount — a fault no emulator produces: aws-sdk-client-mock).
 */
import { mockClient } from 'aws-sdk-client-mock';
import { EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { beforeEach, describe, expect, it } from 'vitest';
import { completionOf, type TaskStreamRecord } from '../../../lib/events/completion-of.ts';
import { publishCompletionEvents } from '../../../lib/events/publish-events.ts';
import { createStreamHandler } from '../../../lib/events/stream-handler.ts';
import type { TaskCompletionEventDetail } from '../../../lib/protocol/completion-events.ts';

const S = (s: string) => ({ S: s });
const N = (n: number) => ({ N: String(n) });

function image(status: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    pk: S('key-1'),
    taskId: S('tsk_1'),
    type: S('email'),
    status: S(status),
    attempts: N(2),
    createdAt: S('2026-01-01T00:00:00.000Z'),
    updatedAt: S('2026-01-01T00:00:01.500Z'),
    expiresAt: N(1),
    ...extra,
  };
}

function record(newStatus: string | undefined, oldStatus?: string, extra: { new?: Record<string, unknown>; old?: Record<string, unknown>; seq?: string; eventName?: string } = {}): TaskStreamRecord {
  return {
    eventName: extra.eventName ?? (oldStatus ? 'MODIFY' : 'INSERT'),
    dynamodb: {
      ...(newStatus ? { NewImage: image(newStatus, extra.new) } : {}),
      ...(oldStatus ? { OldImage: image(oldStatus, extra.old) } : {}),
      SequenceNumber: extra.seq ?? '100',
    },
  };
}

describe('completionOf', () => {
  it('a transition into SUCCEEDED: ids, attempts, duration, the parsed result; nothing else of the record', () => {
    expect(completionOf(record('SUCCEEDED', 'IN_PROGRESS', { new: { result: S('{"ok":true}'), owner: S('secret-owner') } }))).toEqual({
      eventId: 'tsk_1:SUCCEEDED',
      taskId: 'tsk_1',
      idempotencyKey: 'key-1',
      status: 'SUCCEEDED',
      type: 'email',
      attempts: 2,
      createdAt: '2026-01-01T00:00:00.000Z',
      finishedAt: '2026-01-01T00:00:01.500Z',
      durationMs: 1500,
      result: { ok: true },
    });
  });

  it('DEAD_LETTERED carries its reason; a redriven run carries the redrive id in its event id', () => {
    expect(completionOf(record('DEAD_LETTERED', 'IN_PROGRESS', { new: { deadLetterReason: S('permanent-error') } }))).toMatchObject({
      eventId: 'tsk_1:DEAD_LETTERED',
      deadLetterReason: 'permanent-error',
    });
    const again = completionOf(record('DEAD_LETTERED', 'DEAD_LETTERED', { new: { redriveId: S('r-2') } }));
    expect(again?.eventId).toBe('tsk_1:DEAD_LETTERED:r-2');
  });

  it('CANCELLED: finished at the cancel, a record created by the cancel (INSERT, no type) too', () => {
    const created = completionOf({
      eventName: 'INSERT',
      dynamodb: { NewImage: { pk: S('tsk_9'), taskId: S('tsk_9'), status: S('CANCELLED'), attempts: N(0), cancelledAt: S('2026-01-01T00:00:05.000Z'), updatedAt: S('2026-01-01T00:00:05.000Z') } },
    });
    expect(created).toEqual({ eventId: 'tsk_9:CANCELLED', taskId: 'tsk_9', idempotencyKey: 'tsk_9', status: 'CANCELLED', attempts: 0, finishedAt: '2026-01-01T00:00:05.000Z' });
  });

  it('a large result is referenced, never inlined', () => {
    const ref = { bucket: 'b', key: 'results/tsk_1.json', size: 5000 };
    expect(completionOf(record('SUCCEEDED', 'IN_PROGRESS', { new: { resultRef: S(JSON.stringify(ref)) } }))).toMatchObject({ resultRef: ref });
  });

  it('no event: the same final state rewritten, a non-final state, a deletion, an item that is no task record', () => {
    expect(completionOf(record('SUCCEEDED', 'SUCCEEDED'))).toBeUndefined();
    expect(completionOf(record('IN_PROGRESS'))).toBeUndefined();
    expect(completionOf(record('RETRYING', 'IN_PROGRESS'))).toBeUndefined();
    expect(completionOf(record(undefined, 'SUCCEEDED', { eventName: 'REMOVE' }))).toBeUndefined();
    expect(completionOf({ eventName: 'INSERT', dynamodb: { NewImage: { pk: S('routing'), status: S('SUCCEEDED') } } })).toBeUndefined();
  });
});

const detail = (i: number): TaskCompletionEventDetail => ({ eventId: `tsk_${i}:SUCCEEDED`, taskId: `tsk_${i}`, idempotencyKey: `tsk_${i}`, status: 'SUCCEEDED', attempts: 1 });
const noSleep = async () => {};

describe('publishCompletionEvents', () => {
  const eventBridge = mockClient(EventBridgeClient);
  beforeEach(() => eventBridge.reset());

  it('sends at most 10 entries per PutEvents, with source, detail type, bus and detail', async () => {
    eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [] });
    const failures = await publishCompletionEvents(new EventBridgeClient({}), Array.from({ length: 23 }, (_, i) => detail(i)), { eventBusName: 'bus', source: 'taskq', sleep: noSleep });
    expect(failures).toEqual([]);
    const calls = eventBridge.commandCalls(PutEventsCommand).map((c) => c.args[0].input.Entries!);
    expect(calls.map((entries) => entries.length)).toEqual([10, 10, 3]);
    expect(calls[0]![0]).toEqual({ EventBusName: 'bus', Source: 'taskq', DetailType: 'TaskSucceeded', Detail: JSON.stringify(detail(0)) });
  });

  it('retries only the entries reported failed, until they go through', async () => {
    let call = 0;
    eventBridge.on(PutEventsCommand).callsFake((input: { Entries: PutEventsRequestEntry[] }) => {
      call++;
      // First call: entries 1 and 3 throttled; second call (those two): entry 3 again; third: all fine.
      const failing = call === 1 ? [1, 3] : call === 2 ? [1] : [];
      return { FailedEntryCount: failing.length, Entries: input.Entries.map((_, i) => (failing.includes(i) ? { ErrorCode: 'ThrottlingException', ErrorMessage: 'slow down' } : { EventId: `e${i}` })) };
    });
    const failures = await publishCompletionEvents(new EventBridgeClient({}), [0, 1, 2, 3].map(detail), { eventBusName: 'bus', source: 'taskq', sleep: noSleep });
    expect(failures).toEqual([]);
    const sent = eventBridge.commandCalls(PutEventsCommand).map((c) => c.args[0].input.Entries!.map((e) => (JSON.parse(e.Detail!) as TaskCompletionEventDetail).taskId));
    expect(sent).toEqual([['tsk_0', 'tsk_1', 'tsk_2', 'tsk_3'], ['tsk_1', 'tsk_3'], ['tsk_3']]);
  });

  it('after maxAttempts, returns what still failed with the last error', async () => {
    eventBridge.on(PutEventsCommand).callsFake((input: { Entries: PutEventsRequestEntry[] }) => ({
      FailedEntryCount: 1,
      Entries: input.Entries.map((e) => (e.Detail!.includes('tsk_2') ? { ErrorCode: 'InternalFailure', ErrorMessage: 'boom' } : { EventId: 'x' })),
    }));
    const failures = await publishCompletionEvents(new EventBridgeClient({}), [1, 2].map(detail), { eventBusName: 'bus', source: 'taskq', maxAttempts: 3, sleep: noSleep });
    expect(failures).toEqual([{ detail: detail(2), errorCode: 'InternalFailure', errorMessage: 'boom' }]);
    expect(eventBridge.commandCalls(PutEventsCommand)).toHaveLength(3);
  });

  it('a call that fails outright is retried for all its entries', async () => {
    eventBridge.on(PutEventsCommand).rejectsOnce(Object.assign(new Error('down'), { name: 'ServiceUnavailable' })).resolves({ FailedEntryCount: 0, Entries: [] });
    expect(await publishCompletionEvents(new EventBridgeClient({}), [detail(1)], { eventBusName: 'bus', source: 'taskq', sleep: noSleep })).toEqual([]);
    expect(eventBridge.commandCalls(PutEventsCommand)).toHaveLength(2);
  });
});

describe('the stream handler', () => {
  const eventBridge = mockClient(EventBridgeClient);
  beforeEach(() => eventBridge.reset());

  it('names the first record whose event failed: the mapping resumes there', async () => {
    eventBridge.on(PutEventsCommand).callsFake((input: { Entries: PutEventsRequestEntry[] }) => ({
      FailedEntryCount: 1,
      Entries: input.Entries.map((e) => (e.Detail!.includes('tsk_b') ? { ErrorCode: 'InternalFailure' } : { EventId: 'x' })),
    }));
    const handler = createStreamHandler({ eventBusName: 'bus', source: 'taskq', maxAttempts: 2, sleep: noSleep, sender: () => new EventBridgeClient({}), log: () => {} });
    const withTask = (id: string, seq: string, status = 'SUCCEEDED') => record(status, 'IN_PROGRESS', { new: { taskId: S(id) }, seq });
    const response = await handler({ Records: [withTask('tsk_a', '1'), withTask('tsk_x', '2', 'RETRYING'), withTask('tsk_b', '3'), withTask('tsk_c', '4')] });
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: '3' }] });
  });

  it('a batch without completions makes no call', async () => {
    const handler = createStreamHandler({ eventBusName: 'bus', source: 'taskq', sender: () => new EventBridgeClient({}), log: () => {} });
    expect(await handler({ Records: [record('IN_PROGRESS')] })).toEqual({ batchItemFailures: [] });
    expect(eventBridge.commandCalls(PutEventsCommand)).toHaveLength(0);
  });
});
