/**
 * `npm start -- --demo`: a producer that exercises the running local system with the SDK's
 * TaskProducer, one scenario at a time, saying what happened:
 *
 *   1. ordinary tasks (send_email) → SUCCEEDED
 *   2. a large payload → travels by claim check (an object under the claim prefix in S3)
 *   3. the same idempotency key sent twice → the handler runs once, the duplicate is skipped
 *   4. a webhook whose receiver answers 503 once, then 200 → RETRYING, then SUCCEEDED
 *   5. a poison task (charge with an invalid amount) → DEAD_LETTERED, on the DLQ, alarm fires
 *   6. then keeps a trickle of ordinary tasks flowing until stopped.
 * The task types are the project's examples (functions/tasks).
 */
import { createServer, type Server } from 'node:http';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { TaskProducer } from '../client/index.ts';
import type { TaskStatusView } from '../protocol/task-record.ts';
import { LOCAL_CREDENTIALS } from './emulators.ts';
import type { LocalSystem } from './system.ts';

export interface DemoOptions {
  readonly log: (line: string) => void;
  /** Seconds between trickle tasks after the scenarios; 0 stops after them. @default 2 */
  readonly trickleSeconds?: number;
  readonly signal?: AbortSignal;
}

export async function runDemo(system: LocalSystem, options: DemoOptions): Promise<void> {
  const { log } = options;
  const c = system.connection;
  const claimPrefix = system.provisioned.outputs.ClaimPrefix ?? 'claims/';
  // A producer as a separate service would build it: its own clients, configured by
  // endpoint (the environment variables the panel prints work the same way).
  const clientConfig = { region: c.region, credentials: LOCAL_CREDENTIALS };
  const sqs = new SQSClient({ ...clientConfig, endpoint: c.sqsEndpoint });
  const s3 = new S3Client({ ...clientConfig, endpoint: c.s3Endpoint });
  const dynamo = new DynamoDBClient({ ...clientConfig, endpoint: c.dynamoEndpoint });
  const producer = new TaskProducer({
    queueUrl: c.queueUrl,
    sqs,
    s3,
    dynamo,
    ...(c.bucketName ? { bucketName: c.bucketName, claimPrefix } : {}),
    ...(c.tableName ? { tableName: c.tableName } : {}),
  });
  const receiver = await flakyReceiver();
  const signal = options.signal;
  try {
    log('① ordinary tasks: 5 × send_email');
    const ordinary = await Promise.all(
      Array.from({ length: 5 }, (_, i) => producer.send('send_email', { to: `user${i + 1}@example.com`, subject: `Welcome #${i + 1}` })),
    );
    for (const sent of ordinary) {
      const status = await waitForStatus(producer, sent.taskId, ['SUCCEEDED', 'DEAD_LETTERED'], signal);
      log(`   ${mark(status)} ${sent.taskId} ${status.status} (attempt ${status.attempts})`);
    }

    log('② a large payload: send_email with a 1.5 MiB body → claim check');
    const claimsBefore = await countClaims(system, claimPrefix);
    const large = await producer.send('send_email', { to: 'archive@example.com', subject: 'Monthly report', body: 'x'.repeat(1.5 * 1024 * 1024) });
    const claimsAfter = await countClaims(system, claimPrefix);
    log(`   payload stored in S3 (s3://${c.bucketName}/${claimPrefix}…, ${claimsAfter - claimsBefore} new object); the message carries only a pointer`);
    const largeStatus = await waitForStatus(producer, large.taskId, ['SUCCEEDED', 'DEAD_LETTERED'], signal);
    log(`   ${mark(largeStatus)} ${large.taskId} ${largeStatus.status}: the consumer fetched and verified the payload`);

    log('③ duplicates: the same idempotency key "demo-order-42" sent twice');
    const first = await producer.send('send_email', { to: 'buyer@example.com', subject: 'Order 42 confirmed' }, { idempotencyKey: 'demo-order-42' });
    await waitForStatus(producer, first.taskId, ['SUCCEEDED', 'DEAD_LETTERED'], signal, { idempotencyKey: 'demo-order-42' });
    const second = await producer.send('send_email', { to: 'buyer@example.com', subject: 'Order 42 confirmed' }, { idempotencyKey: 'demo-order-42' });
    await waitForQueueEmpty(system, signal);
    const dup = await producer.getTaskStatus(second.taskId, { idempotencyKey: 'demo-order-42' });
    const skipped = dup.taskId === first.taskId && dup.attempts === 1;
    log(
      `   ${skipped ? '✓' : '✗'} second task ${second.taskId} ${skipped ? 'skipped' : 'NOT skipped'}: the record still belongs to ${dup.taskId} (${dup.status}, ${dup.attempts} attempt) — the email went out once`,
    );

    log(`④ a task that fails, then succeeds: webhook to a receiver that answers 503 once (${receiver.url})`);
    const flaky = await producer.send('webhook', { url: receiver.url, body: { event: 'order.paid', order: 42 } });
    const retrying = await waitForStatus(producer, flaky.taskId, ['RETRYING', 'SUCCEEDED', 'DEAD_LETTERED'], signal);
    if (retrying.status === 'RETRYING') log(`   ↻ ${flaky.taskId} RETRYING after attempt ${retrying.attempts}: ${retrying.lastError ?? ''} (next attempt ${retrying.nextAttemptAt ?? 'soon'})`);
    const recovered = await waitForStatus(producer, flaky.taskId, ['SUCCEEDED', 'DEAD_LETTERED'], signal);
    log(`   ${mark(recovered)} ${flaky.taskId} ${recovered.status} on attempt ${recovered.attempts} (receiver saw ${receiver.calls()} calls)`);

    log('⑤ a poison task: charge with amount -5 → permanent error → DLQ');
    const poison = await producer.send('charge', { customerId: 'cus_demo', amount: -5, currency: 'EUR' });
    const dead = await waitForStatus(producer, poison.taskId, ['DEAD_LETTERED', 'SUCCEEDED'], signal);
    log(`   ${mark(dead)} ${poison.taskId} ${dead.status}${dead.deadLetterReason ? ` (${dead.deadLetterReason}: ${dead.lastError ?? ''})` : ''}`);
    log('   the DLQ is not empty now: watch the DeadLetterQueueNotEmpty alarm go to ALARM; `npx taskq dlq peek --local` shows it');

    const every = options.trickleSeconds ?? 2;
    if (every <= 0) return;
    log(`⑥ and now one send_email every ${every} s until you stop (Ctrl-C)`);
    let n = 0;
    while (!signal?.aborted) {
      await sleep(every * 1000, signal);
      if (signal?.aborted) break;
      await producer.send('send_email', { to: `trickle${++n}@example.com`, subject: `Tick ${n}` }).catch((error: unknown) => log(`   send failed: ${String(error)}`));
    }
  } finally {
    receiver.server.close();
    producer.destroy();
    for (const client of [sqs, s3, dynamo]) client.destroy();
  }
}

