/**
 * One chaos run against the local system: the synthesized template's resources provisioned
 * on the test emulators (lib/local/template.ts + provision.ts), the real runtime
 * (defineTasks) behind the real local event-source poller, the real producer
 * (TaskProducer.sendBatch), the template's DLQ alarm evaluated by lib/local's alarm
 * evaluator on sampled queue metrics — and the seeded fault schedule (fault-plan.ts)
 * injected at every layer; third-party producers (a shared claim object, Extended Client
 * pointers) and an operator who redrives the DLQ during the run. Returns what the invariants
 * are checked on.
 */
import { createHash, randomUUID } from 'node:crypto';
import { DynamoDBClient, ScanCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import {
  ChangeMessageVisibilityBatchCommand,
  ChangeMessageVisibilityCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
  SetQueueAttributesCommand,
  type Message,
  type MessageAttributeValue,
} from '@aws-sdk/client-sqs';
import type { Context, SQSEvent } from 'aws-lambda';
import { TaskProducer, type BatchSendResult } from '../../../lib/client/index.ts';
import { LOCAL_CREDENTIALS } from '../../../lib/local/emulators.ts';
import { EventSourcePoller, type InvocationResult } from '../../../lib/local/event-source-poller.ts';
import { LocalAlarms } from '../../../lib/local/local-alarms.ts';
import { LocalMetrics } from '../../../lib/local/metrics.ts';
import { provision, type ProvisionedSystem } from '../../../lib/local/provision.ts';
import { readTemplate, synthesizeTemplate } from '../../../lib/local/template.ts';
import { redriveAttributes, redriveIdentity } from '../../../lib/ops/dead-letter-message.ts';
import { COPY_ATTRIBUTES, DEAD_LETTER_ATTRIBUTES, MESSAGE_ATTRIBUTES } from '../../../lib/protocol/attributes.ts';
import { encodeEnvelope, type TaskEnvelope } from '../../../lib/protocol/envelope.ts';
import { PermanentError } from '../../../lib/protocol/errors.ts';
import { EXTENDED_CLIENT_LEGACY_POINTER_CLASS, EXTENDED_CLIENT_LEGACY_SIZE_ATTRIBUTE, EXTENDED_CLIENT_POINTER_CLASS, EXTENDED_CLIENT_SIZE_ATTRIBUTE } from '../../../lib/protocol/extended-client.ts';
import { newTaskId } from '../../../lib/protocol/ids.ts';
import { DEFAULT_LANE, LANE_ENV } from '../../../lib/protocol/lanes.ts';
import { ENV } from '../../../lib/protocol/resources.ts';
import { defineTasks, type TaskContext, type TaskDefinition } from '../../../lib/runtime/index.ts';
import type { RuntimeLogger } from '../../../lib/runtime/telemetry.ts';
import { installDynamoFaults, installS3Faults, installSqsFaults } from './fault-middleware.ts';
import { cancellable, DEFAULT_RATES, FaultSchedule, planTasks, type ChaosRates, type TaskPlan } from './fault-plan.ts';
import { CURRENT, SimulatedInvocation } from './invocation.ts';
import {
  FAN_LANES,
  FAN_TARGETS,
  fanOutQueueProps,
  fanOutTasks,
  planEvents,
  publishEvents,
  targetIdOfBody,
  targetIdOfKey,
  type FanOutObserved,
} from './fan-out.ts';
import { EffectsLedger } from './ledger.ts';
import type { Observed } from './invariants.ts';
import { rng } from './prng.ts';

export interface EmulatorEndpoints {
  readonly sqsEndpoint: string;
  readonly s3Endpoint: string;
  readonly dynamoEndpoint: string;
  readonly region: string;
}

export interface ChaosOptions {
  readonly endpoints: EmulatorEndpoints;
  readonly tasks: number;
  readonly seed: number;
  /** A FIFO queue (the template with taskq:fifo) and tasks in `rates.groups` message groups. */
  readonly fifo?: boolean;
  /** Poller MaximumConcurrency (invocations in flight). */
  readonly concurrency: number;
  /** The consumer function's timeout, seconds. */
  readonly functionTimeoutSeconds: number;
  /** The source queue's visibility timeout, seconds (crashed and timed-out batches return after it). */
  readonly visibilityTimeoutSeconds: number;
  /** The chaos task type's handler timeout, ms. */
  readonly handlerTimeoutMs: number;
  readonly maxAttempts: number;
  /** The runtime's takeoverGraceMs, scaled with the test's short timeouts. */
  readonly takeoverGraceMs: number;
  /** The runtime's maxNoAttemptReturns. */
  readonly maxNoAttemptReturns: number;
  /**
   * Flow control on the chaos type (docs/FLOW-CONTROL.md): its refusals go back without an
   * attempt and, by design, are not capped by the bound (the limiter alone never dead-letters),
   * so a refused receive is exempt from the unboundedCycles check as a never-started one is.
   */
  readonly flowControl?: Pick<TaskDefinition, 'rateLimit' | 'concurrency'>;
  /**
   * Debounced sends in the workload (docs/FLOW-CONTROL.md): this many dedupe keys, each sent
   * DEBOUNCE_SENDS times in a burst (mode 'debounce', window DEBOUNCE_WINDOW_SECONDS) right after
   * the main burst, to a task type of their own. Standard queues only. @default 0
   */
  readonly debounceKeys?: number;
  /**
   * Events published with fan-out (fan-out.ts) beside the tasks: the stack then has a lane per
   * target, each lane's consumer polled and faulted as the default lane's. Standard queues only.
   * @default 0 — the default stack, without lanes
   */
  readonly fanOutEvents?: number;
  /** Give up waiting for the queue to drain after this long (what is left is then reported lost). */
  readonly maxRunMs: number;
  readonly rates?: ChaosRates;
  readonly progress?: (line: string) => void;
}

export interface ChaosReport extends Omit<Observed, 'ledger'> {
  readonly ledger: EffectsLedger;
  /** The copyNotRecorded window's repeated effects by cause: the copy's write refused, or the copy received too late. */
  readonly copyNotRecordedBy: { readonly refusedWrite: number; readonly queueDelay: number };
  readonly schedule: FaultSchedule;
  readonly converged: boolean;
  readonly durationMs: number;
  readonly invocations: Readonly<Record<InvocationResult['outcome'], number>>;
  readonly maxInFlight: number;
  readonly logs: ReadonlyMap<string, number>;
  readonly rejectedSends: number;
  /** Records the flow-control limits sent back (rate or concurrency limit reached). */
  readonly flowRefusals: number;
  /**
   * The debounced keys: how many ran their last payload (`ran`), never ran it (`lost`), ran an
   * earlier payload (`stale`), or ran the last one again after a run that was recorded (`doubled`;
   * a re-run after a run whose completion never reached the table is at-least-once, not counted).
   */
  readonly debounce: { readonly keys: number; readonly ran: number; readonly lost: number; readonly stale: number; readonly doubled: number };
  /** What happened to a task, step by step (for explaining a violation). */
  history(task: number): string[];
  /** The fan-out's observations and its fault counts in the lanes, when the run published events. */
  readonly fanOut?: FanOutObserved & { readonly counts: Readonly<Record<string, number>>; history(target: number): string[] };
}

const TASK_TYPE = 'chaos';
const DEBOUNCE_TYPE = 'chaos_debounce';
const DEBOUNCE_SENDS = 3;
const DEBOUNCE_WINDOW_SECONDS = 2;
const keyOf = (index: number) => `chaos-${index}`;
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const indexOfKey = (key: string | undefined): number => {
  const match = /^chaos-(\d+)$/.exec(key ?? '');
  return match ? Number(match[1]) : -1;
};

/** A runtime logger that counts WARN/ERROR messages instead of printing 10,000 lines. */
function countingLogger(counts: Map<string, number>, onTask: (fields: Record<string, unknown>, level: string, message: string) => void): RuntimeLogger {
  const note = (level: string) => (message: string, fields?: Record<string, unknown>) => {
    counts.set(`${level} ${message}`, (counts.get(`${level} ${message}`) ?? 0) + 1);
    if (fields) onTask(fields, level, message);
  };
  return { debug: () => {}, info: note('INFO'), warn: note('WARN'), error: note('ERROR') };
}

/** An Extended Client pointer body in one of the styles the official libraries write. */
function pointerBody(style: TaskPlan['pointerStyle'], bucket: string, key: string): string {
  const target = { s3BucketName: bucket, s3Key: key };
  if (style === 'python') return JSON.stringify([EXTENDED_CLIENT_POINTER_CLASS, target]).replace(/,/g, ', ').replace(/":/g, '": ');
  return JSON.stringify([style === 'legacy' ? EXTENDED_CLIENT_LEGACY_POINTER_CLASS : EXTENDED_CLIENT_POINTER_CLASS, target]);
}

/**
 * Runs `work` (a defineTasks call, which reads the environment once, synchronously) with a
 * consumer function's lane variables in the environment, as its Lambda has them: the lane it
 * runs and the stack's routing table, so a task of another lane is forwarded, not run.
 */
function withLaneEnvironment<T>(environment: Readonly<Record<string, string>>, work: () => T): T {
  const saved = Object.values(LANE_ENV).map((name) => [name, process.env[name]] as const);
  for (const name of Object.values(LANE_ENV)) {
    if (environment[name] === undefined) delete process.env[name];
    else process.env[name] = environment[name];
  }
  try {
    return work();
  } finally {
    for (const [name, value] of saved) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
}

/** A message's receives along its copies (the runtime's bound on returns without an attempt counts the same way). */
interface Lineage {
  readonly task: number;
  /** Receives of the earlier copies it was re-sent from. */
  readonly prior: number;
  receives: number;
  /** Receives that could not count against the bound: the invocation died, or the record was never started. */
  exempt: number;
}

export async function runChaos(o: ChaosOptions): Promise<ChaosReport> {
  const log = o.progress ?? (() => {});
  const rates = o.rates ?? DEFAULT_RATES;
  const fifo = o.fifo ?? false;
  const common = { region: o.endpoints.region, credentials: LOCAL_CREDENTIALS };
  // The harness's own clients (provisioning, producer, operator, inspection): no faults.
  const harness = {
    sqs: new SQSClient({ ...common, endpoint: o.endpoints.sqsEndpoint }),
    s3: new S3Client({ ...common, endpoint: o.endpoints.s3Endpoint, forcePathStyle: true }),
    dynamo: new DynamoDBClient({ ...common, endpoint: o.endpoints.dynamoEndpoint }),
  };
  // The consumer's clients, shared by all invocations like a warm container's: faults injected on the wire.
  // DynamoDB: 3 SDK attempts (its default is more) so that a throttling storm can exhaust them within the short
  // function timeout used here — exercising the runtime's own "table unavailable" path, not only function timeouts.
  const consumer = {
    sqs: new SQSClient({ ...common, endpoint: o.endpoints.sqsEndpoint }),
    s3: new S3Client({ ...common, endpoint: o.endpoints.s3Endpoint, forcePathStyle: true }),
    dynamo: new DynamoDBClient({ ...common, endpoint: o.endpoints.dynamoEndpoint, maxAttempts: 3 }),
  };
  const schedule = new FaultSchedule(o.seed, rates);
  const plans = planTasks(o.seed, o.tasks, rates);
  const ledger = new EffectsLedger();
  const logs = new Map<string, number>();
  const histories = new Map<number, string[]>();
  const t0 = Date.now();
  const note = (task: number, event: string) => {
    if (task < 0) return;
    const list = histories.get(task) ?? [];
    list.push(`${((Date.now() - t0) / 1000).toFixed(1)}s ${event}`);
    histories.set(task, list);
  };
  const bump = (map: Map<number, number>, task: number, n = 1) => map.set(task, (map.get(task) ?? 0) + n);
  const indexByTaskId = new Map<string, number>();
  /** Claim object key → the task whose Extended Client pointer names it. */
  const taskByPointerKey = new Map<string, number>();
  const taskOf = (body: string | undefined): number => {
    const match = /"idempotencyKey":"chaos-(\d+)"/.exec(body ?? '');
    if (match) return Number(match[1]);
    const pointer = /"s3Key":\s*"([^"]+)"/.exec(body ?? '');
    return pointer ? (taskByPointerKey.get(pointer[1]!) ?? -1) : -1;
  };
  // Per message: its receives along its copies (see Lineage); per task: the longest such path, and what the
  // runtime logged about it.
  const lineages = new Map<string, Lineage>();
  const longestPath = new Map<number, number>();
  const unboundedCycles = new Set<number>();
  let flowRefusals = 0;
  const bound = o.maxAttempts + o.maxNoAttemptReturns;
  const failedExecutions = new Map<number, number>();
  const deaths = new Map<number, number>();
  /** Tasks a dead invocation held on the receive the redrive policy allows last (SQS moves them without a reason). */
  const diedOnLastReceive = new Set<number>();
  const logger = countingLogger(logs, (fields, level, message) => {
    const index = typeof fields.taskId === 'string' ? indexByTaskId.get(fields.taskId) : undefined;
    if (index !== undefined) note(index, `${level} ${message}${fields.reason ? ` (${String(fields.reason)})` : ''}${fields.why ? ` (${String(fields.why)})` : ''}`);
    // A record never started is no fault of its own: its receive does not count against the bound.
    const heldBack = message.startsWith('task re-delayed') && /^(rate|concurrency) limit/.test(String(fields.why ?? ''));
    if (heldBack) flowRefusals++;
    if ((/^(task )?not started/.test(message) || heldBack) && typeof fields.messageId === 'string') {
      const l = lineages.get(fields.messageId);
      if (l) l.exempt++;
    }
  });
  const destroy = () => [...Object.values(harness), ...Object.values(consumer)].forEach((c) => c.destroy());

  // ── what reached the services from the consumer, whatever the runtime was told ─────────
  /** Idempotency key → when a SUCCEEDED record first reached the table. */
  const succeededAt = new Map<string, number>();
  const succeededWrite = (key: string | undefined) => {
    if (key === undefined) return;
    if (!succeededAt.has(key)) succeededAt.set(key, Date.now());
    CURRENT.getStore()?.completed.add(key);
  };
  /** Keys whose SUCCEEDED conditional put (an outcome copy's, or an overrun's) the table refused at least once. */
  const succeededPutRefused = new Set<string>();
  const faults = {
    ...schedule,
    dynamo: (name: string, input: any) => { // eslint-disable-line @typescript-eslint/no-explicit-any
      const fault = schedule.dynamo(name, input);
      if (fault?.kind === 'error' && name === 'PutItemCommand' && input?.Item?.status?.S === 'SUCCEEDED' && input.Item.pk?.S) succeededPutRefused.add(input.Item.pk.S);
      return fault;
    },
    s3: schedule.s3.bind(schedule),
    sqs: schedule.sqs.bind(schedule),
    throttledItems: schedule.throttledItems.bind(schedule),
  };
  installDynamoFaults(consumer.dynamo, faults, (name, input, status) => {
    if (status !== 200) return;
    if (name === 'PutItemCommand' && input?.Item?.status?.S === 'SUCCEEDED') succeededWrite(input.Item.pk?.S);
    if (name === 'BatchWriteItemCommand') {
      for (const requests of Object.values(input?.RequestItems ?? {}) as { PutRequest?: { Item?: Record<string, AttributeValue> } }[][]) {
        for (const r of requests) if (r.PutRequest?.Item?.status?.S === 'SUCCEEDED') succeededWrite(r.PutRequest.Item.pk?.S);
      }
    }
  });
  installS3Faults(consumer.s3, schedule, () => undefined);
  installSqsFaults(consumer.sqs, schedule, (name, input, status) => {
    if (status !== 200 || name !== 'SendMessageCommand') return;
    const outcome = input?.MessageAttributes?.[COPY_ATTRIBUTES.outcome]?.StringValue as string | undefined;
    const task = taskOf(input?.MessageBody);
    if (outcome?.includes('"SUCCEEDED"') && task >= 0) CURRENT.getStore()?.outcomeSent.add(keyOf(task));
    const fanKey = /"idempotencyKey":"(ev-[^"]+)"/.exec(input?.MessageBody ?? '')?.[1];
    if (outcome?.includes('"SUCCEEDED"') && fanKey !== undefined) CURRENT.getStore()?.outcomeSent.add(fanKey);
  });

  try {
    // ── the local system: the template's resources on the emulators ──────────────────────
    const stackName = `Chaos-${randomUUID().slice(0, 8)}`;
    log(`synthesizing ${stackName}${fifo ? ' (FIFO)' : ''}`);
    const synthStarted = Date.now();
    const fanOutEvents = fifo ? 0 : (o.fanOutEvents ?? 0);
    const { template } = await synthesizeTemplate({
      stackName,
      ...(fifo ? { context: { 'taskq:fifo': true } } : {}),
      ...(fanOutEvents > 0 ? { taskQueue: fanOutQueueProps() } : {}),
    });
    log(`synthesized in ${Date.now() - synthStarted} ms`);
    const system: ProvisionedSystem = await provision(readTemplate(template, stackName), harness, o.endpoints.region);
    const laneOf = (m: (typeof system.mappings)[number]) => m.function.environment[LANE_ENV.lane] || DEFAULT_LANE;
    const defaultMappings = system.mappings.filter((m) => laneOf(m) === DEFAULT_LANE);
    if (defaultMappings.length !== 1) throw new Error(`expected one event source mapping of the default lane, found ${defaultMappings.length}`);
    if (system.mappings.length !== 1 + (fanOutEvents > 0 ? FAN_TARGETS.length : 0)) throw new Error(`expected a mapping per lane, found ${system.mappings.length}`);
    const mapping = defaultMappings[0]!;
    const source = mapping.queue;
    const dlqArn = (JSON.parse(source.attributes.RedrivePolicy ?? '{}') as { deadLetterTargetArn?: string }).deadLetterTargetArn;
    const dlq = system.queues.find((q) => q.arn === dlqArn);
    if (!dlq) throw new Error('the template’s source queue has no dead-letter queue');
    if (fifo !== source.url.endsWith('.fifo')) throw new Error(`expected a ${fifo ? 'FIFO' : 'standard'} queue, got ${source.url}`);
    schedule.deadLetterQueueUrl = dlq.url;
    const table = system.tables[0]!;
    const bucket = system.buckets[0]!;
    const fnEnv = mapping.function.environment;
    const claimPrefix = fnEnv[ENV.claimPrefix] || 'claims/';
    // Short visibility so crashed and timed-out batches come back fast (the template's is 6 × a 30 s timeout).
    await harness.sqs.send(new SetQueueAttributesCommand({ QueueUrl: source.url, Attributes: { VisibilityTimeout: String(o.visibilityTimeoutSeconds) } }));

    // ── the chaos task type and the consumer Lambda ──────────────────────────────────────
    const executions = new Map<number, number>();
    /** Tasks whose cause the operator fixed (their handler now succeeds). */
    const fixed = new Set<number>();
    const dead: SimulatedInvocation[] = [];
    /** Task → the DLQ reasons (and last errors) of the messages the operator redrove, and their redrive identities. */
    const redriven = new Map<number, { reasons: string[]; lastErrors: string[]; identities: Set<string> }>();
    /** Task → its claim objects' keys (one per upload: duplicates upload again; S3 denial is lifted there when the operator fixes it). */
    const objectKeys = new Map<number, string[]>();
    const addObjectKey = (task: number, key: string) => objectKeys.set(task, [...(objectKeys.get(task) ?? []), key]);
    const runtimeRandom = rng(o.seed, 'runtime-jitter');

    const chaosTask = (inv: SimulatedInvocation): TaskDefinition<{ i?: number; shared?: number; filler?: string }> => ({
      maxAttempts: o.maxAttempts,
      timeoutMs: o.handlerTimeoutMs,
      ...o.flowControl,
      validate: (p) => typeof p === 'object' && p !== null,
      async handler(_payload, ctx: TaskContext) {
        // The task's index from its key: a shared claim object's payload is the same for several tasks.
        const plan = plans[indexOfKey(ctx.idempotencyKey)]!;
        const n = (executions.get(plan.index) ?? 0) + 1;
        executions.set(plan.index, n);
        // A run starting after a cancel that found the task not running breaks the promise.
        if (cancels.get(plan.index)?.wasRunning === false) ranAfterCancel.add(plan.index);
        note(plan.index, `${inv.requestId.slice(0, 8)} handler execution ${n} (table attempt ${ctx.attempt})`);
        const at = inv.records.findIndex((r) => r.messageId === ctx.messageId);
        if (at >= 0 && at === inv.faults.redeliverRecord) {
          // Re-delivery while in flight: the message's visibility ends now, another poller may receive it.
          await harness.sqs
            .send(new ChangeMessageVisibilityCommand({ QueueUrl: source.url, ReceiptHandle: inv.records[at]!.receiptHandle, VisibilityTimeout: 0 }))
            .then(() => {
              schedule.count('redelivery');
              note(plan.index, `${inv.requestId.slice(0, 8)} redelivery fault: visibility set to 0 while running`);
            })
            .catch(() => undefined);
        }
        await sleep(plan.workMs);
        const fail = (error: Error) => {
          bump(failedExecutions, plan.index);
          throw error;
        };
        if (plan.kind === 'poison' && !fixed.has(plan.index)) {
          schedule.count('exception');
          fail(new Error(`chaos: poison task ${plan.index} fails on every execution`));
        }
        if (plan.kind === 'permanent' && !fixed.has(plan.index)) {
          schedule.count('exception');
          fail(new PermanentError(`chaos: task ${plan.index} can never succeed`));
        }
        if (n <= plan.timeouts) {
          // Overruns its timeout; a well-behaved handler stops when its signal is aborted.
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, o.handlerTimeoutMs * 3);
            ctx.signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
          });
          if (ctx.signal.aborted) schedule.count('timeout');
          fail(new Error(`chaos: task ${plan.index} overran its timeout`));
        }
        if (n <= plan.timeouts + plan.failures) {
          schedule.count('exception');
          fail(new Error(`chaos: task ${plan.index} transient failure ${n}`));
        }
        // The effect, as the very last step — unless the run is already over for this handler
        // (its time is up, or its process died): applying it then would be the handler's bug, not the platform's.
        if (ctx.signal.aborted || inv.dead) fail(new Error('chaos: run abandoned before the effect'));
        ledger.apply(plan.index);
        applications.set(plan.index, [...(applications.get(plan.index) ?? []), inv]);
        inv.effectApplied(plan.index);
        return { applied: plan.index };
      },
    });
    /** Debounce key → the runs of its task: the payload version each ran, its idempotency key and invocation. */
    const debounceRuns = new Map<string, { v: number; key: string; inv: SimulatedInvocation }[]>();
    const debounceTask = (inv: SimulatedInvocation): TaskDefinition<{ dk: string; v: number }> => ({
      maxAttempts: o.maxAttempts,
      timeoutMs: o.handlerTimeoutMs,
      async handler(payload, ctx: TaskContext) {
        await sleep(5);
        if (ctx.signal.aborted || inv.dead) throw new Error('chaos: run abandoned before the effect');
        debounceRuns.set(payload.dk, [...(debounceRuns.get(payload.dk) ?? []), { v: payload.v, key: ctx.idempotencyKey, inv }]);
      },
    });
    /** Task → its cancel, once producer.cancel resolved (wasRunning: the task held a live lease then). */
    const cancels = new Map<number, { wasRunning: boolean }>();
    /** Cancelled tasks (not running when cancelled) whose handler started after the cancel. */
    const ranAfterCancel = new Set<number>();
    /** Per task, the invocations that applied its effect, in order. */
    const applications = new Map<number, SimulatedInvocation[]>();

    const runtimeOptions = {
      tableName: table.name,
      queueUrl: source.url,
      deadLetterQueueUrl: dlq.url,
      bucketName: bucket.name,
      claimPrefix,
      visibilityTimeoutSeconds: o.visibilityTimeoutSeconds,
      // As the construct passes it (TASKQ_MAX_RECEIVE_COUNT): the consumer, not SQS, dead-letters on the last receive.
      maxReceiveCount: Number(fnEnv[ENV.maxReceiveCount]),
      maxNoAttemptReturns: o.maxNoAttemptReturns,
      takeoverGraceMs: o.takeoverGraceMs,
      backoff: { baseSeconds: 1, capSeconds: 2, jitter: 'equal' as const },
      deadlineMarginMs: 1000,
      leaseMarginMs: 1000,
      random: runtimeRandom,
      logger,
      metrics: { flush: () => {} },
    };
    if (!(runtimeOptions.maxReceiveCount > 0)) throw new Error(`the template's consumer has no ${ENV.maxReceiveCount}`);

    /** The consumer's own re-sends to the source queue continue their record's lineage. */
    const observeConsumerSqs = (inv: SimulatedInvocation, command: unknown, output: any) => { // eslint-disable-line @typescript-eslint/no-explicit-any
      const copied = (message: { MessageBody?: string; MessageAttributes?: Record<string, { StringValue?: string }> }, messageId: string | undefined) => {
        if (!messageId) return;
        // The record it copies: same body — and, among records with the same body (duplicates in one batch), the one
        // whose receives so far the copy says it carries.
        const carried = Number(message.MessageAttributes?.[COPY_ATTRIBUTES.priorReceives]?.StringValue ?? 0);
        const candidates = inv.records.map((r) => lineages.get(r.messageId)).filter((l, i): l is Lineage => l !== undefined && inv.records[i]!.body === message.MessageBody);
        const from = candidates.find((l) => l.prior + l.receives === carried) ?? candidates[0];
        if (from) lineages.set(messageId, { task: from.task, prior: from.prior + from.receives, receives: 0, exempt: from.exempt });
      };
      if (command instanceof SendMessageCommand && command.input.QueueUrl === source.url) copied(command.input, output?.MessageId);
      // Refusals of the limits go back in batches (lib/runtime/batch/finish-queue.ts).
      if (command instanceof SendMessageBatchCommand && command.input.QueueUrl === source.url) {
        for (const ok of (output?.Successful ?? []) as { Id: string; MessageId?: string }[]) {
          const entry = command.input.Entries?.find((e) => e.Id === ok.Id);
          if (entry) copied(entry, ok.MessageId);
        }
      }
    };
    /** The first SQS sequence number of each task's own message (FIFO order). */
    const sequence = new Map<number, string>();

    const lambda = async (event: SQSEvent, context: Context) => {
      const records = event.Records;
      const inv = new SimulatedInvocation(
        context.awsRequestId,
        records,
        schedule.invocation(records.length),
        consumer,
        (d) => {
          dead.push(d);
          schedule.count(d.dead === 'crash' ? 'crash' : 'functionTimeout');
          for (const r of records) {
            note(taskOf(r.body), `${d.requestId.slice(0, 8)} invocation died (${d.dead})`);
            bump(deaths, taskOf(r.body));
            if (Number(r.attributes.ApproximateReceiveCount) >= runtimeOptions.maxReceiveCount) diedOnLastReceive.add(taskOf(r.body));
            const l = lineages.get(r.messageId);
            if (l) l.exempt++;
          }
        },
        observeConsumerSqs,
      );
      for (const r of records) {
        const task = taskOf(r.body);
        const dlqReason = r.messageAttributes?.[DEAD_LETTER_ATTRIBUTES.reason]?.stringValue;
        note(task, `${inv.requestId.slice(0, 8)} received ${r.messageId.slice(0, 8)} receiveCount=${r.attributes.ApproximateReceiveCount}${dlqReason ? ` (redriven: ${dlqReason})` : ''}${r.messageAttributes?.[COPY_ATTRIBUTES.outcome] ? ' (outcome copy)' : ''}${inv.faults.crashAfterEffects ? ` [crash after ${inv.faults.crashAfterEffects}]` : ''}${inv.faults.hangCompletion ? ' [hang]' : ''}`);
        // The receives of this message along its copies; a copy whose parent the harness never saw (its send's
        // response was lost) starts from the count it carries.
        let l = lineages.get(r.messageId);
        if (!l) {
          l = { task, prior: Number(r.messageAttributes?.[COPY_ATTRIBUTES.priorReceives]?.stringValue) || 0, receives: 0, exempt: 0 };
          lineages.set(r.messageId, l);
        }
        l.receives++;
        const path = l.prior + l.receives;
        if (task >= 0) longestPath.set(task, Math.max(longestPath.get(task) ?? 0, path));
        if (path > bound + l.exempt && task >= 0) {
          unboundedCycles.add(task);
          note(task, `received ${path} times along its copies, past the bound ${bound} (+${l.exempt} exempt)`);
        }
        const own = !r.messageAttributes?.[COPY_ATTRIBUTES.priorReceives] && !r.messageAttributes?.[COPY_ATTRIBUTES.outcome] && !redriven.has(task);
        const seq = r.attributes.SequenceNumber;
        if (fifo && own && seq !== undefined && task >= 0) {
          const prev = sequence.get(task);
          if (prev === undefined || BigInt(seq) < BigInt(prev)) sequence.set(task, seq);
        }
      }
      // A fresh runtime per invocation over the shared clients (cheap: configuration only), so that a dead
      // invocation's runtime can be cut off from the world through its gated clients.
      const handler = withLaneEnvironment(fnEnv, () => defineTasks({ [TASK_TYPE]: chaosTask(inv), [DEBOUNCE_TYPE]: debounceTask(inv) }, { ...runtimeOptions, clients: inv.clients }));
      return inv.run(context, () => handler(event, context));
    };

    const outcomes: Record<InvocationResult['outcome'], number> = { success: 0, partial: 0, error: 0, timeout: 0, 'invalid-response': 0 };
    const poller = new EventSourcePoller({
      sqs: harness.sqs,
      queueUrl: source.url,
      queueArn: source.arn,
      region: o.endpoints.region,
      handler: lambda,
      function: { name: mapping.function.name, timeoutSeconds: o.functionTimeoutSeconds, memoryMB: mapping.function.memoryMB },
      batchSize: mapping.batchSize,
      maximumBatchingWindowInSeconds: mapping.maximumBatchingWindowInSeconds,
      maximumConcurrency: o.concurrency,
      reportBatchItemFailures: mapping.reportBatchItemFailures,
      waitTimeSeconds: 2,
      onInvocation: (r) => {
        outcomes[r.outcome]++;
        const deleted = new Set(r.deleted);
        for (const record of r.records) note(taskOf(record.body), `${r.requestId.slice(0, 8)} ${r.outcome}: ${record.messageId.slice(0, 8)} ${deleted.has(record.messageId) ? 'deleted' : 'left on the queue'}`);
      },
      onError: (error, during) => logs.set(`POLLER ${during}: ${(error as Error)?.name}`, (logs.get(`POLLER ${during}: ${(error as Error)?.name}`) ?? 0) + 1),
    });

    // ── fan-out: a lane per target, its consumer polled and faulted as the default lane's ──
    const fanPlans = planEvents(o.seed, fanOutEvents);
    const fanLedger = new EffectsLedger();
    const fanExecutions = new Map<number, number>();
    const fanFailed = new Map<number, number>();
    const fanDeaths = new Map<number, number>();
    /** Target id → the invocations that applied its effect, with the idempotency key they ran under. */
    const fanApplications = new Map<number, { inv: SimulatedInvocation; key: string }[]>();
    const fanHistories = new Map<number, string[]>();
    const fanNote = (id: number, event: string) => {
      if (id >= 0) fanHistories.set(id, [...(fanHistories.get(id) ?? []), `${((Date.now() - t0) / 1000).toFixed(1)}s ${event}`]);
    };
    // The lanes' invocations draw their crashes, hangs and re-deliveries from a schedule of their own (the default
    // lane's stays as its seed made it), at higher rates: a lane has few invocations.
    const fanSchedule = new FaultSchedule(o.seed + 1, { ...rates, crash: 0.1, hang: 0.05, redelivery: 0.1 });
    const fanCounts = { published: 0, refusedPublishes: 0, duplicatePublishes: 0, laneInvocations: 0 };
    const recorder = {
      plans: fanPlans,
      ledger: fanLedger,
      executions: fanExecutions,
      failedExecutions: fanFailed,
      applied: (id: number, key: string) => fanApplications.set(id, [...(fanApplications.get(id) ?? []), { inv: CURRENT.getStore()!, key }]),
      note: fanNote,
    };
    const lanes = (fanOutEvents === 0 ? [] : FAN_TARGETS).map((target) => {
      const m = system.mappings.find((x) => laneOf(x) === FAN_LANES[target]);
      const laneDlqArn = (JSON.parse(m?.queue.attributes.RedrivePolicy ?? '{}') as { deadLetterTargetArn?: string }).deadLetterTargetArn;
      const laneDlq = system.queues.find((q) => q.arn === laneDlqArn);
      if (!m || !laneDlq) throw new Error(`the template has no lane ${FAN_LANES[target]} with a queue, a DLQ and a mapping`);
      return { name: FAN_LANES[target], mapping: m, queue: m.queue, dlq: laneDlq };
    });
    for (const lane of lanes) {
      await harness.sqs.send(new SetQueueAttributesCommand({ QueueUrl: lane.queue.url, Attributes: { VisibilityTimeout: String(o.visibilityTimeoutSeconds) } }));
    }
    const laneLambda = (lane: (typeof lanes)[number]) => async (event: SQSEvent, context: Context) => {
      const records = event.Records;
      fanCounts.laneInvocations++;
      const inv = new SimulatedInvocation(context.awsRequestId, records, fanSchedule.invocation(records.length), consumer, (d) => {
        fanSchedule.count(d.dead === 'crash' ? 'crash' : 'functionTimeout');
        for (const r of records) {
          const id = targetIdOfBody(r.body);
          if (id >= 0) bump(fanDeaths, id);
          fanNote(id, `${d.requestId.slice(0, 8)} invocation died (${d.dead})`);
        }
      });
      for (const r of records) fanNote(targetIdOfBody(r.body), `${inv.requestId.slice(0, 8)} received in lane ${lane.name}, receiveCount=${r.attributes.ApproximateReceiveCount}${inv.faults.crashAfterEffects ? ` [crash after ${inv.faults.crashAfterEffects}]` : ''}${inv.faults.hangCompletion ? ' [hang]' : ''}`);
      const view = {
        get dead() {
          return inv.dead;
        },
        requestId: inv.requestId,
        effectApplied: (id: number) => inv.effectApplied(id),
        // Re-delivery while in flight: the record's visibility ends now, another invocation may receive it.
        maybeRedeliver: async (messageId: string) => {
          const at = records.findIndex((r) => r.messageId === messageId);
          if (at < 0 || at !== inv.faults.redeliverRecord) return;
          await harness.sqs
            .send(new ChangeMessageVisibilityCommand({ QueueUrl: lane.queue.url, ReceiptHandle: records[at]!.receiptHandle, VisibilityTimeout: 0 }))
            .then(() => fanSchedule.count('redelivery'))
            .catch(() => undefined);
        },
      };
      const env = lane.mapping.function.environment;
      const handler = withLaneEnvironment(env, () =>
        defineTasks(fanOutTasks(recorder, view, o.maxAttempts, o.handlerTimeoutMs), {
          ...runtimeOptions,
          queueUrl: lane.queue.url,
          deadLetterQueueUrl: lane.dlq.url,
          maxReceiveCount: Number(env[ENV.maxReceiveCount]),
          clients: inv.clients,
        }),
      );
      return inv.run(context, () => handler(event, context));
    };
    const lanePollers = lanes.map(
      (lane) =>
        new EventSourcePoller({
          sqs: harness.sqs,
          queueUrl: lane.queue.url,
          queueArn: lane.queue.arn,
          region: o.endpoints.region,
          handler: laneLambda(lane),
          function: { name: lane.mapping.function.name, timeoutSeconds: o.functionTimeoutSeconds, memoryMB: lane.mapping.function.memoryMB },
          batchSize: lane.mapping.batchSize,
          maximumBatchingWindowInSeconds: lane.mapping.maximumBatchingWindowInSeconds,
          maximumConcurrency: 2,
          reportBatchItemFailures: lane.mapping.reportBatchItemFailures,
          waitTimeSeconds: 2,
          onError: (error, during) => logs.set(`LANE POLLER ${during}: ${(error as Error)?.name}`, (logs.get(`LANE POLLER ${during}: ${(error as Error)?.name}`) ?? 0) + 1),
        }),
    );
    const lanesIdle = async (): Promise<boolean> => {
      for (const [k, lane] of lanes.entries()) {
        if (lanePollers[k]!.stats.inFlight > 0) return false;
        const a = await harness.sqs.send(
          new GetQueueAttributesCommand({ QueueUrl: lane.queue.url, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed'] }),
        );
        if (Object.values(a.Attributes ?? {}).some((v) => Number(v) > 0)) return false;
      }
      return true;
    };

    // ── metrics and the template's alarms, evaluated locally ─────────────────────────────
    const metrics = new LocalMetrics({ sqs: harness.sqs, source, deadLetter: dlq, functionName: mapping.function.name });
    const alarms = new LocalAlarms(system.alarms, metrics.store, { periodScale: 60 });
    const dlqAlarm = alarms.definitions.find((d) =>
      d.metricStats.some((m) => m.metric.metricName === 'ApproximateNumberOfMessagesVisible' && m.metric.dimensions.QueueName === dlq.name),
    );
    if (!dlqAlarm) throw new Error('the template has no alarm on the DLQ’s ApproximateNumberOfMessagesVisible');
    const alarmChecks: { dlqVisible: number; state: string }[] = [];
    const checkAlarm = async () => {
      await metrics.sample();
      const state = alarms.evaluate().find((s) => s.logicalId === dlqAlarm.logicalId)!.state;
      const snapshot = metrics.snapshot();
      alarmChecks.push({ dlqVisible: snapshot.deadLetterVisible, state });
      return snapshot;
    };
    await checkAlarm(); // before anything: the DLQ is empty

    // ── the producers ────────────────────────────────────────────────────────────────────
    const producerS3 = new S3Client({ ...common, endpoint: o.endpoints.s3Endpoint, forcePathStyle: true });
    producerS3.middlewareStack.add(
      ((next: (args: any) => Promise<any>) => async (args: any) => { // eslint-disable-line @typescript-eslint/no-explicit-any
        // Learn which claim object belongs to which task, for the S3 fault schedule.
        const body = args.input?.Body;
        const match = typeof body === 'string' || Buffer.isBuffer(body) ? /"i":(\d+)/.exec(String(body)) : null;
        if (match && typeof args.input?.Key === 'string') {
          const plan = plans[Number(match[1])]!;
          schedule.claimFailures.set(args.input.Key, plan.s3Failures);
          if (plan.s3Denied) schedule.deniedObjects.add(args.input.Key);
          addObjectKey(plan.index, args.input.Key);
        }
        return next(args);
      }) as never,
      { step: 'initialize', name: 'chaosClaimObserver' },
    );
    // FIFO: one request at a time, so each group's tasks reach SQS in the order given.
    const producerOptions = {
      queueUrl: source.url,
      sqs: harness.sqs,
      bucketName: bucket.name,
      s3: producerS3,
      claimPrefix,
      // cancel() writes the task table with the harness's (fault-free) client.
      tableName: table.name,
      dynamo: harness.dynamo,
      ...(fifo ? { batchConcurrency: 1 } : {}),
    };
    const producer = new TaskProducer(producerOptions);
    const claimProducer = new TaskProducer({ ...producerOptions, claimCheckThresholdBytes: 1024 });
    const groupOf = (p: TaskPlan) => (fifo ? { messageGroupId: `group-${p.group}` } : {});
    const input = (p: TaskPlan) => ({
      type: TASK_TYPE,
      payload: p.claim ? { i: p.index, filler: 'x'.repeat(2048) } : { i: p.index },
      idempotencyKey: keyOf(p.index),
      ...groupOf(p),
    });
    for (const p of plans) {
      if (p.tableDenied) schedule.deniedKeys.add(keyOf(p.index));
      if (p.itemThrottle) schedule.throttledKeys.set(keyOf(p.index), undefined);
    }

    // Third-party producers: their messages, built once (a duplicate is the same message sent again).
    const rawMessages = new Map<number, { body: string; attributes: Record<string, MessageAttributeValue> }>();
    const createdAt = new Date().toISOString();
    const envelopeOf = (p: TaskPlan, payload: Partial<TaskEnvelope>): TaskEnvelope => ({ v: 1, id: newTaskId(), type: TASK_TYPE, idempotencyKey: keyOf(p.index), createdAt, ...payload });
    const typeAttributes = (id: string): Record<string, MessageAttributeValue> => ({
      [MESSAGE_ATTRIBUTES.taskType]: { DataType: 'String', StringValue: TASK_TYPE },
      [MESSAGE_ATTRIBUTES.taskId]: { DataType: 'String', StringValue: id },
    });
    const shared = plans.filter((p) => p.producer === 'shared');
    for (let g = 0; g < shared.length; g += 3) {
      // One object, sent as up to three tasks, without `exclusive`: the consumer must not delete it.
      const data = Buffer.from(JSON.stringify({ shared: g, filler: 'y'.repeat(2048) }));
      const key = `${claimPrefix}shared/${randomUUID()}`;
      await harness.s3.send(new PutObjectCommand({ Bucket: bucket.name, Key: key, Body: data, ContentType: 'application/json' }));
      const payloadRef = { bucket: bucket.name, key, size: data.length, sha256: createHash('sha256').update(data).digest('hex') };
      for (const p of shared.slice(g, g + 3)) {
        const e = envelopeOf(p, { payloadRef });
        rawMessages.set(p.index, { body: encodeEnvelope(e), attributes: typeAttributes(e.id) });
        indexByTaskId.set(e.id, p.index);
      }
    }
    for (const p of plans.filter((q) => q.producer === 'extended')) {
      // The official library's format: the whole envelope in S3, a pointer in the body, the size in an attribute.
      const e = envelopeOf(p, { payload: { i: p.index } });
      const data = Buffer.from(encodeEnvelope(e));
      const key = `${claimPrefix}extended/${randomUUID()}`;
      await harness.s3.send(new PutObjectCommand({ Bucket: bucket.name, Key: key, Body: data }));
      taskByPointerKey.set(key, p.index);
      addObjectKey(p.index, key);
      schedule.claimFailures.set(key, p.s3Failures);
      if (p.s3Denied) schedule.deniedObjects.add(key);
      const sizeAttribute = p.pointerStyle === 'legacy' ? EXTENDED_CLIENT_LEGACY_SIZE_ATTRIBUTE : EXTENDED_CLIENT_SIZE_ATTRIBUTE;
      rawMessages.set(p.index, {
        body: pointerBody(p.pointerStyle, bucket.name, key),
        attributes: { ...typeAttributes(e.id), [sizeAttribute]: { DataType: 'Number', StringValue: String(data.length) } },
      });
      indexByTaskId.set(e.id, p.index);
    }

    schedule.start(o.maxRunMs);
    fanSchedule.start(o.maxRunMs);
    const started = Date.now();
    poller.start();
    for (const p of lanePollers) p.start();
    const accepted: number[] = [];
    const taskIds = new Map<number, string>();
    let rejectedSends = 0;
    let dedup = 0;
    const sendRaw = async (p: TaskPlan) => {
      const m = rawMessages.get(p.index)!;
      await harness.sqs.send(
        new SendMessageCommand({
          QueueUrl: source.url,
          MessageBody: m.body,
          MessageAttributes: m.attributes,
          ...(fifo ? { MessageGroupId: `group-${p.group}`, MessageDeduplicationId: `raw-${p.index}-${dedup++}` } : {}),
        }),
      );
    };
    const sendAll = async (plansToSend: readonly TaskPlan[], duplicate: boolean) => {
      const send = async (which: TaskProducer, list: readonly TaskPlan[]) => {
        if (list.length === 0) return;
        const results: BatchSendResult[] = await which.sendBatch(list.map((p) => ({ ...input(p), ...(duplicate ? { taskId: taskIds.get(p.index)! } : {}) })));
        results.forEach((r, k) => {
          const p = list[k]!;
          if (!r.ok) {
            rejectedSends++;
            logs.set(`SEND ${r.error.code}`, (logs.get(`SEND ${r.error.code}`) ?? 0) + 1);
          } else if (duplicate) schedule.count('duplicate');
          else {
            accepted.push(p.index);
            taskIds.set(p.index, r.taskId);
            indexByTaskId.set(r.taskId, p.index);
          }
        });
      };
      const viaSdk = plansToSend.filter((p) => p.producer === 'sdk');
      await Promise.all([
        send(producer, viaSdk.filter((p) => !p.claim)),
        send(claimProducer, viaSdk.filter((p) => p.claim)),
        (async () => {
          for (const p of plansToSend.filter((q) => q.producer !== 'sdk')) {
            await sendRaw(p);
            if (duplicate) schedule.count('duplicate');
            else {
              accepted.push(p.index);
              taskIds.set(p.index, '');
              schedule.count(p.producer === 'shared' ? 'sharedClaim' : 'extendedClient');
            }
          }
        })(),
      ]);
    };
    await sendAll(plans, false);
    // Duplicates in the burst: the same tasks again (same id, same idempotency key) right behind the originals.
    const burstDuplicates = plans.filter((p) => taskIds.has(p.index)).flatMap((p) => Array.from({ length: p.burstDuplicates }, () => p));
    await sendAll(burstDuplicates, true);
    if (o.tasks + burstDuplicates.length > o.concurrency * mapping.batchSize) schedule.count('burst');
    log(`sent ${accepted.length} tasks + ${burstDuplicates.length} duplicates in ${Date.now() - started} ms`);
    // Fan-out: each event published once, some again right behind (the same eventId), through the stack's routing table.
    const fanProducer = fanOutEvents > 0 ? new TaskProducer({ ...producerOptions, routing: true }) : undefined;
    let fanPublished: number[] = [];
    const publishAgain = async (plansToPublish: typeof fanPlans) => {
      const again = await publishEvents(fanProducer!, plansToPublish);
      fanCounts.duplicatePublishes += again.accepted.length;
      fanCounts.refusedPublishes += again.refused;
    };
    if (fanProducer) {
      const first = await publishEvents(fanProducer, fanPlans);
      fanPublished = first.accepted;
      fanCounts.published = first.accepted.length;
      fanCounts.refusedPublishes += first.refused;
      await publishAgain(fanPlans.filter((p) => p.burstDuplicate));
      log(`published ${fanPublished.length} events to ${FAN_TARGETS.join(', ')} + ${fanCounts.duplicatePublishes} again`);
    }
    // Debounced sends: each key's burst of versions, the last payload the one that must run (once).
    const debounceKeys = fifo ? 0 : (o.debounceKeys ?? 0);
    await Promise.all(
      Array.from({ length: debounceKeys }, async (_, k) => {
        for (let v = 1; v <= DEBOUNCE_SENDS; v++) {
          await producer.send(DEBOUNCE_TYPE, { dk: `dk-${k}`, v }, { dedupe: { key: `dk-${k}`, ttlSeconds: DEBOUNCE_WINDOW_SECONDS, mode: 'debounce' } });
          await sleep(100);
        }
      }),
    );
    if (debounceKeys > 0) log(`sent ${debounceKeys} debounced keys × ${DEBOUNCE_SENDS} versions`);
    // The producer cancels some tasks while the burst is being consumed.
    await Promise.all(
      plans
        .filter((p) => cancellable(p) && taskIds.has(p.index))
        .map(async (p) => {
          try {
            const result = await producer.cancel(taskIds.get(p.index)!, { idempotencyKey: keyOf(p.index) });
            cancels.set(p.index, { wasRunning: result.wasRunning });
            schedule.count('cancel');
            note(p.index, `producer: cancelled (${result.wasRunning ? 'while running' : 'not running'})`);
          } catch (error) {
            // It finished first: judged as any other task.
            if ((error as { code?: string }).code !== 'TASK_FINISHED') throw error;
            note(p.index, 'producer: cancel refused, the task had finished');
          }
        }),
    );

    // ── the operator: fixes causes and redrives the DLQ during the run ───────────────────
    const pendingRedrives = () => plans.filter((p) => p.redrive !== 'none' && !redriven.has(p.index));
    const redriveRound = async (): Promise<void> => {
      const held: Message[] = [];
      const moved: Message[] = [];
      const byTask = new Map<number, Message[]>();
      for (let empty = 0; empty < 1; ) {
        const r = await harness.sqs.send(
          new ReceiveMessageCommand({ QueueUrl: dlq.url, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, VisibilityTimeout: 60, MessageAttributeNames: ['All'], MessageSystemAttributeNames: ['All'] }),
        );
        const messages = r.Messages ?? [];
        if (messages.length === 0) empty++;
        for (const m of messages) {
          const task = taskOf(m.Body);
          const plan = plans[task];
          if (!plan || plan.redrive === 'none' || redriven.has(task)) held.push(m);
          else byTask.set(task, [...(byTask.get(task) ?? []), m]);
        }
      }
      const redrivenAt = new Date().toISOString();
      for (const [task, messages] of byTask) {
        const plan = plans[task]!;
        if (plan.redrive === 'fix') {
          fixed.add(task);
          schedule.deniedKeys.delete(keyOf(task));
          for (const objectKey of objectKeys.get(task) ?? []) schedule.deniedObjects.delete(objectKey);
        }
        const entry = { reasons: [] as string[], lastErrors: [] as string[], identities: new Set<string>() };
        redriven.set(task, entry);
        // A move task carries every DLQ copy of the task, keeping their attributes; the CLI sends each back with
        // redriveAttributes. With redriveTwice the copy arrives twice: the move task carries a second copy of the
        // same dead-lettering, the CLI's copy is delivered a second time.
        const copies: { body: string; attributes: Record<string, MessageAttributeValue>; group?: string }[] = [];
        for (const m of messages) {
          entry.reasons.push(m.MessageAttributes?.[DEAD_LETTER_ATTRIBUTES.reason]?.StringValue ?? '');
          entry.lastErrors.push(m.MessageAttributes?.[DEAD_LETTER_ATTRIBUTES.lastError]?.StringValue ?? '');
          entry.identities.add(redriveIdentity(m));
          const attributes =
            plan.redriveStyle === 'cli'
              ? redriveAttributes(m, redrivenAt)
              : Object.fromEntries(Object.entries(m.MessageAttributes ?? {}).map(([k, v]) => [k, { DataType: v.DataType!, ...(v.StringValue !== undefined ? { StringValue: v.StringValue } : {}) }]));
          copies.push({ body: m.Body ?? '', attributes, group: m.Attributes?.MessageGroupId });
        }
        if (plan.redriveTwice) {
          copies.push(copies[0]!);
          schedule.count(plan.redriveStyle === 'cli' ? 'redriveTwice' : 'moveTwoCopies');
        } else if (plan.redriveStyle === 'move' && messages.length > 1) schedule.count('moveTwoCopies');
        for (const c of copies) {
          const sent = await harness.sqs.send(
            new SendMessageCommand({
              QueueUrl: source.url,
              MessageBody: c.body,
              MessageAttributes: c.attributes,
              ...(fifo ? { MessageGroupId: c.group ?? `group-${plan.group}`, MessageDeduplicationId: `redrive-${randomUUID()}` } : {}),
            }),
          );
          lineages.set(sent.MessageId!, { task, prior: 0, receives: 0, exempt: 0 });
        }
        schedule.count('redrive');
        note(task, `operator: ${plan.redrive === 'fix' ? 'fixed and ' : ''}redrove ${messages.length} DLQ message(s) (${plan.redriveStyle}) as ${copies.length} cop${copies.length === 1 ? 'y' : 'ies'}`);
        moved.push(...messages);
      }
      if (fifo) {
        // A FIFO DLQ hands out one message group at a time: a message left in flight would hide the rest of its
        // group from the next round. So the operator's script moves what it leaves to the back of the DLQ, in order.
        for (const m of held) {
          await harness.sqs.send(
            new SendMessageCommand({
              QueueUrl: dlq.url,
              MessageBody: m.Body ?? '',
              MessageAttributes: Object.fromEntries(Object.entries(m.MessageAttributes ?? {}).map(([k, v]) => [k, { DataType: v.DataType!, ...(v.StringValue !== undefined ? { StringValue: v.StringValue } : {}) }])),
              MessageGroupId: m.Attributes?.MessageGroupId ?? 'dead-letter',
              MessageDeduplicationId: `kept-${randomUUID()}`,
            }),
          );
        }
        moved.push(...held);
      } else {
        for (let i = 0; i < held.length; i += 10) {
          await harness.sqs.send(
            new ChangeMessageVisibilityBatchCommand({ QueueUrl: dlq.url, Entries: held.slice(i, i + 10).map((m, k) => ({ Id: String(k), ReceiptHandle: m.ReceiptHandle!, VisibilityTimeout: 0 })) }),
          );
        }
      }
      for (let i = 0; i < moved.length; i += 10) {
        await harness.sqs.send(new DeleteMessageBatchCommand({ QueueUrl: dlq.url, Entries: moved.slice(i, i + 10).map((m, k) => ({ Id: String(k), ReceiptHandle: m.ReceiptHandle! })) }));
      }
      // The DLQ alarm follows the DLQ within one of its (local) periods: judge it after that.
      if (moved.length > 0) await sleep(alarms.localPeriodMs(dlqAlarm.period) + 200);
    };

    // ── run until the queue drains ───────────────────────────────────────────────────────
    const lateDuplicates = plans.filter((p) => p.lateDuplicates > 0 && taskIds.has(p.index));
    let lateSent = false;
    let quiet = 0;
    let converged = false;
    let lastLog = 0;
    let lastRedrive = 0;
    const redriveUntil = started + o.maxRunMs * 0.6;
    while (Date.now() - started < o.maxRunMs) {
      await sleep(1000);
      const s = await checkAlarm();
      const succeeded = ledger.applied.size;
      if (!lateSent && (succeeded >= accepted.length / 2 || Date.now() - started > 20_000)) {
        // Duplicates sent later: most of them after their task succeeded.
        lateSent = true;
        await sendAll(lateDuplicates, true);
        if (fanProducer) await publishAgain(fanPlans.filter((p) => p.lateDuplicate));
      }
      const redrivesLeft = Date.now() < redriveUntil ? pendingRedrives().length : 0;
      if (redrivesLeft > 0 && Date.now() - lastRedrive > 5000 && s.deadLetterVisible > 0) {
        lastRedrive = Date.now();
        await redriveRound();
      }
      if (Date.now() - lastLog > 10_000) {
        lastLog = Date.now();
        log(`t=${Math.round((Date.now() - started) / 1000)}s visible=${s.visible} inFlight=${s.inFlight} delayed=${s.delayed} dlq=${s.deadLetterVisible} effects=${succeeded} redrivesLeft=${redrivesLeft} invocations=${JSON.stringify(outcomes)}`);
      }
      const idle = s.visible === 0 && s.inFlight === 0 && s.delayed === 0 && poller.stats.inFlight === 0 && (await lanesIdle());
      quiet = lateSent && idle && redrivesLeft === 0 ? quiet + 1 : 0;
      if (quiet >= 3) {
        log(`drained after ${Math.round((Date.now() - started) / 1000)} s`);
        converged = true;
        break;
      }
    }
    await Promise.all([poller.stop(), ...lanePollers.map((p) => p.stop())]);
    const durationMs = Date.now() - started;
    // Let requests already on the wire from dead invocations land before judging them.
    await sleep(1500);
    /** Why an outcome copy was not recorded in time: the table refused its write, or it was not received before another copy took over. */
    const copyNotRecordedBy = { refusedWrite: 0, queueDelay: 0 };
    // Repeated effects: excused where a run died after its effect with its completion not in the table (and no
    // outcome copy sent); classified by window where the runtime documents one; anything else is a double effect.
    const excuseRepeats = (effects: EffectsLedger, runs: ReadonlyMap<number, readonly { inv: SimulatedInvocation; key: string }[]>) => {
      for (const [task, list] of runs) {
        list.forEach(({ inv, key }, n) => {
          if (inv.completed.has(key)) return;
          const later = n < list.length - 1;
          if (inv.outcomeSent.has(key)) {
            if (later) {
              effects.excuseByWindow(task, 'copyNotRecorded');
              copyNotRecordedBy[succeededPutRefused.has(key) ? 'refusedWrite' : 'queueDelay']++;
            }
          } else if (inv.dead) effects.excuse(task);
          else if (later) effects.excuseByWindow(task, 'bothRefused');
        });
      }
    };
    excuseRepeats(ledger, new Map([...applications].map(([task, invs]) => [task, invs.map((inv) => ({ inv, key: keyOf(task) }))])));
    excuseRepeats(fanLedger, fanApplications);

    const debounce = { keys: debounceKeys, ran: 0, lost: 0, stale: 0, doubled: 0 };
    for (let k = 0; k < debounceKeys; k++) {
      const runs = debounceRuns.get(`dk-${k}`) ?? [];
      if (runs.some((r) => r.v !== DEBOUNCE_SENDS)) debounce.stale++;
      const last = runs.filter((r) => r.v === DEBOUNCE_SENDS);
      if (last.length === 0) debounce.lost++;
      else debounce.ran++;
      // A run after one whose completion reached the table is a double; after one that died unrecorded, at-least-once.
      if (last.some((r, n) => n < last.length - 1 && r.inv.completed.has(r.key))) debounce.doubled++;
    }

    // ── what the system says ─────────────────────────────────────────────────────────────
    const tableStatus = new Map<number, string>();
    const fanTable = new Map<number, string>();
    let startKey: Record<string, AttributeValue> | undefined;
    do {
      const page = await harness.dynamo.send(new ScanCommand({ TableName: table.name, ConsistentRead: true, ...(startKey ? { ExclusiveStartKey: startKey } : {}) }));
      for (const item of page.Items ?? []) {
        const index = indexOfKey(item.pk?.S);
        if (index >= 0) tableStatus.set(index, item.status?.S ?? '?');
        const target = targetIdOfKey(item.pk?.S);
        if (target >= 0) fanTable.set(target, item.status?.S ?? '?');
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey);

    // The alarm with the DLQ as the run left it.
    const atEnd = await checkAlarm();
    const dlqTasks = new Map<number, string[]>();
    const dlqLastErrors = new Map<number, string[]>();
    const receipts: string[] = [];
    for (let empty = 0; empty < 2; ) {
      const r = await harness.sqs.send(
        new ReceiveMessageCommand({ QueueUrl: dlq.url, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, VisibilityTimeout: 600, MessageAttributeNames: ['All'] }),
      );
      const messages = r.Messages ?? [];
      if (messages.length === 0) {
        empty++;
        continue;
      }
      empty = 0;
      // Deleted as read: a FIFO DLQ would hide the rest of a message group while one of it is in flight.
      await harness.sqs.send(new DeleteMessageBatchCommand({ QueueUrl: dlq.url, Entries: messages.map((m, k) => ({ Id: String(k), ReceiptHandle: m.ReceiptHandle! })) }));
      for (const m of messages) {
        receipts.push(m.ReceiptHandle!);
        const index = taskOf(m.Body);
        if (index < 0) continue;
        dlqTasks.set(index, [...(dlqTasks.get(index) ?? []), m.MessageAttributes?.[DEAD_LETTER_ATTRIBUTES.reason]?.StringValue ?? '']);
        dlqLastErrors.set(index, [...(dlqLastErrors.get(index) ?? []), m.MessageAttributes?.[DEAD_LETTER_ATTRIBUTES.lastError]?.StringValue ?? '']);
      }
    }
    if (receipts.length !== atEnd.deadLetterVisible) {
      logs.set(`DLQ held ${receipts.length} messages but its metric said ${atEnd.deadLetterVisible}`, 1);
    }
    // The lanes' DLQs: the fan-out targets' dead letters and their reasons.
    const fanDlq = new Map<number, string[]>();
    for (const lane of lanes) {
      for (let empty = 0; empty < 2; ) {
        const r = await harness.sqs.send(new ReceiveMessageCommand({ QueueUrl: lane.dlq.url, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, VisibilityTimeout: 600, MessageAttributeNames: ['All'] }));
        const messages = r.Messages ?? [];
        if (messages.length === 0) {
          empty++;
          continue;
        }
        empty = 0;
        for (const m of messages) {
          const id = targetIdOfBody(m.Body);
          fanDlq.set(id, [...(fanDlq.get(id) ?? []), m.MessageAttributes?.[DEAD_LETTER_ATTRIBUTES.reason]?.StringValue ?? '']);
        }
      }
    }
    // …and once it is empty again: let one alarm period pass, evaluate.
    await sleep(alarms.localPeriodMs(dlqAlarm.period) + 200);
    await checkAlarm();
    producer.destroy();
    claimProducer.destroy();
    fanProducer?.destroy();
    producerS3.destroy();

    return {
      accepted,
      table: tableStatus,
      dlq: dlqTasks,
      dlqLastErrors,
      ledger,
      alarmChecks,
      plans,
      cancelled: cancels,
      ranAfterCancel,
      fifo,
      maxAttempts: o.maxAttempts,
      maxReceiveCount: runtimeOptions.maxReceiveCount,
      bound,
      redriven,
      executions,
      failedExecutions,
      deaths,
      diedOnLastReceive,
      longestPath,
      unboundedCycles,
      flowRefusals,
      debounce,
      sequence,
      copyNotRecordedBy,
      schedule,
      converged,
      durationMs,
      invocations: outcomes,
      maxInFlight: poller.stats.maxInFlight,
      logs,
      rejectedSends,
      history: (task) => histories.get(task) ?? [],
      ...(fanOutEvents > 0
        ? {
            fanOut: {
              plans: fanPlans,
              published: fanPublished,
              ledger: fanLedger,
              executions: fanExecutions,
              failedExecutions: fanFailed,
              deaths: fanDeaths,
              table: fanTable,
              dlq: fanDlq,
              counts: { ...fanCounts, crash: fanSchedule.counts.crash, functionTimeout: fanSchedule.counts.functionTimeout, redelivery: fanSchedule.counts.redelivery },
              history: (target: number) => fanHistories.get(target) ?? [],
            },
          }
        : {}),
    };
  } finally {
    destroy();
  }
}
