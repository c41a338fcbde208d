import { describe, expect, it } from 'vitest';
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
  StartMessageMoveTaskCommand,
} from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { createTestResources, testClients } from '../../support/aws.ts';
import { registerAbsent } from '../../support/iam/resource-roles.ts';
import { asPrincipal } from '../../support/iam/principals.ts';
import { DEAD_LETTER_ATTRIBUTES, MESSAGE_ATTRIBUTES, REDRIVE_ATTRIBUTES } from '../../../lib/protocol/attributes.ts';
import { putDeadLetter, taskIds, visibleMessages, operator } from './helpers.ts';

const DEAD_LETTER_NAMES = Object.values(DEAD_LETTER_ATTRIBUTES);

/** A client whose calls go to the emulator, except those a test overrides. */
function passthroughClient(real: SQSClient) {
  const client = new SQSClient({ region: 'us-east-1' });
  const mock = mockClient(client);
  for (const Command of [ReceiveMessageCommand, ChangeMessageVisibilityBatchCommand, DeleteMessageBatchCommand, GetQueueAttributesCommand, SendMessageBatchCommand, StartMessageMoveTaskCommand]) {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    mock.on(Command as any).callsFake((input: any) => real.send(new (Command as any)(input)));
  }
  return { client, mock };
}

