import { describe, expect, it } from 'vitest';
import { GetQueueAttributesCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { createTestResources, testClients } from '../../support/aws.ts';
import { putDeadLetter, operator } from './helpers.ts';

describe('dlq peek', () => {
  it('shows reason, attempts, type, task id, age and last error — and the messages are visible again at once', async () => {
    const { sqs } = testClients();
    const r = await createTestResources();
    const createdAt = new Date(Date.now() - 90_000).toISOString();
    const a = await putDeadLetter(sqs, r.deadLetterQueueUrl, { type: 'send_email', reason: 'schema-violation', attempts: 1, lastError: 'to: must be an email', createdAt, payload: { secret: 'card-4242' } });
    const b = await putDeadLetter(sqs, r.deadLetterQueueUrl, { type: 'charge', reason: 'attempts-exhausted', attempts: 5, lastError: 'HTTP 503' });

    const first = await operator.peekDeadLetters({ sqs, deadLetterQueueUrl: r.deadLetterQueueUrl });
    expect(first.messages).toHaveLength(2);
    const byTask = new Map(first.messages.map((m) => [m.taskId, m]));
    expect(byTask.get(a.taskId)).toMatchObject({ type: 'send_email', reason: 'schema-violation', attempts: 1, lastError: 'to: must be an email', createdAt });
    expect(byTask.get(a.taskId)!.ageSeconds).toBeGreaterThanOrEqual(89);
    expect(byTask.get(b.taskId)).toMatchObject({ type: 'charge', reason: 'attempts-exhausted', attempts: 5, lastError: 'HTTP 503' });
    // The payload is never shown unless asked for.
    expect(JSON.stringify(first)).not.toContain('card-4242');
    expect(first.notReleased).toEqual([]);

    // Visible again right away: nothing in flight, and a second peek sees the same messages.
    const attrs = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: r.deadLetterQueueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }));
    expect(attrs.Attributes).toMatchObject({ ApproximateNumberOfMessages: '2', ApproximateNumberOfMessagesNotVisible: '0' });
    const second = await operator.peekDeadLetters({ sqs, deadLetterQueueUrl: r.deadLetterQueueUrl, showBody: true });
    expect(second.messages.map((m) => m.taskId).sort()).toEqual([a.taskId, b.taskId].sort());
    expect(second.messages.find((m) => m.taskId === a.taskId)!.body).toBe(a.body);
  });

  it('--max bounds the listing (more than one receive batch) and still releases everything', async () => {
    const { sqs } = testClients();
    const r = await createTestResources();
    for (let i = 0; i < 14; i++) await putDeadLetter(sqs, r.deadLetterQueueUrl, { type: 't' });
    const peek = await operator.peekDeadLetters({ sqs, deadLetterQueueUrl: r.deadLetterQueueUrl, max: 12 });
    expect(peek.messages).toHaveLength(12);
    expect(new Set(peek.messages.map((m) => m.messageId)).size).toBe(12);
    const attrs = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: r.deadLetterQueueUrl, AttributeNames: ['ApproximateNumberOfMessagesNotVisible'] }));
    expect(attrs.Attributes!.ApproximateNumberOfMessagesNotVisible).toBe('0');
  });

  it('a message moved by the redrive policy (no dead-letter attributes) shows its type and id from the envelope, reason null', async () => {
    const { sqs } = testClients();
    const r = await createTestResources();
    const body = JSON.stringify({ v: 1, id: 'tsk_plain', type: 'resize', payload: {}, createdAt: new Date().toISOString() });
    await sqs.send(new SendMessageCommand({ QueueUrl: r.deadLetterQueueUrl, MessageBody: body }));
    const peek = await operator.peekDeadLetters({ sqs, deadLetterQueueUrl: r.deadLetterQueueUrl });
    expect(peek.messages[0]).toMatchObject({ taskId: 'tsk_plain', type: 'resize', reason: null, attempts: null, lastError: null });
  });

  it('an empty DLQ peeks as empty', async () => {
    const { sqs } = testClients();
    const r = await createTestResources();
    expect((await operator.peekDeadLetters({ sqs, deadLetterQueueUrl: r.deadLetterQueueUrl })).messages).toEqual([]);
  });
});
