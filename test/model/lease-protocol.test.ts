/**
 * Model-based test of the lease protocol (fast-check `fc.commands` + `fc.asyncModelRun`): the
 * real runtime (defineTasks, lease mode) on DynamoDB Local and fauxqs, with an injected clock,
 * driven through random interleavings of
 *
 * - deliveries of any copy of one task — the original, producer duplicates, SQS second
 *   deliveries (any copy may be delivered again, acknowledged or not), redriven copies and the
 *   outcome copies the runtime sent — each with a handler outcome (success with its effect, a
 *   retryable failure, a PermanentError) and at most one fault: a crash after the effect (the
 *   process dies: no completion write, no SQS call), the response of the lease-taking write or
 *   of the completion write lost (applied; the SDK retries), the completion refused by the table
 *   past every retry (an outcome copy carries it), the completion and the outcome copy both
 *   refused, or the table refusing everything (AccessDenied);
 * - the clock advancing a little, or past the lease and the takeover grace;
 * - redrives of the DLQ copies the runtime sent (as `taskq dlq redrive` or as
 *   StartMessageMoveTask would send them back).
 *
 * After every step the task record is read (consistent) and checked against the model:
 *
 * - no handler runs in a delivery that began when the record said SUCCEEDED, and none while
 *   another invocation's lease (plus the takeover grace) was live: at most one effect per key
 *   once SUCCEEDED is recorded;
 * - the handler's `ctx.attempt` and the record's `attempts` equal the runs the model saw in the
 *   task's current life (a redrive the record had not consumed starts a new life at 1; the model
 *   injects no refused release writes, so no phantom attempts);
 * - a delivery acknowledged without error leaves a final record (SUCCEEDED / DEAD_LETTERED),
 *   or an outcome copy or a dead letter sent in that delivery carries it, or another copy of the
 *   task is still on the queue (an outcome copy superseded by a run that took the task over and
 *   went back to the queue is acknowledged: that run's message answers for the task).
 *
 *   npm test                 TASKQ_MODEL_RUNS unset: 200 sequences
 *   npm run test:chaos       TASKQ_MODEL_RUNS=1500
 *   TASKQ_MODEL_SEED=… TASKQ_MODEL_PATH=… TASKQ_MODEL_REPLAY=…   replay a failure: fast-check prints the seed and
 *                            path, and the shrunk counterexample with its replayPath
 */
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { LOCAL_CREDENTIALS } from '../../lib/local/emulators.ts';
import { SendMessageCommand, type Message, type MessageAttributeValue, type SQSClient } from '@aws-sdk/client-sqs';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { redriveAttributes, redriveIdentity } from '../../lib/ops/dead-letter-message.ts';
import { COPY_ATTRIBUTES, MESSAGE_ATTRIBUTES } from '../../lib/protocol/attributes.ts';
import { encodeEnvelope } from '../../lib/protocol/envelope.ts';
import { PermanentError } from '../../lib/protocol/errors.ts';
import { newTaskId } from '../../lib/protocol/ids.ts';
import { defineTasks, type TaskContext } from '../../lib/runtime/index.ts';
import { redriveIdOf } from '../../lib/runtime/message.ts';
import { createTestResources, emulatorEndpoints, testClients, type TestResources } from '../support/aws.ts';
import { enforceIam } from '../support/iam/enforcement.ts';
import { asPrincipal } from '../support/iam/principals.ts';
import { injectWireFaults, type WireFault } from '../support/wire-faults.ts';

const RUNS = Number(process.env.TASKQ_MODEL_RUNS ?? 200);
const SEED = process.env.TASKQ_MODEL_SEED !== undefined ? Number(process.env.TASKQ_MODEL_SEED) : undefined;
const PATH = process.env.TASKQ_MODEL_PATH;
/** fc.commands' own replay path (printed as /*replayPath="…"*\/ in the counterexample). */
const REPLAY = process.env.TASKQ_MODEL_REPLAY;
const MAX_ATTEMPTS = 3;
const GRACE_MS = 60_000;
const TYPE = 'pay';

