/**
 * TaskProducer against the emulators over the wire (fauxqs for SQS and S3, DynamoDB Local),
 * with the real SDK clients. Requests are counted with an SDK middleware.
 */
import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type Message,
  type SQSClient,
  type SendMessageBatchRequestEntry,
} from '@aws-sdk/client-sqs';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { ROUTING_ATTRIBUTE, ROUTING_ITEM_KEY } from '../../../lib/protocol/lanes.ts';
import { TABLE_SCHEMA } from '../../../lib/protocol/resources.ts';
import { TaskProducer, type TaskProducerConfig } from '../../../lib/client/index.ts';
import {
  BackpressureError,
  EXTENDED_CLIENT_SIZE_ATTRIBUTE,
  SQS_BATCH_MAX_BYTES,
  TaskValidationError,
  decodeEnvelope,
  decodeExtendedClientPointer,
  looksLikeExtendedClientPointer,
  type TaskRecord,
} from '../../../lib/protocol/index.ts';
import { createTestResources, testClients, type TestResources } from '../../support/aws.ts';
import { actingAs } from '../../support/iam/principals.ts';

interface Recorded {
  command: string;
  input: Record<string, unknown>;
}

/** Real clients whose SQS requests are recorded (command name and input) by a middleware. */
function recordingClients() {
  const clients = testClients();
  const requests: Recorded[] = [];
  clients.sqs.middlewareStack.add(
    (next, context) => async (args) => {
      requests.push({ command: String(context.commandName).replace(/Command$/, ''), input: args.input as Record<string, unknown> });
      return next(args);
    },
    { step: 'initialize', name: 'recordRequests' },
  );
  const count = (command: string) => requests.filter((r) => r.command === command).length;
  return { ...clients, requests, count };
}

/** Receives until `expected` messages arrived. `deleteEach`: delete them (a FIFO group delivers its next message only then). */
async function receiveAll(sqs: SQSClient, queueUrl: string, expected: number, timeoutMs = 10_000, deleteEach = false): Promise<Message[]> {
  const messages: Message[] = [];
  const deadline = Date.now() + timeoutMs;
  while (messages.length < expected && Date.now() < deadline) {
    const out = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 1,
        MessageAttributeNames: ['All'],
        MessageSystemAttributeNames: ['All'],
        VisibilityTimeout: 300,
      }),
    );
    messages.push(...(out.Messages ?? []));
    if (deleteEach) {
      for (const m of out.Messages ?? []) await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: m.ReceiptHandle! }));
    }
  }
  return messages;
}

async function queueCounts(sqs: SQSClient, queueUrl: string) {
  const out = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['All'] }));
  return {
    visible: Number(out.Attributes?.ApproximateNumberOfMessages),
    delayed: Number(out.Attributes?.ApproximateNumberOfMessagesDelayed),
  };
}

/**
 * A producer on the test resources; requests recorded from here on are the producer's. It
 * acts as the producer role (grantSend + grantStatusRead): every AWS call it makes is
 * evaluated against the synthesized stack's policies.
 */
function makeProducer(c: ReturnType<typeof recordingClients>, r: TestResources, extra: Partial<TaskProducerConfig> = {}) {
  c.requests.length = 0;
  return actingAs('producer', new TaskProducer({ queueUrl: r.queueUrl, sqs: c.sqs, s3: c.s3, dynamo: c.dynamo, bucketName: r.bucketName, tableName: r.tableName, ...extra }));
}

