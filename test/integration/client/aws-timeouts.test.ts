/**
 * A silent connection under the producer's own clients (TaskProducerConfig.awsTimeouts): a
 * send or status read the network never answers is abandoned at its bound and tried again on
 * a new connection — instead of holding the caller's API request for the SDK's default of up
 * to 15 minutes. The producer reaches fauxqs and DynamoDB Local through a proxy that leaves
 * chosen requests unanswered (test/support/silent-proxy.ts).
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { TaskProducer } from '../../../lib/client/index.ts';
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { TABLE_SCHEMA, decodeEnvelope, newTaskId } from '../../../lib/protocol/index.ts';
import { LOCAL_CREDENTIALS } from '../../../lib/local/emulators.ts';
import { createTestResources, emulatorEndpoints, testClients, type TestResources } from '../../support/aws.ts';
import { silentProxy, type SilentProxy } from '../../support/silent-proxy.ts';
import { settledWithin } from '../../support/until.ts';

const clients = testClients();

describe('a silent connection under the producer\'s clients', () => {
  let r: TestResources;
  let proxy: SilentProxy | undefined;
  beforeAll(async () => {
    r = await createTestResources(clients);
  });
  afterEach(async () => {
    await proxy?.close();
    proxy = undefined;
  });

  async function producerThroughProxy(silence: (target: string, n: number) => boolean): Promise<{ producer: TaskProducer; proxy: SilentProxy }> {
    const e = emulatorEndpoints();
    proxy = await silentProxy((target) => (target.startsWith('DynamoDB_') ? e.dynamoEndpoint : e.sqsEndpoint), silence);
    const producer = new TaskProducer({
      queueUrl: r.queueUrl,
      tableName: r.tableName,
      endpoint: proxy.url,
      region: e.region,
      credentials: LOCAL_CREDENTIALS,
      awsTimeouts: { requestMs: 500 },
    });
    return { producer, proxy };
  }

  it('a send left unanswered is tried again on a new connection: it resolves, and exactly one message is on the queue', async () => {
    const { producer, proxy: p } = await producerThroughProxy((target, n) => target === 'AmazonSQS.SendMessage' && n === 1);
    const sent = await settledWithin(producer.send('email', { to: 'a@example.com' }), 10_000);
    expect(sent, 'send() was still waiting on the unanswered request after 10 s').toBeDefined();
    expect(p.seen.filter((s) => s.target === 'AmazonSQS.SendMessage').map((s) => s.silenced)).toEqual([true, false]);
    const received = await clients.sqs.send(new ReceiveMessageCommand({ QueueUrl: r.queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
    expect((received.Messages ?? []).map((m) => decodeEnvelope(m.Body!).id)).toEqual([sent!.value.taskId]);
    producer.destroy();
  }, 30_000);

  it('a status read left unanswered is retried by the SDK: getTaskStatus answers', async () => {
    const { producer, proxy: p } = await producerThroughProxy((target, n) => target === 'DynamoDB_20120810.GetItem' && n === 1);
    const taskId = newTaskId();
    await clients.dynamo.send(
      new PutItemCommand({ TableName: r.tableName, Item: { [TABLE_SCHEMA.partitionKey]: { S: taskId }, taskId: { S: taskId }, status: { S: 'SUCCEEDED' }, attempts: { N: '1' } } }),
    );
    const status = await settledWithin(producer.getTaskStatus(taskId), 10_000);
    expect(status, 'getTaskStatus() was still waiting on the unanswered read after 10 s').toBeDefined();
    expect(status!.value).toMatchObject({ taskId, status: 'SUCCEEDED', attempts: 1 });
    expect(p.seen.filter((s) => s.target === 'DynamoDB_20120810.GetItem').map((s) => s.silenced)).toEqual([true, false]);
    producer.destroy();
  }, 30_000);
});