type Outcome = 'ok' | 'retry' | 'permanent';
type Fault = 'none' | 'crashAfterEffect' | 'loseAcquire' | 'loseCompletion' | 'refuseCompletion' | 'refuseBoth' | 'tableDown';

/** One SQS message of the task, as the consumer would receive it. */
interface Copy {
  readonly body: string;
  readonly attributes: Record<string, MessageAttributeValue>;
  readonly messageId: string;
  readonly kind: 'original' | 'duplicate' | 'redrive' | 'outcome';
  deliveries: number;
  /** Its last delivery was acknowledged (deleted from the queue); otherwise it is still on the queue. */
  acked?: boolean;
}

interface Real {
  readonly key: string;
  readonly copies: Copy[];
  /** Dead letters the runtime sent (body and attributes, as a DLQ receive would return them). */
  readonly deadLetters: Message[];
  now: number;
  effects: number;
  /** Handler runs in the task's current life, as the model counts them. */
  runsInLife: number;
  readonly consumedRedrives: Set<string>;
  readonly log: string[];
}

/** The model: what fast-check needs to choose commands (how many copies and dead letters exist). */
interface Model {
  copies: number;
  deadLetters: number;
}

interface Harness {
  r: TestResources;
  clients: ReturnType<typeof testClients>;
  /** The fault the current delivery injects on the runtime's DynamoDB client. */
  dynamoFault: (name: string, input: any) => WireFault | undefined; // eslint-disable-line @typescript-eslint/no-explicit-any
  sqsDown: boolean;
}

const h = {} as Harness;

function toRecord(copy: Copy, queueArn: string): SQSRecord {
  const messageAttributes: SQSRecord['messageAttributes'] = {};
  for (const [name, a] of Object.entries(copy.attributes)) {
    messageAttributes[name] = { dataType: a.DataType!, stringValue: a.StringValue, stringListValues: [], binaryListValues: [] };
  }
  return {
    messageId: copy.messageId,
    receiptHandle: `rh-${copy.messageId}-${copy.deliveries}`,
    body: copy.body,
    attributes: { ApproximateReceiveCount: String(copy.deliveries), SentTimestamp: '0', SenderId: 'model', ApproximateFirstReceiveTimestamp: '0' },
    messageAttributes,
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: 'us-east-1',
  };
}

async function record(key: string): Promise<Record<string, string | number> | undefined> {
  const out = await h.clients.dynamo.send(new GetItemCommand({ TableName: h.r.tableName, Key: { pk: { S: key } }, ConsistentRead: true }));
  if (!out.Item) return undefined;
  return Object.fromEntries(Object.entries(out.Item).map(([k, v]) => [k, v.N !== undefined ? Number(v.N) : (v.S ?? String(v.BOOL))]));
}

