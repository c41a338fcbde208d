/**
 * A task the limiter refuses goes back as a fresh copy (SendMessageBatch), not by a
 * visibility change, so that refusals never use up the receives the queue's redrive policy
 * allows: a refused task whose next receive falls in an invocation that dies is not moved to
 * the DLQ by SQS (docs/FLOW-CONTROL.md "Refusals and the redrive policy"). On fauxqs, whose
 * redrive policy moves a message received more than maxReceiveCount times.
 */
import { describe, expect, it } from 'vitest';
import { ChangeMessageVisibilityCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { createTestResources, testClients } from '../../support/aws.ts';
import { COPY_ATTRIBUTES, MESSAGE_ATTRIBUTES } from '../../../lib/protocol/attributes.ts';
import { consumer, envelope, fakeContext, invokeLikeLambda, receive, receiveEvent, sendTask, sleep, spy, taskRecord, toRecord } from '../runtime/helpers.ts';

const clients = testClients();

describe('limiter refusals and the redrive policy', () => {
  it('a task refused one receive before maxReceiveCount, whose next receive then dies, is re-sent and runs — never moved to the DLQ', async () => {
    const r = await createTestResources(clients, { visibilityTimeout: 2, maxReceiveCount: 3 });
    let runs = 0;
    // One start per 4 s: the filler takes the token, the task is refused for about 4 s.
    const definitions = { call_api: { rateLimit: { perSecond: 0.25, burst: 1, maxHoldMs: 0 }, handler: () => void runs++ } };
    const { handler } = consumer(r, clients, definitions, { maxReceiveCount: 3 });
    await sendTask(clients.sqs, r.queueUrl, envelope('call_api', { filler: true }));
    await invokeLikeLambda(clients.sqs, r.queueUrl, handler, await receiveEvent(clients.sqs, r));
    expect(runs).toBe(1);

    const task = envelope('call_api', { n: 1 });
    await sendTask(clients.sqs, r.queueUrl, task);
    // An earlier receive that went back (a crash, a fault): the next is the task's second of three.
    const [first] = await receive(clients.sqs, r.queueUrl, 1, 2);
    await clients.sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: r.queueUrl, ReceiptHandle: first!.ReceiptHandle!, VisibilityTimeout: 0 }));
    const second = await receiveEvent(clients.sqs, r, 1, 2);
    expect(second.Records[0]!.attributes.ApproximateReceiveCount).toBe('2');
    const sqsCalls = spy(clients.sqs);
    const refused = await invokeLikeLambda(clients.sqs, r.queueUrl, handler, second);
    expect(runs).toBe(1);

    // The next receive's invocation dies: nothing deleted, nothing changed; the message comes back after the visibility timeout.
    const crashed = await receive(clients.sqs, r.queueUrl, 1, 8);
    expect(crashed).toHaveLength(1);
    await sleep(2500);
    // Then a consumer that lives: the bucket has a token again.
    for (let i = 0; i < 10 && runs < 2; i++) {
      const event = await receiveEvent(clients.sqs, r, 1, 2);
      if (event.Records.length > 0) await invokeLikeLambda(clients.sqs, r.queueUrl, handler, event);
    }
    expect(await receive(clients.sqs, r.deadLetterQueueUrl, 10, 1), 'moved to the DLQ by the redrive policy').toHaveLength(0);
    expect(runs).toBe(2);
    expect(await taskRecord(clients.dynamo, r.tableName, task.id)).toMatchObject({ status: 'SUCCEEDED', attempts: 1 });
    // The refused record was acknowledged, a fresh copy (receive count 1 when the crash took it) carrying the task on.
    expect(refused.batchItemFailures).toEqual([]);
    expect(crashed[0]!.Attributes?.ApproximateReceiveCount).toBe('1');
    const batches = sqsCalls.filter((c) => c.name === 'SendMessageBatchCommand');
    expect(batches).toHaveLength(1);
    // The earlier receive (a fault) still counts toward the bound on returns without an attempt; the refused one does not.
    expect(batches[0]!.input.Entries[0].MessageAttributes[COPY_ATTRIBUTES.priorReceives].StringValue).toBe('1');
    expect(sqsCalls.some((c) => c.name === 'ChangeMessageVisibilityBatchCommand')).toBe(false);
  }, 60_000);

  it('re-sends a batch of refusals ten per SendMessageBatch, each copy with its body, attributes and message group (tenant), its refused receive not counted', async () => {
    const r = await createTestResources(clients, { visibilityTimeout: 30, maxReceiveCount: 5 });
    let runs = 0;
    const definitions = { call_api: { rateLimit: { perSecond: 0.1, burst: 1, maxHoldMs: 0 }, handler: () => void runs++ } };
    const { handler } = consumer(r, clients, definitions, { maxReceiveCount: 5 });
    const sent = new Map<string, string>();
    for (let i = 0; i < 12; i++) {
      const e = envelope('call_api', { n: i });
      sent.set(e.id, `tenant-${i % 3}`);
      await clients.sqs.send(
        new SendMessageCommand({
          QueueUrl: r.queueUrl,
          MessageBody: JSON.stringify(e),
          MessageGroupId: `tenant-${i % 3}`,
          MessageAttributes: { [MESSAGE_ATTRIBUTES.taskType]: { DataType: 'String', StringValue: 'call_api' } },
        }),
      );
    }
    const records = (await receive(clients.sqs, r.queueUrl, 12, 3)).map((m) => toRecord(m, r.queueArn));
    expect(records).toHaveLength(12);
    // The event as Lambda would give it (the receive above carried fauxqs's group ids, if any: the copy must keep what the record has).
    for (const rec of records) rec.attributes.MessageGroupId = sent.get(JSON.parse(rec.body).id);
    const sqsCalls = spy(clients.sqs);
    const response = await invokeLikeLambda(clients.sqs, r.queueUrl, handler, { Records: records }, fakeContext(30_000));
    expect(runs).toBe(1);
    expect(response.batchItemFailures).toEqual([]);
    const batches = sqsCalls.filter((c) => c.name === 'SendMessageBatchCommand');
    expect(batches.map((b) => b.input.Entries.length).sort()).toEqual([1, 10]);
    const entries = batches.flatMap((b) => b.input.Entries);
    for (const entry of entries) {
      const body = JSON.parse(entry.MessageBody);
      expect(entry.MessageGroupId).toBe(sent.get(body.id));
      expect(entry.MessageAttributes[MESSAGE_ATTRIBUTES.taskType].StringValue).toBe('call_api');
      // The refusal's own receive is not carried (it was each record's first): no bound is neared by the limiter.
      expect(entry.MessageAttributes[COPY_ATTRIBUTES.priorReceives]).toBeUndefined();
      expect(entry.DelaySeconds).toBeGreaterThanOrEqual(1);
      expect(entry.DelaySeconds).toBeLessThanOrEqual(900);
    }
    // Eleven copies are on the queue (delayed), the originals are gone.
    expect(new Set(entries.map((e) => JSON.parse(e.MessageBody).id)).size).toBe(11);
  }, 60_000);
});