describe('send', () => {
  it('puts the envelope and its attributes on the queue', async () => {
    const c = recordingClients();
    const r = await createTestResources(c);
    const producer = makeProducer(c, r);
    const sent = await producer.send('send_email', { to: 'a@example.com', note: 'ünïcode \uFFFF' }, { idempotencyKey: 'order-42' });
    expect(sent).toMatchObject({ status: 'accepted', idempotencyKey: 'order-42' });
    expect(sent.taskId).toMatch(/^tsk_[0-9a-f]{32}$/);

    const [message] = await receiveAll(c.sqs, r.queueUrl, 1);
    const envelope = decodeEnvelope(message!.Body!);
    expect(envelope).toMatchObject({ v: 1, id: sent.taskId, type: 'send_email', idempotencyKey: 'order-42', payload: { to: 'a@example.com', note: 'ünïcode \uFFFF' } });
    expect(Date.now() - Date.parse(envelope.createdAt)).toBeLessThan(60_000);
    expect(envelope.payloadRef).toBeUndefined();
    expect(message!.MessageAttributes).toEqual({
      taskType: { DataType: 'String', StringValue: 'send_email' },
      taskId: { DataType: 'String', StringValue: sent.taskId },
    });
    expect(c.count('SendMessage')).toBe(1);
  });

  it('honours delaySeconds: the message is invisible until then', async () => {
    const c = recordingClients();
    const r = await createTestResources(c);
    const producer = makeProducer(c, r);
    const started = Date.now();
    const { taskId } = await producer.send('t', { n: 1 }, { delaySeconds: 2 });
    expect(await queueCounts(c.sqs, r.queueUrl)).toEqual({ visible: 0, delayed: 1 });
    const early = await c.sqs.send(new ReceiveMessageCommand({ QueueUrl: r.queueUrl, WaitTimeSeconds: 0 }));
    expect(early.Messages ?? []).toHaveLength(0);
    const [message] = await receiveAll(c.sqs, r.queueUrl, 1);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1900);
    expect(decodeEnvelope(message!.Body!).id).toBe(taskId);
  });

  it('a delay beyond 15 minutes sets notBefore and sends with DelaySeconds 900', async () => {
    const c = recordingClients();
    const r = await createTestResources(c);
    const now = Date.parse('2026-11-28T12:00:00.000Z');
    const producer = makeProducer(c, r, { now: () => now });
    const runAt = new Date(now + 6 * 3600_000);
    await producer.send('report', { id: 7 }, { runAt });
    const send = c.requests.find((q) => q.command === 'SendMessage')!;
    expect(send.input.DelaySeconds).toBe(900);
    expect(decodeEnvelope(send.input.MessageBody as string).notBefore).toBe(runAt.toISOString());
    expect(await queueCounts(c.sqs, r.queueUrl)).toEqual({ visible: 0, delayed: 1 });
  });

  it('sends nothing for bad input', async () => {
    const c = recordingClients();
    const r = await createTestResources(c);
    const producer = makeProducer(c, r, { maxPayloadBytes: 100 });
    const attempts: Promise<unknown>[] = [
      producer.send('', {}),
      producer.send('t', undefined),
      producer.send('t', 'x'.repeat(200)),
      producer.send('t', {}, { delaySeconds: 1000 }),
      producer.send('t', {}, { taskId: 'a/b' }),
    ];
    for (const attempt of attempts) await expect(attempt).rejects.toBeInstanceOf(TaskValidationError);
    expect(c.requests).toHaveLength(0);
    expect(await queueCounts(c.sqs, r.queueUrl)).toEqual({ visible: 0, delayed: 0 });
  });
});