class Deliver implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly copy: number,
    readonly outcome: Outcome,
    readonly fault: Fault,
  ) {}

  check(m: Readonly<Model>): boolean {
    return m.copies > 0;
  }

  async run(m: Model, real: Real): Promise<void> {
    const copy = real.copies[this.copy % real.copies.length]!;
    copy.deliveries++;
    const before = await record(real.key);
    const leaseLive = before?.status === 'IN_PROGRESS' && typeof before.leaseUntil === 'number' && before.leaseUntil >= real.now - GRACE_MS;
    // A redrive the record has not consumed, of a task that is not SUCCEEDED, starts a new life.
    const rid = redriveIdOf(toRecord(copy, h.r.queueArn));
    const resets = copy.kind === 'redrive' && rid !== undefined && rid !== before?.redriveId && before?.status !== 'SUCCEEDED' && !leaseLive;
    const runs: number[] = [];
    let dead = false;
    let markDead!: () => void;
    const crashed = new Promise<void>((resolve) => (markDead = resolve));
    let handlerDone = false;
    const sent: { queue: 'dlq' | 'source'; input: SendMessageCommand['input'] }[] = [];
    const outcome = this.outcome;
    const fault = this.fault;

    // The invocation's clients: once the process is dead, nothing it sends leaves and nothing comes back.
    const gate = <C extends { send: (...args: any[]) => Promise<any> }>(client: C, observe?: (command: unknown) => void): C => // eslint-disable-line @typescript-eslint/no-explicit-any
      ({
        send: (command: unknown, options?: unknown) =>
          dead
            ? new Promise(() => {})
            : client.send(command, options).then((out: unknown) => {
                observe?.(command);
                return dead ? new Promise(() => {}) : out;
              }),
      }) as unknown as C;
    const sqs = gate(h.clients.sqs as SQSClient, (command) => {
      if (command instanceof SendMessageCommand) sent.push({ queue: command.input.QueueUrl === h.r.deadLetterQueueUrl ? 'dlq' : 'source', input: command.input });
    });
    const isAcquire = (name: string) => name === 'BatchExecuteStatementCommand' || name === 'UpdateItemCommand';
    const isCompletion = (name: string) => name === 'BatchWriteItemCommand' || name === 'PutItemCommand';
    let lostOnce = false;
    h.dynamoFault = (name) => {
      if (fault === 'tableDown') return { kind: 'error', status: 400, code: 'AccessDeniedException' };
      if ((fault === 'loseAcquire' && isAcquire(name)) || (fault === 'loseCompletion' && isCompletion(name) && handlerDone)) {
        if (lostOnce) return undefined;
        lostOnce = true;
        return { kind: 'lose-response' };
      }
      if ((fault === 'refuseCompletion' || fault === 'refuseBoth') && handlerDone) {
        if (name === 'BatchWriteItemCommand') return { kind: 'unprocessed' };
        if (name === 'PutItemCommand') return { kind: 'error', status: 400, code: 'ProvisionedThroughputExceededException' };
      }
      return undefined;
    };
    h.sqsDown = fault === 'refuseBoth';

    const handler = defineTasks(
      {
        [TYPE]: {
          maxAttempts: MAX_ATTEMPTS,
          handler: (_payload: unknown, ctx: TaskContext) => {
            runs.push(ctx.attempt);
            handlerDone = true;
            if (outcome === 'retry') throw new Error('model: retryable failure');
            if (outcome === 'permanent') throw new PermanentError('model: permanent failure');
            real.effects++;
            if (fault === 'crashAfterEffect') {
              dead = true;
              markDead();
            }
            return { ok: true };
          },
        },
      },
      {
        clients: { dynamo: gate(h.clients.dynamo), sqs, s3: h.clients.s3 },
        tableName: h.r.tableName,
        queueUrl: h.r.queueUrl,
        deadLetterQueueUrl: h.r.deadLetterQueueUrl,
        bucketName: h.r.bucketName,
        visibilityTimeoutSeconds: 30,
        takeoverGraceMs: GRACE_MS,
        backoff: { baseSeconds: 1, capSeconds: 60, jitter: 'none' },
        clock: { now: () => real.now },
        logger: { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} },
        metrics: { flush: () => {} },
      },
    );
    // The completion of a refused run gives up at once (no time left), not after seconds of retries.
    const context = { getRemainingTimeInMillis: () => (handlerDone && fault.startsWith('refuse') ? 400 : 30_000) } as Context;
    const event: SQSEvent = { Records: [toRecord(copy, h.r.queueArn)] };
    // As the consumer role: every call the runtime makes is evaluated against the synthesized stack's policies.
    const response = await Promise.race([asPrincipal('consumer', () => handler(event, context)), crashed.then(() => undefined)]);
    h.dynamoFault = () => undefined;
    h.sqsDown = false;
    const after = await record(real.key);
    const step = `deliver ${copy.kind}#${real.copies.indexOf(copy)} (${copy.deliveries}) ${outcome} ${fault} at +${real.now}: runs ${JSON.stringify(runs)}, ${dead ? 'crashed' : response?.batchItemFailures.length ? 'returned' : 'acknowledged'}; record ${after?.status ?? 'none'} attempts ${after?.attempts ?? '-'}`;
    real.log.push(step);

    // What the runtime sent on: outcome copies become deliverable copies, dead letters redrivable.
    for (const s of sent) {
      const attributes = s.input.MessageAttributes ?? {};
      if (s.queue === 'dlq') {
        real.deadLetters.push({ MessageId: randomUUID(), Body: s.input.MessageBody, MessageAttributes: attributes as Message['MessageAttributes'] });
        m.deadLetters++;
      } else {
        real.copies.push({ body: s.input.MessageBody!, attributes, messageId: randomUUID(), kind: attributes[COPY_ATTRIBUTES.outcome] ? 'outcome' : 'duplicate', deliveries: 0 });
        m.copies++;
      }
    }

    // ── the checks ──
    if (runs.length > 0) {
      expect(before?.status, `ran although the record said SUCCEEDED — ${step}`).not.toBe('SUCCEEDED');
      expect(leaseLive, `ran while another invocation's lease (+ grace) was live — ${step}`).toBe(false);
      if (resets && rid !== undefined) {
        real.consumedRedrives.add(rid);
        real.runsInLife = 0;
      }
      expect(runs, `ctx.attempt is not the run the model counts — ${step}`).toEqual([real.runsInLife + 1]);
      real.runsInLife++;
    }
    if (after !== undefined) expect(after.attempts, `record attempts ≠ runs in this life (${real.runsInLife}) — ${step}`).toBe(real.runsInLife);
    const acknowledged = !dead && response !== undefined && response.batchItemFailures.length === 0;
    copy.acked = acknowledged;
    if (acknowledged) {
      const final = after?.status === 'SUCCEEDED' || after?.status === 'DEAD_LETTERED';
      const carried = sent.some((s) => s.queue === 'dlq' || s.input.MessageAttributes?.[COPY_ATTRIBUTES.outcome] !== undefined);
      // Another copy still on the queue answers for the task (e.g. a run that took over, whose message went back).
      const pending = real.copies.some((c) => c !== copy && !c.acked);
      expect(final || carried || pending, `acknowledged with the record ${after?.status ?? 'absent'}, no outcome copy or dead letter sent, and no other copy of the task left on the queue — ${step}`).toBe(true);
    }
  }

  toString(): string {
    return `Deliver(${this.copy}, ${this.outcome}, ${this.fault})`;
  }
}