function mark(status: TaskStatusView): string {
  return status.status === 'SUCCEEDED' ? '✓' : status.status === 'DEAD_LETTERED' ? '☠' : '…';
}

async function waitForStatus(
  producer: TaskProducer,
  taskId: string,
  statuses: TaskStatusView['status'][],
  signal: AbortSignal | undefined,
  options: { idempotencyKey?: string } = {},
  timeoutMs = 60_000,
): Promise<TaskStatusView> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const status = await producer.getTaskStatus(taskId, { consistentRead: true, ...options });
    if (statuses.includes(status.status)) return status;
    if (signal?.aborted) throw new Error('demo stopped');
    if (Date.now() > deadline) throw new Error(`task ${taskId} is still ${status.status} after ${timeoutMs / 1000} s`);
    await sleep(100, signal);
  }
}

async function waitForQueueEmpty(system: LocalSystem, signal: AbortSignal | undefined, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && !signal?.aborted) {
    const r = await system.clients.sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: system.connection.queueUrl,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed'],
      }),
    );
    const a = r.Attributes ?? {};
    if (Number(a.ApproximateNumberOfMessages) + Number(a.ApproximateNumberOfMessagesNotVisible) + Number(a.ApproximateNumberOfMessagesDelayed) === 0) return;
    await sleep(100, signal);
  }
}

async function countClaims(system: LocalSystem, prefix: string): Promise<number> {
  const bucket = system.connection.bucketName;
  if (!bucket) return 0;
  const r = await system.clients.s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
  return r.KeyCount ?? r.Contents?.length ?? 0;
}

/** A webhook receiver that answers 503 (Retry-After: 1) to the first call and 200 afterwards. */
async function flakyReceiver(): Promise<{ server: Server; url: string; calls: () => number }> {
  let calls = 0;
  const server = createServer((request, response) => {
    calls++;
    request.resume();
    if (calls === 1) {
      response.writeHead(503, { 'retry-after': '1' }).end('try again');
    } else {
      response.writeHead(200).end('ok');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return { server, url: `http://127.0.0.1:${port}/hooks/orders`, calls: () => calls };
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });
}