describe('sendBatch', () => {
  it('sends 25 mixed-size tasks in the fewest SendMessageBatch requests, each ≤ 1 MiB', async () => {
    const c = recordingClients();
    const r = await createTestResources(c);
    const producer = makeProducer(c, r);
    const tasks = Array.from({ length: 25 }, (_, i) => ({
      type: 'mixed',
      // Five 300 KiB tasks among the first ten: ten in input order would be 1.5 MiB, too much for one request.
      payload: { i, blob: i % 2 === 0 && i < 10 ? 'L'.repeat(300 * 1024) : 's'.repeat(100 + i) },
    }));
    const results = await producer.sendBatch(tasks);
    expect(results.every((x) => x.ok)).toBe(true);

    const batches = c.requests.filter((q) => q.command === 'SendMessageBatch');
    // 25 entries need ≥ 3 requests by count; 5 × 300 KiB need ≥ 2 by size: 3 is optimal.
    expect(batches).toHaveLength(3);
    for (const b of batches) {
      const entries = b.input.Entries as SendMessageBatchRequestEntry[];
      expect(entries.length).toBeLessThanOrEqual(10);
      const bytes = entries.reduce((sum, e) => {
        let size = Buffer.byteLength(e.MessageBody!);
        for (const [name, a] of Object.entries(e.MessageAttributes ?? {})) size += Buffer.byteLength(name) + Buffer.byteLength(a.DataType!) + Buffer.byteLength(a.StringValue ?? '');
        return sum + size;
      }, 0);
      expect(bytes).toBeLessThanOrEqual(SQS_BATCH_MAX_BYTES);
    }

    const messages = await receiveAll(c.sqs, r.queueUrl, 25);
    const received = messages.map((m) => decodeEnvelope(m.Body!));
    expect(received.map((e) => (e.payload as { i: number }).i).sort((a, b) => a - b)).toEqual(tasks.map((_, i) => i));
    // Results are in input order and name the task each message carries.
    for (const e of received) {
      const i = (e.payload as { i: number }).i;
      expect(results[i]).toMatchObject({ ok: true, taskId: e.id });
    }
  });

  it('reports a bad task in its slot and sends the others', async () => {
    const c = recordingClients();
    const r = await createTestResources(c);
    const producer = makeProducer(c, r);
    const results = await producer.sendBatch([
      { type: 'ok', payload: 1 },
      { type: 'bad type', payload: 2 },
      { type: 'ok', payload: 3, taskId: 'third' },
    ]);
    expect(results.map((x) => (x.ok ? 'ok' : x.error.code))).toEqual(['ok', 'INVALID_TASK_TYPE', 'ok']);
    expect(results[2]).toMatchObject({ taskId: 'third' });
    const messages = await receiveAll(c.sqs, r.queueUrl, 2);
    expect(messages).toHaveLength(2);
  });
});

describe('claim check', () => {
  it('uploads a large payload under the prefix with size and sha256, and sends payloadRef', async () => {
    const c = recordingClients();
    const r = await createTestResources(c);
    const producer = makeProducer(c, r, { claimCheckThresholdBytes: 10 * 1024 });
    const payload = { rows: Array.from({ length: 2000 }, (_, i) => ({ i, name: `row ${i} – é` })) };
    const { taskId } = await producer.send('import', payload);

    const [message] = await receiveAll(c.sqs, r.queueUrl, 1);
    const envelope = decodeEnvelope(message!.Body!);
    expect(envelope.id).toBe(taskId);
    expect(envelope.payload).toBeUndefined();
    const ref = envelope.payloadRef!;
    expect(ref.bucket).toBe(r.bucketName);
    expect(ref.key).toMatch(/^claims\/\d{4}-\d{2}-\d{2}\/[0-9a-f-]{36}$/);
    expect(Buffer.byteLength(message!.Body!)).toBeLessThan(1024);

    const object = await c.s3.send(new GetObjectCommand({ Bucket: ref.bucket, Key: ref.key }));
    const bytes = Buffer.from(await object.Body!.transformToByteArray());
    expect(bytes.length).toBe(ref.size);
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(ref.sha256);
    expect(JSON.parse(bytes.toString('utf8'))).toEqual(payload);
    expect(message!.MessageAttributes?.taskType?.StringValue).toBe('import');
  });

  it('keeps a small payload inline', async () => {
    const c = recordingClients();
    const r = await createTestResources(c);
    await makeProducer(c, r, { claimCheckThresholdBytes: 10 * 1024 }).send('t', { small: true });
    const [message] = await receiveAll(c.sqs, r.queueUrl, 1);
    expect(decodeEnvelope(message!.Body!).payload).toEqual({ small: true });
    const listed = await c.s3.send(new ListObjectsV2Command({ Bucket: r.bucketName }));
    expect(listed.KeyCount ?? 0).toBe(0);
  });

  it('writes the SQS Extended Client format: pointer body, ExtendedPayloadSize, the envelope in S3', async () => {
    const c = recordingClients();
    const r = await createTestResources(c);
    const producer = makeProducer(c, r, { claimCheckThresholdBytes: 10 * 1024, claimCheckFormat: 'extended-client' });
    const payload = { blob: 'z'.repeat(20_000) };
    const results = await producer.sendBatch([{ type: 'big', payload, idempotencyKey: 'k-1' }]);
    expect(results[0]!.ok).toBe(true);

    const [message] = await receiveAll(c.sqs, r.queueUrl, 1);
    expect(looksLikeExtendedClientPointer(message!.Body!)).toBe(true);
    const sizeAttribute = message!.MessageAttributes?.[EXTENDED_CLIENT_SIZE_ATTRIBUTE];
    expect(sizeAttribute?.DataType).toBe('Number');
    const pointer = decodeExtendedClientPointer(message!.Body!, sizeAttribute?.StringValue);
    expect(pointer.bucket).toBe(r.bucketName);
    expect(pointer.key.startsWith('claims/')).toBe(true);

    const object = await c.s3.send(new GetObjectCommand({ Bucket: pointer.bucket, Key: pointer.key }));
    const text = await object.Body!.transformToString();
    expect(Buffer.byteLength(text)).toBe(pointer.size);
    const envelope = decodeEnvelope(text);
    expect(envelope).toMatchObject({ type: 'big', idempotencyKey: 'k-1', payload });
    expect(message!.MessageAttributes?.taskId?.StringValue).toBe(envelope.id);
  });
});

