/**
 * The SQS limits the local system and the tests hold the code to, over the wire: those fauxqs
 * enforces itself and those lib/local/sqs-limits.ts adds in front of it (the 12-hour total
 * visibility from the receive, per-message DelaySeconds). Each check would let the runtime
 * pass here and fail in AWS if it were missing.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import {
  ChangeMessageVisibilityBatchCommand,
  ChangeMessageVisibilityCommand,
  CreateQueueCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
} from '@aws-sdk/client-sqs';
import { testClients, uniqueName } from '../../support/aws.ts';
import { ReceiveTimes } from '../../../lib/local/sqs-limits.ts';

const { sqs } = testClients();
let queueUrl: string;

async function receiveOne(): Promise<string> {
  await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'x' }));
  const r = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 1, WaitTimeSeconds: 1 }));
  return r.Messages![0]!.ReceiptHandle!;
}

beforeAll(async () => {
  queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: uniqueName('limits') }))).QueueUrl!;
});

describe('total visibility ≤ 12 h from the receive (added in front of fauxqs)', () => {
  it('refuses 43,200 s asked after the receive, and accepts what is left', async () => {
    const handle = await receiveOne();
    await expect(sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: queueUrl, ReceiptHandle: handle, VisibilityTimeout: 43_200 }))).rejects.toMatchObject({
      name: 'InvalidParameterValue',
      message: expect.stringContaining('Total VisibilityTimeout'),
    });
    await expect(sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: queueUrl, ReceiptHandle: handle, VisibilityTimeout: 43_000 }))).resolves.toBeDefined();
  });

  it('counts from the receive, not from the last change', async () => {
    const handle = await receiveOne();
    await new Promise((r) => setTimeout(r, 1100));
    await expect(sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: queueUrl, ReceiptHandle: handle, VisibilityTimeout: 43_199 }))).rejects.toMatchObject({
      name: 'InvalidParameterValue',
    });
    await expect(sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: queueUrl, ReceiptHandle: handle, VisibilityTimeout: 43_197 }))).resolves.toBeDefined();
  });

  it('fails only the offending entry of a batch', async () => {
    const [a, b] = [await receiveOne(), await receiveOne()];
    const r = await sqs.send(
      new ChangeMessageVisibilityBatchCommand({
        QueueUrl: queueUrl,
        Entries: [
          { Id: 'too-long', ReceiptHandle: a, VisibilityTimeout: 43_200 },
          { Id: 'fine', ReceiptHandle: b, VisibilityTimeout: 60 },
        ],
      }),
    );
    expect(r.Successful?.map((s) => s.Id)).toEqual(['fine']);
    expect(r.Failed).toEqual([expect.objectContaining({ Id: 'too-long', Code: 'InvalidParameterValue', SenderFault: true })]);
  });

  it('answers a batch whose every entry breaks the limit with per-entry failures', async () => {
    const a = await receiveOne();
    const r = await sqs.send(new ChangeMessageVisibilityBatchCommand({ QueueUrl: queueUrl, Entries: [{ Id: '1', ReceiptHandle: a, VisibilityTimeout: 43_200 }] }));
    expect(r.Successful ?? []).toEqual([]);
    expect(r.Failed?.map((f) => f.Id)).toEqual(['1']);
  });

  it('ReceiveTimes: what is left shrinks with the time since the receive', () => {
    let now = 1_000_000;
    const times = new ReceiveTimes(() => now);
    times.record('h');
    expect(times.secondsLeft('h')).toBe(43_200);
    now += 3_600_000;
    expect(times.secondsLeft('h')).toBe(39_600);
    times.forget('h');
    expect(times.secondsLeft('h')).toBeUndefined();
  });
});

describe('per-message DelaySeconds 0–900 (added in front of fauxqs)', () => {
  it('refuses SendMessage with DelaySeconds 901', async () => {
    await expect(sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'x', DelaySeconds: 901 }))).rejects.toMatchObject({ name: 'InvalidParameterValue' });
    await expect(sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'x', DelaySeconds: 900 }))).resolves.toBeDefined();
  });

  it('fails only the entry with DelaySeconds 901 in a batch', async () => {
    const r = await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: [
          { Id: 'late', MessageBody: 'x', DelaySeconds: 901 },
          { Id: 'ok', MessageBody: 'y', DelaySeconds: 0 },
        ],
      }),
    );
    expect(r.Successful?.map((s) => s.Id)).toEqual(['ok']);
    expect(r.Failed).toEqual([expect.objectContaining({ Id: 'late', Code: 'InvalidParameterValue' })]);
  });
});

describe('limits fauxqs enforces itself (or both)', () => {
  it('a visibility above 43,200 s in one call', async () => {
    const handle = await receiveOne();
    await expect(sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: queueUrl, ReceiptHandle: handle, VisibilityTimeout: 43_201 }))).rejects.toMatchObject({
      name: 'InvalidParameterValue',
    });
  });

  it('more than 10 entries in a batch', async () => {
    const Entries = Array.from({ length: 11 }, (_, i) => ({ Id: String(i), MessageBody: 'x' }));
    await expect(sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries }))).rejects.toMatchObject({ name: 'TooManyEntriesInBatchRequest' });
  });

  it('a batch above 1 MiB in total, and a message above 1 MiB', async () => {
    const half = 'x'.repeat(600_000);
    await expect(
      sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: [{ Id: 'a', MessageBody: half }, { Id: 'b', MessageBody: half }] })),
    ).rejects.toMatchObject({ name: 'BatchRequestTooLong' });
    await expect(sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'x'.repeat(1_048_577) }))).rejects.toMatchObject({ name: expect.stringContaining('InvalidParameterValue') });
  });
});