class Advance implements fc.AsyncCommand<Model, Real> {
  constructor(readonly to: 'second' | 'lease' | 'grace') {}
  check(): boolean {
    return true;
  }
  async run(_m: Model, real: Real): Promise<void> {
    const r = await record(real.key);
    const lease = typeof r?.leaseUntil === 'number' ? r.leaseUntil : undefined;
    // One second; just past the lease (inside the takeover grace); or past lease + grace (a crashed or refused run may be taken over).
    if (this.to === 'second' || lease === undefined) real.now += 1000;
    else real.now = Math.max(real.now, lease + (this.to === 'grace' ? GRACE_MS : 0) + 1);
    real.log.push(`advance (${this.to}) to +${real.now}`);
  }
  toString(): string {
    return `Advance(${this.to})`;
  }
}

class Redrive implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly which: number,
    readonly style: 'cli' | 'move',
  ) {}
  check(m: Readonly<Model>): boolean {
    return m.deadLetters > 0;
  }
  async run(m: Model, real: Real): Promise<void> {
    const dead = real.deadLetters[this.which % real.deadLetters.length]!;
    const attributes =
      this.style === 'cli'
        ? redriveAttributes(dead, new Date(real.now).toISOString())
        : (dead.MessageAttributes as Record<string, MessageAttributeValue>);
    real.copies.push({ body: dead.Body!, attributes, messageId: randomUUID(), kind: 'redrive', deliveries: 0 });
    m.copies++;
    real.log.push(`redrive (${this.style}) of dead letter ${redriveIdentity(dead)}`);
  }
  toString(): string {
    return `Redrive(${this.which}, ${this.style})`;
  }
}