describe('backpressure', () => {
  it('refuses tasks above maxBacklog with retryAfterSeconds, reading the depth once per interval', async () => {
    const c = recordingClients();
    const r = await createTestResources(c);
    for (let i = 0; i < 6; i++) await c.sqs.send(new SendMessageCommand({ QueueUrl: r.queueUrl, MessageBody: `filler ${i}` }));
    c.requests.length = 0;
    let now = 1_000_000;
    const producer = makeProducer(c, r, { maxBacklog: 5, backlogCacheMs: 30_000, now: () => now });

    const outcomes = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => producer.send('t', { i })));
    for (const o of outcomes) {
      expect(o.status).toBe('rejected');
      const error = (o as PromiseRejectedResult).reason as BackpressureError;
      expect(error).toBeInstanceOf(BackpressureError);
      expect(error).toMatchObject({ code: 'BACKPRESSURE', backlog: 6, maxBacklog: 5, retryAfterSeconds: 30 });
    }
    const batch = await producer.sendBatch([
      { type: 't', payload: 1 },
      { type: 't', payload: 2 },
    ]);
    expect(batch.map((x) => (x.ok ? 'ok' : x.error.code))).toEqual(['BACKPRESSURE', 'BACKPRESSURE']);
    // 20 concurrent sends and a batch: one GetQueueAttributes, nothing sent.
    expect(c.count('GetQueueAttributes')).toBe(1);
    expect(c.count('SendMessage') + c.count('SendMessageBatch')).toBe(0);

    // Drain below the limit: the cached answer still holds until the interval ends.
    const drained = await receiveAll(c.sqs, r.queueUrl, 6);
    expect(drained).toHaveLength(6);
    await expect(producer.send('t', {})).rejects.toBeInstanceOf(BackpressureError);
    now += 30_000;
    await expect(producer.send('t', {})).resolves.toMatchObject({ status: 'accepted' });
    await producer.send('t', {});
    expect(c.count('GetQueueAttributes')).toBe(2);
    expect(c.count('SendMessage')).toBe(2);
  });
});

