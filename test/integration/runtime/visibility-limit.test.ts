/**
 * SQS refuses a visibility change that would keep a message invisible more than 12 hours after
 * the receive that returned it (the emulator enforces it: lib/local/sqs-limits.ts). A re-delay
 * of 12 h or more — a notBefore a day away, a RetryableError asking for 43,200 s — must ask for
 * what is left, or the change is refused and the task comes back after the queue's visibility
 * timeout instead (here 2 s).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { RetryableError } from '../../../lib/protocol/errors.ts';
import { createTestResources, testClients, type TestResources } from '../../support/aws.ts';
import { consumer, envelope, fakeContext, receive, receiveEvent, sendTask, sleep, spy } from './helpers.ts';

const clients = testClients();

describe('re-delays stay within 12 hours of the receive', () => {
  let r: TestResources;
  const changes = spy(clients.sqs);
  beforeAll(async () => {
    r = await createTestResources(clients, { visibilityTimeout: 2 });
  });

  async function hiddenAfterProcessing(tasks: Parameters<typeof consumer>[2], e: ReturnType<typeof envelope>): Promise<void> {
    const { handler, captured } = consumer(r, clients, tasks, { visibilityTimeoutSeconds: 2 });
    await sendTask(clients.sqs, r.queueUrl, e);
    const response = await handler(await receiveEvent(clients.sqs, r), fakeContext());
    expect(response.batchItemFailures).toHaveLength(1);
    const asked = changes.filter((c) => c.name === 'ChangeMessageVisibilityBatchCommand').at(-1)!.input.Entries[0].VisibilityTimeout;
    expect(asked).toBeGreaterThan(43_000);
    expect(asked).toBeLessThan(43_200);
    expect(captured.logs.filter((l) => /visibility changes failed/.test(l.message))).toEqual([]);
    await sleep(3000); // past the queue's 2-second visibility timeout
    expect(await receive(clients.sqs, r.queueUrl, 10, 0)).toEqual([]);
  }

  it('a notBefore a day away', async () => {
    await hiddenAfterProcessing({ later: { handler: () => undefined } }, envelope('later', {}, { notBefore: new Date(Date.now() + 24 * 3600_000).toISOString() }));
  });

  it('a RetryableError asking for 43,200 seconds', async () => {
    await hiddenAfterProcessing(
      {
        slow: {
          handler: () => {
            throw new RetryableError('come back tomorrow', 43_200);
          },
        },
      },
      envelope('slow', {}),
    );
  });
});
