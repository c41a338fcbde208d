import { beforeEach, describe, expect, it } from 'vitest';
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ListMessageMoveTasksCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SQSClient,
  StartMessageMoveTaskCommand,
  type Message,
} from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { chunkEntries, redriveDeadLetters } from '../../../lib/ops/dlq-redrive.ts';
import type { Clock } from '../../../lib/ops/rate-limiter.ts';

const DLQ = 'https://sqs.us-east-1.amazonaws.com/123456789012/tasks-dlq';
const SOURCE = 'https://sqs.us-east-1.amazonaws.com/123456789012/tasks';
const sqsMock = mockClient(SQSClient);
const sqs = new SQSClient({ region: 'us-east-1' });

function fakeClock(): Clock & { slept: number[] } {
  let t = 1_000_000;
  const slept: number[] = [];
  return {
    slept,
    now: () => t,
    sleep: async (ms) => {
      slept.push(ms);
      t += ms;
    },
  };
}

function message(i: number, type = 'a'): Message {
  return {
    MessageId: `m-${i}`,
    ReceiptHandle: `rh-${i}`,
    Body: JSON.stringify({ v: 1, id: `tsk_${i}`, type, createdAt: '2026-01-01T00:00:00.000Z', payload: {} }),
    MessageAttributes: { taskType: { DataType: 'String', StringValue: type }, 'taskq.reason': { DataType: 'String', StringValue: 'attempts-exhausted' } },
  };
}

beforeEach(() => {
  sqsMock.reset();
  sqsMock.on(GetQueueAttributesCommand).resolves({ Attributes: { ApproximateNumberOfMessages: '3', QueueArn: 'arn:aws:sqs:us-east-1:123456789012:q' } });
  sqsMock.on(ChangeMessageVisibilityBatchCommand).resolves({ Successful: [], Failed: [] });
});

describe('redrive with StartMessageMoveTask', () => {
  it('starts a move task DLQ → source at the given rate and follows it to completion', async () => {
    sqsMock.on(StartMessageMoveTaskCommand).resolves({ TaskHandle: 'handle-1' });
    sqsMock
      .on(ListMessageMoveTasksCommand)
      .resolvesOnce({ Results: [{ Status: 'RUNNING', ApproximateNumberOfMessagesMoved: 1, ApproximateNumberOfMessagesToMove: 3 }] })
      .resolves({ Results: [{ Status: 'COMPLETED', ApproximateNumberOfMessagesMoved: 3, ApproximateNumberOfMessagesToMove: 3 }] });
    const progress: number[] = [];
    const result = await redriveDeadLetters({
      sqs,
      deadLetterQueueUrl: DLQ,
      queueUrl: SOURCE,
      deadLetterQueueArn: 'arn:dlq',
      queueArn: 'arn:source',
      rate: 25,
      clock: fakeClock(),
      onProgress: (p) => progress.push(p.moved),
    });
    expect(sqsMock.commandCalls(StartMessageMoveTaskCommand)[0]!.args[0].input).toEqual({ SourceArn: 'arn:dlq', DestinationArn: 'arn:source', MaxNumberOfMessagesPerSecond: 25 });
    expect(result).toMatchObject({ method: 'move-task', moved: 3, failed: 0, stoppedBecause: 'completed', moveTask: { taskHandle: 'handle-1', status: 'COMPLETED' } });
    expect(progress).toEqual([1, 3]);
    // No message was received or deleted by the CLI itself.
    expect(sqsMock.commandCalls(ReceiveMessageCommand)).toHaveLength(0);
    expect(sqsMock.commandCalls(DeleteMessageBatchCommand)).toHaveLength(0);
  });

  it('reports a failed move task with its reason', async () => {
    sqsMock.on(StartMessageMoveTaskCommand).resolves({ TaskHandle: 'h' });
    sqsMock.on(ListMessageMoveTasksCommand).resolves({ Results: [{ Status: 'FAILED', FailureReason: 'AWS.SimpleQueueService.KmsAccessDenied', ApproximateNumberOfMessagesMoved: 1, ApproximateNumberOfMessagesToMove: 3 }] });
    const result = await redriveDeadLetters({ sqs, deadLetterQueueUrl: DLQ, queueUrl: SOURCE, clock: fakeClock() });
    expect(result).toMatchObject({ moved: 1, failed: 2, stoppedBecause: 'move-task-failed', moveTask: { failureReason: 'AWS.SimpleQueueService.KmsAccessDenied' } });
  });

  it('falls back to receive → send → delete when the endpoint does not know the action', async () => {
    sqsMock.on(StartMessageMoveTaskCommand).rejects(Object.assign(new Error('Unknown action: StartMessageMoveTask'), { name: 'InvalidAction' }));
    sqsMock.on(ReceiveMessageCommand).resolvesOnce({ Messages: [message(1)] }).resolves({ Messages: [] });
    sqsMock.on(SendMessageBatchCommand).resolves({ Successful: [{ Id: '0', MessageId: 'new', MD5OfMessageBody: '' }], Failed: [] });
    sqsMock.on(DeleteMessageBatchCommand).resolves({ Successful: [{ Id: '0' }], Failed: [] });
    const result = await redriveDeadLetters({ sqs, deadLetterQueueUrl: DLQ, queueUrl: SOURCE, clock: fakeClock() });
    expect(result).toMatchObject({ method: 'receive-send-delete', moved: 1, fallbackReason: expect.stringContaining('Unknown action') });
    // Sent back without taskq.reason, marked as a redrive (its identity, and the clock's time).
    expect(sqsMock.commandCalls(SendMessageBatchCommand)[0]!.args[0].input.Entries![0]!.MessageAttributes).toEqual({
      taskType: { DataType: 'String', StringValue: 'a' },
      'taskq.redriveId': { DataType: 'String', StringValue: expect.stringMatching(/^(dead-letter|message):/) },
      'taskq.redrivenAt': { DataType: 'String', StringValue: new Date(1_000_000).toISOString() },
    });
  });

  it('is not used with --type, --max or --dry-run (it cannot filter or bound)', async () => {
    sqsMock.on(ReceiveMessageCommand).resolves({ Messages: [] });
    for (const extra of [{ type: 'a' }, { max: 2 }, { dryRun: true }]) {
      await redriveDeadLetters({ sqs, deadLetterQueueUrl: DLQ, queueUrl: SOURCE, clock: fakeClock(), ...extra });
    }
    expect(sqsMock.commandCalls(StartMessageMoveTaskCommand)).toHaveLength(0);
  });

  it('a fatal permission error stops at once and surfaces as access denied', async () => {
    sqsMock.on(StartMessageMoveTaskCommand).rejects(Object.assign(new Error('not authorized'), { name: 'AccessDenied' }));
    await expect(redriveDeadLetters({ sqs, deadLetterQueueUrl: DLQ, queueUrl: SOURCE, clock: fakeClock() })).rejects.toMatchObject({ code: 'ACCESS_DENIED', exitCode: 3 });
  });
});