describe('backpressure with lanes', () => {
  it("watches each lane's queue on its own: a flooded lane refuses its types, the others go on", async () => {
    const c = recordingClients();
    const main = await createTestResources(c);
    const bulk = await createTestResources(c);
    // The routing table a stack with a `bulk` lane writes (lib/infra/routing-table.ts).
    await c.dynamo.send(
      new PutItemCommand({
        TableName: main.tableName,
        Item: {
          [TABLE_SCHEMA.partitionKey]: { S: ROUTING_ITEM_KEY },
          [ROUTING_ATTRIBUTE]: { S: JSON.stringify({ lanes: { default: main.queueUrl, bulk: bulk.queueUrl }, types: { analytics: 'bulk' }, fanOut: {} }) },
        },
      }),
    );
    for (let i = 0; i < 6; i++) await c.sqs.send(new SendMessageCommand({ QueueUrl: bulk.queueUrl, MessageBody: `filler ${i}` }));
    const producer = makeProducer(c, main, { maxBacklog: 5, backlogCacheMs: 30_000, routing: true });

    await expect(producer.send('analytics', { i: 1 })).rejects.toMatchObject({ code: 'BACKPRESSURE', backlog: 6, maxBacklog: 5 });
    await expect(producer.send('send_email', { i: 2 })).resolves.toMatchObject({ status: 'accepted' });
    const batch = await producer.sendBatch([
      { type: 'analytics', payload: 3 },
      { type: 'send_email', payload: 4 },
      { type: 'analytics', payload: 5 },
    ]);
    expect(batch.map((x) => (x.ok ? 'ok' : x.error.code))).toEqual(['BACKPRESSURE', 'ok', 'BACKPRESSURE']);
    expect(await producer.backlog('analytics')).toBe(6);
    // The default lane's depth as read before its first send (cached), not the flooded lane's.
    expect(await producer.backlog('send_email')).toBe(0);
    expect(await producer.backlog()).toBe(0);
    // Each queue's depth read once for the whole interval; nothing reached the flooded lane.
    const depthReads = c.requests.filter((q) => q.command === 'GetQueueAttributes').map((q) => q.input.QueueUrl);
    expect(depthReads.sort()).toEqual([bulk.queueUrl, main.queueUrl].sort());
    expect(await receiveAll(c.sqs, main.queueUrl, 2)).toHaveLength(2);
    expect(await receiveAll(c.sqs, bulk.queueUrl, 6)).toHaveLength(6);
  });
});

describe('getTaskStatus', () => {
  function recordItem(record: TaskRecord) {
    const item: Record<string, { S: string } | { N: string } | { BOOL: boolean }> = {};
    for (const [name, value] of Object.entries(record)) {
      if (value === undefined) continue;
      if (name === 'result') item[name] = { S: JSON.stringify(value) };
      else if (typeof value === 'number') item[name] = { N: String(value) };
      else if (typeof value === 'boolean') item[name] = { BOOL: value };
      else item[name] = { S: String(value) };
    }
    return item;
  }

  it('reads records written in the task-record shape, and PENDING when there is none', async () => {
    const c = recordingClients();
    const r = await createTestResources(c);
    const producer = makeProducer(c, r);
    const succeeded: TaskRecord = {
      pk: 'tsk_done',
      taskId: 'tsk_done',
      type: 'send_email',
      status: 'SUCCEEDED',
      attempts: 2,
      createdAt: '2026-11-28T12:00:00.000Z',
      updatedAt: '2026-11-28T12:00:05.000Z',
      lastError: 'timeout talking to SMTP',
      result: { messageId: 'smtp-1' },
      expiresAt: 1_900_000_000,
    };
    const dead: TaskRecord = {
      pk: 'order-42',
      taskId: 'tsk_dead',
      type: 'charge',
      status: 'DEAD_LETTERED',
      attempts: 5,
      createdAt: '2026-11-28T12:00:00.000Z',
      updatedAt: '2026-11-28T12:30:00.000Z',
      lastError: 'card declined',
      deadLetterReason: 'attempts-exhausted',
      expiresAt: 1_900_000_000,
    };
    const retrying: TaskRecord = {
      pk: 'tsk_retry',
      taskId: 'tsk_retry',
      type: 'webhook',
      status: 'RETRYING',
      attempts: 1,
      createdAt: '2026-11-28T12:00:00.000Z',
      updatedAt: '2026-11-28T12:00:01.000Z',
      nextAttemptAt: '2026-11-28T12:02:01.000Z',
      lastError: '503',
      expiresAt: 1_900_000_000,
    };
    for (const record of [succeeded, dead, retrying]) {
      await c.dynamo.send(new PutItemCommand({ TableName: r.tableName, Item: recordItem(record) }));
    }

    expect(await producer.getTaskStatus('tsk_done', { consistentRead: true })).toEqual({
      taskId: 'tsk_done',
      idempotencyKey: 'tsk_done',
      type: 'send_email',
      status: 'SUCCEEDED',
      attempts: 2,
      createdAt: succeeded.createdAt,
      updatedAt: succeeded.updatedAt,
      lastError: 'timeout talking to SMTP',
      result: { messageId: 'smtp-1' },
    });
    expect(await producer.getTaskStatus('tsk_dead', { idempotencyKey: 'order-42' })).toMatchObject({
      taskId: 'tsk_dead',
      idempotencyKey: 'order-42',
      status: 'DEAD_LETTERED',
      attempts: 5,
      deadLetterReason: 'attempts-exhausted',
      lastError: 'card declined',
    });
    // Looked up by task id alone, a task with its own idempotency key has no record under its id.
    expect((await producer.getTaskStatus('tsk_dead')).status).toBe('PENDING');
    expect(await producer.getTaskStatus('tsk_retry')).toMatchObject({ status: 'RETRYING', attempts: 1, nextAttemptAt: retrying.nextAttemptAt });
    expect(await producer.getTaskStatus('tsk_unknown')).toEqual({ taskId: 'tsk_unknown', idempotencyKey: 'tsk_unknown', status: 'PENDING', attempts: 0 });
  });
});