class Duplicate implements fc.AsyncCommand<Model, Real> {
  check(m: Readonly<Model>): boolean {
    return m.copies > 0;
  }
  async run(m: Model, real: Real): Promise<void> {
    const original = real.copies[0]!;
    real.copies.push({ ...original, messageId: randomUUID(), kind: 'duplicate', deliveries: 0 });
    m.copies++;
    real.log.push('producer re-sends the task');
  }
  toString(): string {
    return 'Duplicate';
  }
}

// Deliveries weigh double, and so do the faults that leave a lease behind (a crash, a refused completion) and the
// clock steps that land inside or past the takeover grace: the interleavings where a lease protocol goes wrong.
const deliver = fc
    .tuple(
      fc.nat({ max: 20 }),
      fc.constantFrom<Outcome>('ok', 'ok', 'retry', 'permanent'),
      fc.constantFrom<Fault>('none', 'none', 'crashAfterEffect', 'crashAfterEffect', 'loseAcquire', 'loseCompletion', 'refuseCompletion', 'refuseCompletion', 'refuseBoth', 'tableDown'),
    )
    .map(([copy, outcome, fault]) => new Deliver(copy, outcome, fault));
const commands = [
  deliver,
  deliver,
  fc.constantFrom<'second' | 'lease' | 'grace'>('second', 'lease', 'lease', 'grace', 'grace').map((to) => new Advance(to)),
  fc.tuple(fc.nat({ max: 5 }), fc.constantFrom<'cli' | 'move'>('cli', 'move')).map(([which, style]) => new Redrive(which, style)),
  fc.constant(new Duplicate()),
];

describe('lease protocol: the real runtime on DynamoDB Local against a model', () => {
  beforeAll(async () => {
    const e = emulatorEndpoints();
    // Two tries per DynamoDB call: a lost response is retried once by the SDK, a refusal reaches the runtime at once.
    h.clients = { ...testClients(), dynamo: enforceIam(new DynamoDBClient({ region: e.region, credentials: LOCAL_CREDENTIALS, endpoint: e.dynamoEndpoint, maxAttempts: 2 })) };
    h.r = await createTestResources(h.clients, { visibilityTimeout: 30 });
    h.dynamoFault = () => undefined;
    h.sqsDown = false;
    injectWireFaults(h.clients.dynamo, 'dynamodb', (name, input) => h.dynamoFault(name, input));
    injectWireFaults(h.clients.sqs, 'sqs', (name) => (h.sqsDown && name === 'SendMessageCommand' ? { kind: 'error', status: 400, code: 'AccessDenied' } : undefined));
  });

  it(`holds for ${RUNS} random interleavings of deliveries, crashes, lost responses, refused writes, lease expiry and redrives`, async () => {
    await fc.assert(
      fc.asyncProperty(fc.commands(commands, { maxCommands: 16, size: 'max', ...(REPLAY ? { replayPath: REPLAY } : {}) }), async (cmds) => {
        const id = newTaskId();
        const envelope = { v: 1 as const, id, type: TYPE, payload: { cents: 100 }, createdAt: new Date().toISOString() };
        const real: Real = {
          key: id,
          copies: [{ body: encodeEnvelope(envelope), attributes: { [MESSAGE_ATTRIBUTES.taskType]: { DataType: 'String', StringValue: TYPE } }, messageId: randomUUID(), kind: 'original', deliveries: 0 }],
          deadLetters: [],
          now: Date.now(),
          effects: 0,
          runsInLife: 0,
          consumedRedrives: new Set(),
          log: [],
        };
        try {
          await fc.asyncModelRun(() => ({ model: { copies: 1, deadLetters: 0 }, real }), cmds);
        } catch (error) {
          (error as Error).message += `\n  steps:\n    ${real.log.join('\n    ')}`;
          throw error;
        }
        // Never more than one effect in a life once it SUCCEEDED: a SUCCEEDED record was reached by exactly one run of it.
        const final = await record(real.key);
        if (final?.status === 'SUCCEEDED') expect(real.effects).toBeGreaterThanOrEqual(1);
      }),
      { numRuns: RUNS, ...(SEED !== undefined ? { seed: SEED } : {}), ...(PATH ? { path: PATH, endOnFailure: true } : {}), verbose: 1 },
    );
  }, 30 * 60_000);
});
