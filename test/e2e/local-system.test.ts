/**
 * End to end, as a user runs it: `taskq local` (what `npm start` runs; here `npx tsx bin/taskq.ts
 * local`, with the IAM preload) on this repository's CDK app, in a child process (its own
 * process group, like a terminal), free ports, its state file in a temp directory. Tasks are
 * sent with the SDK's TaskProducer, processed by the real consumer, a poison task lands in
 * the DLQ, the DLQ alarm fires, and SIGTERM stops everything cleanly. IAM is enforced on both
 * sides: the local system's event source poller and the consumer it runs act as the consumer
 * role, the TaskProducer as the producer role (test/support/iam/).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, access } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { TaskProducer } from '../../lib/client/index.ts';
import { LOCAL_CREDENTIALS } from '../../lib/local/emulators.ts';
import { readLocalState, type LocalState } from '../../lib/local/state.ts';
import { STACK_OUTPUTS } from '../../lib/protocol/resources.ts';
import { childEnforcement } from '../support/iam/child-process.ts';
import { enforceIam } from '../support/iam/enforcement.ts';
import { actingAs } from '../support/iam/principals.ts';
import { registerResources } from '../support/iam/resource-roles.ts';

let dir: string;
let statePath: string;
let child: ChildProcess;
let output = '';
let exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
let state: LocalState;
let clients: { sqs: SQSClient; s3: S3Client; dynamo: DynamoDBClient };
let producer: TaskProducer;
const iam = childEnforcement({ pollerPrincipal: 'consumer' });

async function until<T>(probe: () => Promise<T | undefined> | T | undefined, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; process output:\n${output}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'taskq-e2e-'));
  statePath = join(dir, 'state.json');
  child = spawn('npx', ['tsx', ...iam.importArgs, 'bin/taskq.ts', 'local', '--sqs-port', '0', '--dynamo-port', '0', '--status-interval', '1'], {
    cwd: process.cwd(),
    env: { ...process.env, ...iam.env, TASKQ_LOCAL_STATE: statePath, FORCE_COLOR: '0' },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  // 'close': after every process holding the output pipes (npx, tsx, node) has exited.
  exited = new Promise((resolve) => child.once('close', (code, signal) => resolve({ code, signal })));
  // ~15 s on an idle 2-core machine (synth + DynamoDB Local's JVM); generous for a busy CI box.
  state = await until(() => readLocalState(statePath), 100_000, 'the state file');
  const common = { region: state.region, credentials: LOCAL_CREDENTIALS };
  clients = {
    sqs: enforceIam(new SQSClient({ ...common, endpoint: state.sqsEndpoint })),
    s3: enforceIam(new S3Client({ ...common, endpoint: state.s3Endpoint })),
    dynamo: enforceIam(new DynamoDBClient({ ...common, endpoint: state.dynamoEndpoint })),
  };
  const o = state.outputs;
  registerResources({ queueUrl: o[STACK_OUTPUTS.queueUrl], deadLetterQueueUrl: o[STACK_OUTPUTS.deadLetterQueueUrl], tableName: o[STACK_OUTPUTS.tableName], bucketName: o[STACK_OUTPUTS.bucketName] });
  producer = actingAs(
    'producer',
    new TaskProducer({
      queueUrl: state.outputs[STACK_OUTPUTS.queueUrl]!,
      bucketName: state.outputs[STACK_OUTPUTS.bucketName]!,
      tableName: state.outputs[STACK_OUTPUTS.tableName]!,
      ...clients,
    }),
  );
}, 120_000);

// The local system's consumer side reports a refused call as an error line at most; the
// harness recorded it, and the test that caused it fails here.
afterEach(() => iam.assertNoDenials());

afterAll(async () => {
  if (child && child.exitCode === null && child.signalCode === null) {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
  producer?.destroy();
  for (const client of Object.values(clients ?? {})) client.destroy();
  await rm(dir, { recursive: true, force: true });
});

describe('taskq local (npm start) as a user runs it', () => {
  it('writes a state file with the stack outputs, pointing at the running process', async () => {
    expect(state.pid).toBeGreaterThan(0);
    for (const key of Object.values(STACK_OUTPUTS)) expect(state.outputs[key], key).toEqual(expect.any(String));
    expect(state.outputs[STACK_OUTPUTS.queueUrl]).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/000000000000\//);
    // The system writes the state file before taskq local prints the banner: wait for it.
    await until(() => (output.includes('Connect a producer') ? true : undefined), 15_000, 'the connection banner');
    expect(output).toContain(`AWS_ENDPOINT_URL_SQS=${state.sqsEndpoint}`);
  });

  it('processes tasks sent with the SDK: SUCCEEDED in the task table', async () => {
    const sent = await Promise.all([1, 2, 3].map((i) => producer.send('send_email', { to: `e2e${i}@example.com`, subject: `e2e ${i}` })));
    for (const { taskId } of sent) {
      const item = await until(
        async () => {
          const r = await clients.dynamo.send(
            new GetItemCommand({ TableName: state.outputs[STACK_OUTPUTS.tableName]!, Key: { pk: { S: taskId } }, ConsistentRead: true }),
          );
          return r.Item?.status?.S === 'SUCCEEDED' ? r.Item : undefined;
        },
        30_000,
        `task ${taskId} to succeed`,
      );
      expect(item.taskId?.S).toBe(taskId);
    }
  });

  it('dead-letters a poison task, and the DLQ alarm goes to ALARM', async () => {
    const { taskId } = await producer.send('charge', { customerId: 'cus_e2e', amount: -5, currency: 'EUR' });
    const status = await until(
      async () => {
        const s = await producer.getTaskStatus(taskId, { consistentRead: true });
        return s.status === 'DEAD_LETTERED' ? s : undefined;
      },
      30_000,
      'the poison task to be dead-lettered',
    );
    expect(status.deadLetterReason).toBe('permanent-error');
    const dlq = await clients.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: state.outputs[STACK_OUTPUTS.deadLetterQueueUrl]!, AttributeNames: ['ApproximateNumberOfMessages'] }),
    );
    expect(Number(dlq.Attributes!.ApproximateNumberOfMessages)).toBe(1);

    const alarm = await until(
      async () => (await readLocalState(statePath))?.alarms?.find((a) => a.name.endsWith('DeadLetterQueueNotEmpty') && a.state === 'ALARM'),
      15_000,
      'the DLQ alarm in the state file',
    );
    expect(alarm.reason).toMatch(/datapoints/);
    await until(() => (/\[alarm\] \S+DeadLetterQueueNotEmpty: OK → ALARM/.test(output) ? true : undefined), 5_000, 'the alarm line');
    await until(() => (/\[status\] .*dlq=1 .*DeadLetterQueueNotEmpty=ALARM/.test(output) ? true : undefined), 5_000, 'a status line');
  });

  // Each command is a CLI process (npx + node): a minute is not enough on a loaded 2-core host.
  it("runs the README's commands against it: send succeeds, its follow-up status says SUCCEEDED, stats answers", { timeout: 180_000 }, async () => {
    const readme = await readFile(join(process.cwd(), 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## Try it'), readme.indexOf('\n## ', readme.indexOf('## Try it') + 1));
    const commands = [...section.matchAll(/```sh\n([\s\S]*?)```/g)].flatMap((m) => m[1]!.split('\n')).filter((l) => l.startsWith('npx taskq '));
    expect(commands.length).toBeGreaterThanOrEqual(2);
    const env = { ...process.env, TASKQ_LOCAL_STATE: statePath, NO_COLOR: '1' };
    const shell = (line: string) => execFileSync('sh', ['-c', line], { cwd: process.cwd(), env, encoding: 'utf8', timeout: 60_000 });
    for (const line of commands) {
      const out = shell(line);
      if (!line.includes(' send ')) continue;
      const followUp = /follow it with: (taskq .*)$/m.exec(out)?.[1];
      expect(followUp, out).toMatch(/^taskq --local status tsk_[0-9a-f]{32}$/);
      const status = await until(() => {
        try {
          const text = shell(`npx ${followUp}`);
          return /SUCCEEDED/.test(text) ? text : undefined;
        } catch {
          return undefined; // no record yet: exit 2
        }
      }, 30_000, 'the README task to succeed');
      expect(status).toMatch(/^tsk_[0-9a-f]{32} SUCCEEDED/);
    }
  });

  it('stops cleanly on SIGTERM: exit code 0, state file removed', async () => {
    // The system's own process (its pid is in the state file); npx and tsx above it then exit
    // with its exit code. (Signalling the whole group would also kill npx, which dies by the
    // signal instead of reporting the code.)
    process.kill(state.pid, 'SIGTERM');
    const { code, signal } = await Promise.race([
      exited,
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no exit within 20 s; output:\n${output}`)), 20_000)),
    ]);
    expect(output).toContain('stopped cleanly');
    expect(output).not.toContain('exiting without draining');
    expect({ code, signal }).toEqual({ code: 0, signal: null });
    await expect(access(statePath)).rejects.toThrow();
  });
});