describe('FIFO queue', () => {
  it('requires a message group, passes the deduplication id, and keeps batch order', async () => {
    const c = recordingClients();
    const r = await createTestResources(c, { fifo: true });
    const producer = makeProducer(c, r);
    expect(producer.fifo).toBe(true);

    await expect(producer.send('t', {})).rejects.toMatchObject({ code: 'FIFO_GROUP_REQUIRED' });
    expect(c.requests).toHaveLength(0);

    const first = await producer.send('t', { n: 1 }, { messageGroupId: 'tenant-1', deduplicationId: 'dedup-1' });
    // Same deduplication id within SQS's window: SQS keeps one message.
    await producer.send('t', { n: 1 }, { messageGroupId: 'tenant-1', deduplicationId: 'dedup-1' });
    const batch = await producer.sendBatch(Array.from({ length: 12 }, (_, i) => ({ type: 't', payload: { n: 100 + i }, messageGroupId: 'tenant-2' })));
    expect(batch.every((x) => x.ok)).toBe(true);

    const messages = await receiveAll(c.sqs, r.queueUrl, 13, 10_000, true);
    const group1 = messages.filter((m) => m.Attributes?.MessageGroupId === 'tenant-1');
    expect(group1).toHaveLength(1);
    expect(group1[0]!.Attributes?.MessageDeduplicationId).toBe('dedup-1');
    expect(decodeEnvelope(group1[0]!.Body!).id).toBe(first.taskId);
    const group2 = messages.filter((m) => m.Attributes?.MessageGroupId === 'tenant-2').map((m) => (decodeEnvelope(m.Body!).payload as { n: number }).n);
    expect(group2).toEqual(Array.from({ length: 12 }, (_, i) => 100 + i));
    // Without an explicit id, the deduplication id is the task's idempotency key (its id).
    const m = messages.find((x) => (decodeEnvelope(x.Body!).payload as { n: number }).n === 100)!;
    expect(m.Attributes?.MessageDeduplicationId).toBe(decodeEnvelope(m.Body!).id);
  });
});