describe('dlq redrive (receive → send → delete against fauxqs)', () => {
  it('moves every message back with its body intact, the dead-letter attributes removed and taskq.redrivenAt set', async () => {
    const { sqs } = testClients();
    const r = await createTestResources();
    const put = [];
    for (let i = 0; i < 13; i++) {
      put.push(
        await putDeadLetter(sqs, r.deadLetterQueueUrl, {
          type: i % 2 ? 'send_email' : 'charge',
          payload: { i, text: `héllo ${i} ✓` },
          extraAttributes: { producerTag: { DataType: 'String', StringValue: `tag-${i}` } },
        }),
      );
    }
    const before = Date.now();
    const result = await operator.redriveDeadLetters({ sqs, deadLetterQueueUrl: r.deadLetterQueueUrl, queueUrl: r.queueUrl });

    // fauxqs has no StartMessageMoveTask: the fallback ran, and said why.
    expect(result.method).toBe('receive-send-delete');
    expect(result.fallbackReason).toMatch(/StartMessageMoveTask/);
    expect(result).toMatchObject({ moved: 13, skipped: 0, failed: 0, deleteFailed: 0, stoppedBecause: 'empty' });
    expect(result.byType).toEqual({ charge: 7, send_email: 6 });

    expect(await visibleMessages(sqs, r.deadLetterQueueUrl)).toHaveLength(0);
    const back = await visibleMessages(sqs, r.queueUrl);
    expect(back).toHaveLength(13);
    const bodies = new Map(back.map((m) => [m.MessageAttributes![MESSAGE_ATTRIBUTES.taskId]!.StringValue!, m]));
    for (const p of put) {
      const m = bodies.get(p.taskId)!;
      expect(m.Body).toBe(p.body);
      for (const name of DEAD_LETTER_NAMES) expect(m.MessageAttributes).not.toHaveProperty(name);
      // The mark that lets the consumer run a DEAD_LETTERED task again (a plain leftover copy would not).
      const redrivenAt = Date.parse(m.MessageAttributes![REDRIVE_ATTRIBUTES.redrivenAt]!.StringValue!);
      expect(redrivenAt).toBeGreaterThanOrEqual(before - 1000);
      expect(redrivenAt).toBeLessThanOrEqual(Date.now());
      expect(m.MessageAttributes![MESSAGE_ATTRIBUTES.taskType]!.StringValue).toBe(JSON.parse(p.body).type);
      expect(m.MessageAttributes!.producerTag!.StringValue).toMatch(/^tag-\d+$/);
    }
  });

  it('moves only what was in the DLQ at the start: a redriven task that fails again while the redrive runs stays there', async () => {
    const { sqs } = testClients();
    const r = await createTestResources();
    const poison = await putDeadLetter(sqs, r.deadLetterQueueUrl, { type: 'charge', reason: 'permanent-error' });
    await new Promise((resolve) => setTimeout(resolve, 5));
    // A consumer that dead-letters the poison task again as soon as it is back (at most 5 times).
    const { client, mock } = passthroughClient(sqs);
    let bounced = 0;
    mock.on(SendMessageBatchCommand).callsFake(async (input) => {
      const result = await sqs.send(new SendMessageBatchCommand(input));
      if (bounced < 5) {
        bounced += 1;
        // The consumer's call, not the operator's (this runs inside the redrive).
        await asPrincipal('consumer', () => putDeadLetter(sqs, r.deadLetterQueueUrl, { type: 'charge', taskId: poison.taskId, reason: 'permanent-error' }));
      }
      return result;
    });
    const result = await operator.redriveDeadLetters({ sqs: client, deadLetterQueueUrl: r.deadLetterQueueUrl, queueUrl: r.queueUrl, moveTask: 'never' });
    expect(result).toMatchObject({ moved: 1, arrivedDuringRun: 1, failed: 0, stoppedBecause: 'empty' });
    expect(bounced).toBe(1);
    expect(taskIds(await visibleMessages(sqs, r.deadLetterQueueUrl))).toEqual([poison.taskId]);
  });

  it('--type moves only that type and leaves the others in the DLQ, visible at once', async () => {
    const { sqs } = testClients();
    const r = await createTestResources();
    const emails = [];
    const charges = [];
    for (let i = 0; i < 6; i++) emails.push(await putDeadLetter(sqs, r.deadLetterQueueUrl, { type: 'send_email' }));
    for (let i = 0; i < 9; i++) charges.push(await putDeadLetter(sqs, r.deadLetterQueueUrl, { type: 'charge' }));

    const result = await operator.redriveDeadLetters({ sqs, deadLetterQueueUrl: r.deadLetterQueueUrl, queueUrl: r.queueUrl, type: 'send_email' });
    expect(result).toMatchObject({ method: 'receive-send-delete', moved: 6, skipped: 9, failed: 0 });
    expect(result.notReleased).toEqual([]);

    // Right after the run (no waiting for a visibility timeout) the skipped ones are receivable.
    const attrs = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: r.deadLetterQueueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }));
    expect(attrs.Attributes).toMatchObject({ ApproximateNumberOfMessages: '9', ApproximateNumberOfMessagesNotVisible: '0' });
    expect(taskIds(await visibleMessages(sqs, r.deadLetterQueueUrl))).toEqual(charges.map((c) => c.taskId).sort());
    expect(taskIds(await visibleMessages(sqs, r.queueUrl))).toEqual(emails.map((e) => e.taskId).sort());
  });

  it('--max bounds the number moved; nothing is lost or duplicated across both queues', async () => {
    const { sqs } = testClients();
    const r = await createTestResources();
    const all = [];
    for (let i = 0; i < 12; i++) all.push(await putDeadLetter(sqs, r.deadLetterQueueUrl, { type: i < 8 ? 'a' : 'b' }));

    const first = await operator.redriveDeadLetters({ sqs, deadLetterQueueUrl: r.deadLetterQueueUrl, queueUrl: r.queueUrl, max: 5 });
    expect(first).toMatchObject({ moved: 5, stoppedBecause: 'max' });
    const second = await operator.redriveDeadLetters({ sqs, deadLetterQueueUrl: r.deadLetterQueueUrl, queueUrl: r.queueUrl, type: 'a', max: 100 });
    const source = await visibleMessages(sqs, r.queueUrl);
    const dlq = await visibleMessages(sqs, r.deadLetterQueueUrl);
    expect(source).toHaveLength(5 + second.moved);
    // Every task id exactly once, in one of the two queues.
    expect([...taskIds(source), ...taskIds(dlq)].sort()).toEqual(all.map((a) => a.taskId).sort());
    expect(new Set(taskIds(source)).size).toBe(source.length);
    // After both runs only type b can remain in the DLQ.
    expect(dlq.every((m) => m.MessageAttributes![MESSAGE_ATTRIBUTES.taskType]!.StringValue === 'b')).toBe(true);
  });

  it('--dry-run counts per type and moves nothing', async () => {
    const { sqs } = testClients();
    const r = await createTestResources();
    for (let i = 0; i < 4; i++) await putDeadLetter(sqs, r.deadLetterQueueUrl, { type: i < 3 ? 'a' : 'b' });
    const result = await operator.redriveDeadLetters({ sqs, deadLetterQueueUrl: r.deadLetterQueueUrl, queueUrl: r.queueUrl, dryRun: true });
    expect(result).toMatchObject({ dryRun: true, moved: 4, byType: { a: 3, b: 1 } });
    expect(await visibleMessages(sqs, r.queueUrl)).toHaveLength(0);
    expect(await visibleMessages(sqs, r.deadLetterQueueUrl)).toHaveLength(4);
  });

  it('deletes from the DLQ only after the send succeeded: a failing SendMessageBatch leaves the message there, counted failed', async () => {
    const { sqs } = testClients();
    const r = await createTestResources();
    const put = await putDeadLetter(sqs, r.deadLetterQueueUrl, { type: 'a' });
    const { client, mock } = passthroughClient(sqs);
    mock.on(SendMessageBatchCommand).rejects(Object.assign(new Error('We encountered an internal error'), { name: 'InternalError' }));

    const result = await operator.redriveDeadLetters({ sqs: client, deadLetterQueueUrl: r.deadLetterQueueUrl, queueUrl: r.queueUrl, moveTask: 'never' });
    expect(result).toMatchObject({ moved: 0, failed: 1 });
    expect(result.failures[0]).toMatchObject({ taskId: put.taskId, type: 'a' });
    expect(mock.commandCalls(DeleteMessageBatchCommand)).toHaveLength(0);
    // Still in the DLQ, visible again at once, untouched.
    const dlq = await visibleMessages(sqs, r.deadLetterQueueUrl);
    expect(dlq.map((m) => m.Body)).toEqual([put.body]);
    expect(await visibleMessages(sqs, r.queueUrl)).toHaveLength(0);
  });

  it('a partial batch failure deletes only the entries SQS accepted', async () => {
    const { sqs } = testClients();
    const r = await createTestResources();
    const put = [];
    for (let i = 0; i < 3; i++) put.push(await putDeadLetter(sqs, r.deadLetterQueueUrl, { type: 'a' }));
    const doomed = put[1]!.taskId;
    const { client, mock } = passthroughClient(sqs);
    // The send of one entry fails; the others really reach the source queue.
    mock.on(SendMessageBatchCommand).callsFake(async (input: { QueueUrl: string; Entries: { Id: string; MessageBody: string }[] }) => {
      const keep = input.Entries.filter((e) => !e.MessageBody.includes(doomed));
      const out = await sqs.send(new SendMessageBatchCommand({ ...input, Entries: keep } as never));
      const lost = input.Entries.filter((e) => e.MessageBody.includes(doomed));
      return { Successful: out.Successful ?? [], Failed: lost.map((e) => ({ Id: e.Id, Code: 'KMS.ThrottlingException', SenderFault: false, Message: 'throttled' })) };
    });

    const result = await operator.redriveDeadLetters({ sqs: client, deadLetterQueueUrl: r.deadLetterQueueUrl, queueUrl: r.queueUrl, moveTask: 'never' });
    expect(result).toMatchObject({ moved: 2, failed: 1 });
    expect(result.failures).toEqual([expect.objectContaining({ taskId: doomed, error: expect.stringContaining('KMS.ThrottlingException') })]);
    expect(taskIds(await visibleMessages(sqs, r.deadLetterQueueUrl))).toEqual([doomed]);
    expect(taskIds(await visibleMessages(sqs, r.queueUrl))).toEqual(put.filter((p) => p.taskId !== doomed).map((p) => p.taskId).sort());
  });

  it('FIFO: keeps the message group and never loses a message to deduplication', async () => {
    const { sqs } = testClients();
    const r = await createTestResources(undefined, { fifo: true });
    // The task went through the source queue moments ago with dedup id "order-1"…
    await sqs.send(new SendMessageCommand({ QueueUrl: r.queueUrl, MessageBody: 'first', MessageGroupId: 'g1', MessageDeduplicationId: 'order-1' }));
    const got = await sqs.send(new ReceiveMessageCommand({ QueueUrl: r.queueUrl, WaitTimeSeconds: 1 }));
    await sqs.send(new DeleteMessageCommand({ QueueUrl: r.queueUrl, ReceiptHandle: got.Messages![0]!.ReceiptHandle! }));
    // …and was dead-lettered with the same dedup id. Reusing it on the redrive would be silently dropped.
    const put = await putDeadLetter(sqs, r.deadLetterQueueUrl, { type: 'a', groupId: 'g1', deduplicationId: 'order-1' });

    const result = await operator.redriveDeadLetters({ sqs, deadLetterQueueUrl: r.deadLetterQueueUrl, queueUrl: r.queueUrl });
    expect(result).toMatchObject({ moved: 1, failed: 0 });
    const back = await sqs.send(new ReceiveMessageCommand({ QueueUrl: r.queueUrl, WaitTimeSeconds: 1, MessageSystemAttributeNames: ['All'] }));
    expect(back.Messages?.map((m) => m.Body)).toEqual([put.body]);
    expect(back.Messages![0]!.Attributes!.MessageGroupId).toBe('g1');
  });

  it('refuses a DLQ/destination mismatch before touching anything', async () => {
    const { sqs } = testClients();
    const r = await createTestResources();
    registerAbsent('queue', `${r.queueUrl}-nope`);
    await expect(operator.redriveDeadLetters({ sqs, deadLetterQueueUrl: r.deadLetterQueueUrl, queueUrl: r.deadLetterQueueUrl })).rejects.toMatchObject({ code: 'USAGE' });
    await expect(operator.redriveDeadLetters({ sqs, deadLetterQueueUrl: r.deadLetterQueueUrl, queueUrl: `${r.queueUrl}-nope` })).rejects.toMatchObject({ code: 'QUEUE_NOT_FOUND', exitCode: 2 });
  });
});