describe('receive → send → delete', () => {
  it('--rate paces the sends: batches no larger than the rate, waits so the average stays under it', async () => {
    let n = 0;
    sqsMock.on(ReceiveMessageCommand).callsFake((input: { MaxNumberOfMessages: number }) => {
      const batch = [];
      for (let i = 0; i < input.MaxNumberOfMessages && n < 12; i++) batch.push(message(n++));
      return { Messages: batch };
    });
    sqsMock.on(SendMessageBatchCommand).callsFake((input: { Entries: { Id: string }[] }) => ({ Successful: input.Entries.map((e) => ({ Id: e.Id, MessageId: 'x', MD5OfMessageBody: '' })), Failed: [] }));
    sqsMock.on(DeleteMessageBatchCommand).callsFake((input: { Entries: { Id: string }[] }) => ({ Successful: input.Entries.map((e) => ({ Id: e.Id })), Failed: [] }));
    const clock = fakeClock();
    const start = clock.now();
    const result = await redriveDeadLetters({ sqs, deadLetterQueueUrl: DLQ, queueUrl: SOURCE, rate: 4, moveTask: 'never', clock });
    expect(result.moved).toBe(12);
    for (const call of sqsMock.commandCalls(ReceiveMessageCommand)) expect(call.args[0].input.MaxNumberOfMessages).toBeLessThanOrEqual(4);
    // 12 messages at 4/s: the last batch of 4 may go at t = 2 s (8 sent), so at least 2 s elapsed.
    expect(clock.now() - start).toBeGreaterThanOrEqual(2000);
    expect(clock.now() - start).toBeLessThan(3500);
  });

  it('a message whose send failed is never deleted, is made visible again, and is not retried in the same run', async () => {
    sqsMock.on(ReceiveMessageCommand).resolvesOnce({ Messages: [message(1), message(2)] }).resolvesOnce({ Messages: [message(1)] }).resolves({ Messages: [] });
    sqsMock.on(SendMessageBatchCommand).resolves({ Successful: [{ Id: '1', MessageId: 'x', MD5OfMessageBody: '' }], Failed: [{ Id: '0', Code: 'InternalError', SenderFault: false }] });
    sqsMock.on(DeleteMessageBatchCommand).resolves({ Successful: [{ Id: '0' }], Failed: [] });
    const result = await redriveDeadLetters({ sqs, deadLetterQueueUrl: DLQ, queueUrl: SOURCE, moveTask: 'never', clock: fakeClock() });
    expect(result).toMatchObject({ moved: 1, failed: 1 });
    expect(sqsMock.commandCalls(SendMessageBatchCommand)).toHaveLength(1);
    const deleted = sqsMock.commandCalls(DeleteMessageBatchCommand).flatMap((c) => c.args[0].input.Entries!.map((e) => e.ReceiptHandle));
    expect(deleted).toEqual(['rh-2']);
    const released = sqsMock.commandCalls(ChangeMessageVisibilityBatchCommand).flatMap((c) => c.args[0].input.Entries!.map((e) => [e.ReceiptHandle, e.VisibilityTimeout]));
    expect(released).toEqual([['rh-1', 0]]);
  });

  it('a delete that fails after a successful send is reported, and the message is never sent twice', async () => {
    sqsMock.on(ReceiveMessageCommand).resolvesOnce({ Messages: [message(1)] }).resolvesOnce({ Messages: [{ ...message(1), ReceiptHandle: 'rh-1b' }] }).resolves({ Messages: [] });
    sqsMock.on(SendMessageBatchCommand).resolves({ Successful: [{ Id: '0', MessageId: 'x', MD5OfMessageBody: '' }], Failed: [] });
    sqsMock.on(DeleteMessageBatchCommand).resolvesOnce({ Successful: [], Failed: [{ Id: '0', Code: 'InternalError', SenderFault: false }] }).resolves({ Successful: [{ Id: '0' }], Failed: [] });
    const result = await redriveDeadLetters({ sqs, deadLetterQueueUrl: DLQ, queueUrl: SOURCE, moveTask: 'never', clock: fakeClock() });
    expect(result).toMatchObject({ moved: 1, failed: 0, deleteFailed: 0 });
    expect(sqsMock.commandCalls(SendMessageBatchCommand)).toHaveLength(1);
    expect(sqsMock.commandCalls(DeleteMessageBatchCommand).map((c) => c.args[0].input.Entries![0]!.ReceiptHandle)).toEqual(['rh-1', 'rh-1b']);
  });

  it('stops when interrupted and still releases what it holds', async () => {
    const abort = new AbortController();
    sqsMock.on(ReceiveMessageCommand).callsFake(() => {
      abort.abort();
      return { Messages: [message(1, 'b')] };
    });
    const result = await redriveDeadLetters({ sqs, deadLetterQueueUrl: DLQ, queueUrl: SOURCE, type: 'a', clock: fakeClock(), signal: abort.signal });
    expect(result).toMatchObject({ stoppedBecause: 'interrupted', skipped: 1 });
    expect(sqsMock.commandCalls(ChangeMessageVisibilityBatchCommand)).toHaveLength(1);
  });

  it('rejects nonsense --max and --rate before any request', async () => {
    await expect(redriveDeadLetters({ sqs, deadLetterQueueUrl: DLQ, queueUrl: SOURCE, max: 0 })).rejects.toMatchObject({ code: 'USAGE' });
    await expect(redriveDeadLetters({ sqs, deadLetterQueueUrl: DLQ, queueUrl: SOURCE, rate: -1 })).rejects.toMatchObject({ code: 'USAGE' });
    await expect(redriveDeadLetters({ sqs, deadLetterQueueUrl: DLQ, queueUrl: `${SOURCE}.fifo` })).rejects.toMatchObject({ code: 'USAGE' });
    expect(sqsMock.calls()).toHaveLength(0);
  });
});

describe('chunkEntries', () => {
  it('splits by 10 entries and by 1 MiB, keeping order', () => {
    const small = Array.from({ length: 23 }, (_, i) => ({ Id: String(i), MessageBody: 'x' }));
    expect(chunkEntries(small).map((c) => c.length)).toEqual([10, 10, 3]);
    const big = Array.from({ length: 3 }, (_, i) => ({ Id: String(i), MessageBody: 'y'.repeat(600_000) }));
    const chunks = chunkEntries(big);
    expect(chunks.map((c) => c.map((e) => e.Id))).toEqual([['0'], ['1'], ['2']]);
  });
});