describe('FIFO sendBatch keeps each message group in order when SQS fails an entry', () => {
  /** SQS fails the entries `fail` picks (SenderFault from it), accepting the rest of the request. */
  function failingEntries(c: ReturnType<typeof recordingClients>, fail: (n: number, seen: number) => { senderFault: boolean } | undefined) {
    const seen = new Map<number, number>();
    type Next = (args: { input: unknown }) => Promise<unknown>;
    c.sqs.middlewareStack.add(
      ((next: Next, context: { commandName: string }) => async (args: { input: unknown }) => {
        if (context.commandName !== 'SendMessageBatchCommand') return next(args);
        const input = args.input as { Entries: { Id: string; MessageBody: string }[] };
        const failed: { Id: string; SenderFault: boolean; Code: string; Message: string }[] = [];
        const kept = input.Entries.filter((e) => {
          const n = (decodeEnvelope(e.MessageBody).payload as { n: number }).n;
          const count = (seen.get(n) ?? 0) + 1;
          seen.set(n, count);
          const f = fail(n, count);
          if (f) failed.push({ Id: e.Id, SenderFault: f.senderFault, Code: f.senderFault ? 'InvalidParameterValue' : 'InternalError', Message: 'injected' });
          return !f;
        });
        if (kept.length === 0) return { output: { Successful: [], Failed: failed, $metadata: {} }, response: {} };
        const out = (await next({ ...args, input: { ...input, Entries: kept } })) as { output: { Failed?: unknown[] } };
        out.output.Failed = [...(out.output.Failed ?? []), ...failed];
        return out;
      }) as never,
      { step: 'initialize', name: 'failEntries' },
    );
  }
  const tasks = (group: string, from: number) => [0, 1, 2].map((k) => ({ type: 't', payload: { n: from + k }, messageGroupId: group }));
  const byGroup = (messages: { Attributes?: Record<string, string>; Body?: string }[], group: string) =>
    messages.filter((m) => m.Attributes?.MessageGroupId === group).map((m) => (decodeEnvelope(m.Body!).payload as { n: number }).n);

  it('an entry retried after SenderFault=false still reaches SQS before the later entries of its group', async () => {
    const c = recordingClients();
    const r = await createTestResources(c, { fifo: true });
    failingEntries(c, (n, seen) => (n === 1 && seen === 1 ? { senderFault: false } : undefined));
    const producer = makeProducer(c, r, { retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 5 } });
    const results = await producer.sendBatch([...tasks('a', 1), ...tasks('b', 11)]);
    expect(results.every((x) => x.ok)).toBe(true);
    const messages = await receiveAll(c.sqs, r.queueUrl, 6, 10_000, true);
    expect(byGroup(messages, 'a')).toEqual([1, 2, 3]);
    expect(byGroup(messages, 'b')).toEqual([11, 12, 13]);
    // No request ever carried two entries of one group.
    for (const req of c.requests.filter((x) => x.command === 'SendMessageBatch')) {
      const groups = (req.input.Entries as { MessageGroupId: string }[]).map((e) => e.MessageGroupId);
      expect(new Set(groups).size).toBe(groups.length);
    }
  });

  it('an entry that fails for good fails the rest of its group (EARLIER_IN_GROUP_FAILED), unsent; other groups go on', async () => {
    const c = recordingClients();
    const r = await createTestResources(c, { fifo: true });
    failingEntries(c, (n) => (n === 1 ? { senderFault: true } : undefined));
    const producer = makeProducer(c, r);
    const results = await producer.sendBatch([...tasks('a', 1), ...tasks('b', 11)]);
    expect(results.map((x) => (x.ok ? 'ok' : x.error.code))).toEqual(['SEND_FAILED', 'EARLIER_IN_GROUP_FAILED', 'EARLIER_IN_GROUP_FAILED', 'ok', 'ok', 'ok']);
    const messages = await receiveAll(c.sqs, r.queueUrl, 3, 10_000, true);
    expect(byGroup(messages, 'a')).toEqual([]);
    expect(byGroup(messages, 'b')).toEqual([11, 12, 13]);
  });
});

beforeAll(() => {
  // Fail fast with a clear message if the emulators are not up.
  expect(testClients().sqs).toBeDefined();
});
