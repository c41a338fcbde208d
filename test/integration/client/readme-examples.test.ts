/**
 * The producer guide's examples (docs/PRODUCER.md, every ```ts block), run as one script with
 * tsx against the emulators, exactly as a reader would run them (the SDK's endpoint variables
 * point at the emulators), as the producer role: every AWS call of the script is evaluated
 * against the synthesized stack's policies (test/support/iam/). Its `taskq/client` import is
 * pointed at this checkout's sources.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { ROUTING_ATTRIBUTE, ROUTING_ITEM_KEY } from '../../../lib/protocol/lanes.ts';
import { TABLE_SCHEMA } from '../../../lib/protocol/resources.ts';
import { decodeEnvelope } from '../../../lib/protocol/index.ts';
import { LOCAL_CREDENTIALS } from '../../../lib/local/emulators.ts';
import { createTestResources, emulatorEndpoints, testClients } from '../../support/aws.ts';
import { childEnforcement } from '../../support/iam/child-process.ts';

const ROOT = resolve(import.meta.dirname, '../../..');

/** The ```ts blocks of a document, in order, with the package's entry points mapped to the sources. */
export function documentCode(markdown: string): string {
  return [...markdown.matchAll(/```ts\n([\s\S]*?)```/g)]
    .map((m) => m[1]!)
    .join('\n')
    .replaceAll("from 'taskq/client'", `from '${ROOT}/lib/client/index.ts'`)
    .replaceAll("from 'zod'", `from '${ROOT}/node_modules/zod/index.js'`);
}

describe('docs/PRODUCER.md examples', () => {
  it('runs', async () => {
    const clients = testClients();
    const r = await createTestResources(clients);
    const e = emulatorEndpoints();
    // The routing table a stack with lanes writes (the lanes example reads it). Both lanes point
    // at the test queue: the IAM harness models the stack without lanes, whose queue that is.
    await clients.dynamo.send(
      new PutItemCommand({
        TableName: r.tableName,
        Item: {
          [TABLE_SCHEMA.partitionKey]: { S: ROUTING_ITEM_KEY },
          [ROUTING_ATTRIBUTE]: {
            S: JSON.stringify({
              lanes: { default: r.queueUrl, critical: r.queueUrl },
              types: { password_reset: 'critical' },
              fanOut: { order_placed: ['send_receipt', 'update_analytics'] },
            }),
          },
        },
      }),
    );
    const code = documentCode(await readFile(join(ROOT, 'docs/PRODUCER.md'), 'utf8'));
    expect(code).toContain(`from '${ROOT}/lib/client/index.ts'`);
    const dir = await mkdtemp(join(tmpdir(), 'taskq-readme-'));
    const iam = childEnforcement({ principal: 'producer' });
    try {
      const file = join(dir, 'sending-tasks.mts');
      await writeFile(file, code);
      const { stdout } = await promisify(execFile)(join(ROOT, 'node_modules/.bin/tsx'), [...iam.importArgs, file], {
        cwd: ROOT,
        timeout: 60_000,
        env: {
          ...process.env,
          ...iam.env,
          TASKQ_QUEUE_URL: r.queueUrl,
          TASKQ_BUCKET_NAME: r.bucketName,
          TASKQ_TABLE_NAME: r.tableName,
          AWS_REGION: e.region,
          AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
          AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
          AWS_ENDPOINT_URL_SQS: e.sqsEndpoint,
          AWS_ENDPOINT_URL_S3: e.s3Endpoint,
          AWS_ENDPOINT_URL_DYNAMODB: e.dynamoEndpoint,
        },
      });
      expect(stdout).toMatch(/accepted tsk_[0-9a-f]{32}/);
      expect(stdout).toContain('100 sent, 0 failed');
      expect(stdout).toContain('SCHEMA_VIOLATION: payload of send_welcome breaks its contract: to: Invalid email address');
      expect(stdout).toMatch(/large task tsk_\w+ accepted/);
      expect(stdout).toContain('PENDING 0');
      expect(stdout).toContain("status: 202");
      expect(stdout).toContain("code: 'INVALID_TASK_TYPE'");
      expect(stdout).toContain('group 2 members, 0 unsent');
      expect(stdout).toContain('group OPEN, 2 pending');
      expect(stdout).toContain('order_placed → send_receipt: sent');
      expect(stdout).toContain('order_placed → update_analytics: sent');
      iam.assertNoDenials();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    // What the script sent is on the queue; the large task by claim check.
    const out = await clients.sqs.send(new ReceiveMessageCommand({ QueueUrl: r.queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
    expect((out.Messages ?? []).length).toBeGreaterThan(0);
    let found = false;
    for (let i = 0; i < 15 && !found; i++) {
      const batch = i === 0 ? out : await clients.sqs.send(new ReceiveMessageCommand({ QueueUrl: r.queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
      found = (batch.Messages ?? []).some((m) => decodeEnvelope(m.Body!).payloadRef !== undefined);
    }
    expect(found).toBe(true);
  });
});
