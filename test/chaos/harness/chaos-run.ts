/**
 * One chaos run against the local system: the synthesized template's resources provisioned
 * on the test emulators (lib/local/template.ts + provision.ts), the real runtime
 * (defineTasks) behind the real local event-source poller, the real producer
 * (TaskProducer.sendBatch), the template's DLQ alarm evaluated by lib/local's alarm
 * evaluator on sampled queue metrics — and the seeded fault schedule (fault-plan.ts)
 * injected at every layer. Returns what the invariants are checked on.
 */
import { randomUUID } from 'node:crypto';
import { DynamoDBClient, ScanCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  SQSClient,
  SetQueueAttributesCommand,
} from '@aws-sdk/client-sqs';
import type { Context, SQSEvent } from 'aws-lambda';
import { TaskProducer, type BatchSendResult } from '../../../lib/client/index.ts';
import { LOCAL_CREDENTIALS } from '../../../lib/local/emulators.ts';
import { EventSourcePoller, type InvocationResult } from '../../../lib/local/event-source-poller.ts';
import { LocalAlarms } from '../../../lib/local/local-alarms.ts';
import { LocalMetrics } from '../../../lib/local/metrics.ts';
import { provision, type ProvisionedSystem } from '../../../lib/local/provision.ts';
import { readTemplate, synthesizeTemplate } from '../../../lib/local/template.ts';
import { DEAD_LETTER_ATTRIBUTES } from '../../../lib/protocol/attributes.ts';
import { PermanentError } from '../../../lib/protocol/errors.ts';
import { ENV } from '../../../lib/protocol/resources.ts';
import { defineTasks, type TaskContext, type TaskDefinition } from '../../../lib/runtime/index.ts';
import type { RuntimeLogger } from '../../../lib/runtime/telemetry.ts';
import { installDynamoFaults, installS3Faults } from './fault-middleware.ts';
import { DEFAULT_RATES, FaultSchedule, planTasks, type ChaosRates, type TaskPlan } from './fault-plan.ts';
import { SimulatedInvocation } from './invocation.ts';
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
  /** Poller MaximumConcurrency (invocations in flight). */
  readonly concurrency: number;
  /** The consumer function's timeout, seconds. */
  readonly functionTimeoutSeconds: number;
  /** The source queue's visibility timeout, seconds (crashed and timed-out batches return after it). */
  readonly visibilityTimeoutSeconds: number;
  /** The chaos task type's handler timeout, ms. */
  readonly handlerTimeoutMs: number;
  readonly maxAttempts: number;
  /** Give up waiting for the queue to drain after this long (what is left is then reported lost). */
  readonly maxRunMs: number;
  readonly rates?: ChaosRates;
  readonly progress?: (line: string) => void;
}

export interface ChaosReport extends Omit<Observed, 'ledger'> {
  readonly ledger: EffectsLedger;
  readonly schedule: FaultSchedule;
  readonly plans: readonly TaskPlan[];
  readonly converged: boolean;
  readonly durationMs: number;
  readonly invocations: Readonly<Record<InvocationResult['outcome'], number>>;
  readonly maxInFlight: number;
  readonly logs: ReadonlyMap<string, number>;
  readonly rejectedSends: number;
  /** What happened to a task, step by step (for explaining a violation). */
  history(task: number): string[];
}

const TASK_TYPE = 'chaos';
const keyOf = (index: number) => `chaos-${index}`;
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A runtime logger that counts WARN/ERROR messages instead of printing 10,000 lines. */
function countingLogger(counts: Map<string, number>, onTask: (taskId: string, line: string) => void): RuntimeLogger {
  const note = (level: string) => (message: string, fields?: Record<string, unknown>) => {
    counts.set(`${level} ${message}`, (counts.get(`${level} ${message}`) ?? 0) + 1);
    if (typeof fields?.taskId === 'string') onTask(fields.taskId, `${level} ${message}${fields.reason ? ` (${String(fields.reason)})` : ''}${fields.why ? ` (${String(fields.why)})` : ''}`);
  };
  return { debug: () => {}, info: note('INFO'), warn: note('WARN'), error: note('ERROR') };
}

export async function runChaos(o: ChaosOptions): Promise<ChaosReport> {
  const log = o.progress ?? (() => {});
  const rates = o.rates ?? DEFAULT_RATES;
  const common = { region: o.endpoints.region, credentials: LOCAL_CREDENTIALS };
  // The harness's own clients (provisioning, producer, inspection): no faults.
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
  installDynamoFaults(consumer.dynamo, schedule);
  installS3Faults(consumer.s3, schedule);
  const plans = planTasks(o.seed, o.tasks, rates);
  const ledger = new EffectsLedger();
  const logs = new Map<string, number>();
  const histories = new Map<number, string[]>();
  const t0 = Date.now();
  const note = (task: number, event: string) => {
    const list = histories.get(task) ?? [];
    list.push(`${((Date.now() - t0) / 1000).toFixed(1)}s ${event}`);
    histories.set(task, list);
  };
  const logger = countingLogger(logs, (taskId, line) => {
    const index = indexByTaskId.get(taskId);
    if (index !== undefined) note(index, line);
  });
  const taskOf = (body: string): number => {
    const match = /"idempotencyKey":"chaos-(\d+)"/.exec(body);
    return match ? Number(match[1]) : -1;
  };
  const indexByTaskId = new Map<string, number>();
  const destroy = () => [...Object.values(harness), ...Object.values(consumer)].forEach((c) => c.destroy());

  try {
    // ── the local system: the template's resources on the emulators ──────────────────────
    const stackName = `Chaos-${randomUUID().slice(0, 8)}`;
    log(`synthesizing ${stackName}`);
    const synthStarted = Date.now();
    const { template } = await synthesizeTemplate({ stackName });
    log(`synthesized in ${Date.now() - synthStarted} ms`);
    const system: ProvisionedSystem = await provision(readTemplate(template, stackName), harness, o.endpoints.region);
    if (system.mappings.length !== 1) throw new Error(`expected one event source mapping, found ${system.mappings.length}`);
    const mapping = system.mappings[0]!;
    const source = mapping.queue;
    const dlqArn = (JSON.parse(source.attributes.RedrivePolicy ?? '{}') as { deadLetterTargetArn?: string }).deadLetterTargetArn;
    const dlq = system.queues.find((q) => q.arn === dlqArn);
    if (!dlq) throw new Error('the template’s source queue has no dead-letter queue');
    const table = system.tables[0]!;
    const bucket = system.buckets[0]!;
    const fnEnv = mapping.function.environment;
    // Short visibility so crashed and timed-out batches come back fast (the template's is 6 × a 30 s timeout).
    await harness.sqs.send(new SetQueueAttributesCommand({ QueueUrl: source.url, Attributes: { VisibilityTimeout: String(o.visibilityTimeoutSeconds) } }));

    // ── the chaos task type and the consumer Lambda ──────────────────────────────────────
    const executions = new Map<number, number>();
    const dead: SimulatedInvocation[] = [];
    const runtimeRandom = rng(o.seed, 'runtime-jitter');

    const chaosTask = (inv: SimulatedInvocation): TaskDefinition<{ i: number; filler?: string }> => ({
      maxAttempts: o.maxAttempts,
      timeoutMs: o.handlerTimeoutMs,
      validate: (p) => typeof (p as { i?: unknown })?.i === 'number',
      async handler(payload, ctx: TaskContext) {
        const plan = plans[payload.i]!;
        const n = (executions.get(plan.index) ?? 0) + 1;
        executions.set(plan.index, n);
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
        if (plan.kind === 'poison') {
          schedule.count('exception');
          throw new Error(`chaos: poison task ${plan.index} fails on every execution`);
        }
        if (plan.kind === 'permanent') {
          schedule.count('exception');
          throw new PermanentError(`chaos: task ${plan.index} can never succeed`);
        }
        if (n <= plan.timeouts) {
          // Overruns its timeout; a well-behaved handler stops when its signal is aborted.
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, o.handlerTimeoutMs * 3);
            ctx.signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
          });
          if (ctx.signal.aborted) schedule.count('timeout');
          throw new Error(`chaos: task ${plan.index} overran its timeout`);
        }
        if (n <= plan.timeouts + plan.failures) {
          schedule.count('exception');
          throw new Error(`chaos: task ${plan.index} transient failure ${n}`);
        }
        // The effect, as the very last step — unless the run is already over for this handler
        // (its time is up, or its process died): applying it then would be the handler's bug, not the platform's.
        if (ctx.signal.aborted || inv.dead) throw new Error('chaos: run abandoned before the effect');
        ledger.apply(plan.index);
        inv.effectApplied(plan.index);
        return { applied: plan.index };
      },
    });

    const runtimeOptions = {
      tableName: table.name,
      queueUrl: source.url,
      deadLetterQueueUrl: dlq.url,
      bucketName: bucket.name,
      claimPrefix: fnEnv[ENV.claimPrefix] || undefined,
      visibilityTimeoutSeconds: o.visibilityTimeoutSeconds,
      backoff: { baseSeconds: 1, capSeconds: 8, jitter: 'equal' as const },
      deadlineMarginMs: 1000,
      leaseMarginMs: 1000,
      random: runtimeRandom,
      logger,
      metrics: { flush: () => {} },
    };

    const lambda = async (event: SQSEvent, context: Context) => {
      const records = event.Records;
      const inv = new SimulatedInvocation(context.awsRequestId, records, schedule.invocation(records.length), consumer, (d) => {
        dead.push(d);
        schedule.count(d.dead === 'crash' ? 'crash' : 'functionTimeout');
        for (const r of records) note(taskOf(r.body), `${d.requestId.slice(0, 8)} invocation died (${d.dead})`);
      });
      for (const r of records) {
        const dlqReason = r.messageAttributes?.[DEAD_LETTER_ATTRIBUTES.reason]?.stringValue;
        note(taskOf(r.body), `${inv.requestId.slice(0, 8)} received ${r.messageId.slice(0, 8)} receiveCount=${r.attributes.ApproximateReceiveCount}${dlqReason ? ` (redriven: ${dlqReason})` : ''}${inv.faults.crashAfterEffects ? ` [crash after ${inv.faults.crashAfterEffects}]` : ''}${inv.faults.hangCompletion ? ' [hang]' : ''}`);
      }
      // A fresh runtime per invocation over the shared clients (cheap: configuration only), so that a dead
      // invocation's runtime can be cut off from the world through its gated clients.
      const { claimPrefix, ...rest } = runtimeOptions;
      const handler = defineTasks({ [TASK_TYPE]: chaosTask(inv) }, { ...rest, ...(claimPrefix ? { claimPrefix } : {}), clients: inv.clients });
      // The sandbox dies at the function timeout (a hair before the poller declares it).
      const deathTimer = setTimeout(() => inv.die('timeout'), Math.max(0, context.getRemainingTimeInMillis() - 5));
      try {
        return await Promise.race([handler(event, context), inv.crashed]);
      } finally {
        clearTimeout(deathTimer);
        if (!inv.dead) inv.finished = true;
      }
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

    // ── the producer: one burst far above the consumer's concurrency ─────────────────────
    const producerS3 = new S3Client({ ...common, endpoint: o.endpoints.s3Endpoint, forcePathStyle: true });
    producerS3.middlewareStack.add(
      ((next: (args: any) => Promise<any>) => async (args: any) => { // eslint-disable-line @typescript-eslint/no-explicit-any
        // Learn which claim object belongs to which task, for the S3 fault schedule.
        const body = args.input?.Body;
        const match = typeof body === 'string' || Buffer.isBuffer(body) ? /"i":(\d+)/.exec(String(body)) : null;
        if (match && typeof args.input?.Key === 'string') schedule.claimFailures.set(args.input.Key, plans[Number(match[1])]!.s3Failures);
        return next(args);
      }) as never,
      { step: 'initialize', name: 'chaosClaimObserver' },
    );
    const producer = new TaskProducer({ queueUrl: source.url, sqs: harness.sqs, bucketName: bucket.name, s3: producerS3, claimPrefix: fnEnv[ENV.claimPrefix] || undefined });
    const claimProducer = new TaskProducer({
      queueUrl: source.url,
      sqs: harness.sqs,
      bucketName: bucket.name,
      s3: producerS3,
      claimPrefix: fnEnv[ENV.claimPrefix] || undefined,
      claimCheckThresholdBytes: 1024,
    });
    const input = (p: TaskPlan) => ({
      type: TASK_TYPE,
      payload: p.claim ? { i: p.index, filler: 'x'.repeat(2048) } : { i: p.index },
      idempotencyKey: keyOf(p.index),
    });

    schedule.start(o.maxRunMs);
    const started = Date.now();
    poller.start();
    const accepted: number[] = [];
    const taskIds = new Map<number, string>();
    let rejectedSends = 0;
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
      await Promise.all([send(producer, plansToSend.filter((p) => !p.claim)), send(claimProducer, plansToSend.filter((p) => p.claim))]);
    };
    await sendAll(plans, false);
    // Duplicates in the burst: the same tasks again (same id, same idempotency key) right behind the originals.
    const burstDuplicates = plans.filter((p) => taskIds.has(p.index)).flatMap((p) => Array.from({ length: p.burstDuplicates }, () => p));
    await sendAll(burstDuplicates, true);
    if (o.tasks + burstDuplicates.length > o.concurrency * mapping.batchSize) schedule.count('burst');
    log(`sent ${accepted.length} tasks + ${burstDuplicates.length} duplicates in ${Date.now() - started} ms`);

    // ── run until the queue drains ───────────────────────────────────────────────────────
    const lateDuplicates = plans.filter((p) => p.lateDuplicates > 0 && taskIds.has(p.index));
    let lateSent = false;
    let quiet = 0;
    let converged = false;
    let lastLog = 0;
    while (Date.now() - started < o.maxRunMs) {
      await sleep(1000);
      const s = await checkAlarm();
      const succeeded = ledger.applied.size;
      if (!lateSent && (succeeded >= accepted.length / 2 || Date.now() - started > 20_000)) {
        // Duplicates sent later: most of them after their task succeeded.
        lateSent = true;
        await sendAll(lateDuplicates, true);
      }
      if (Date.now() - lastLog > 10_000) {
        lastLog = Date.now();
        log(`t=${Math.round((Date.now() - started) / 1000)}s visible=${s.visible} inFlight=${s.inFlight} delayed=${s.delayed} dlq=${s.deadLetterVisible} effects=${succeeded} invocations=${JSON.stringify(outcomes)}`);
      }
      const idle = s.visible === 0 && s.inFlight === 0 && s.delayed === 0 && poller.stats.inFlight === 0;
      quiet = lateSent && idle ? quiet + 1 : 0;
      if (quiet >= 3) {
        log(`drained after ${Math.round((Date.now() - started) / 1000)} s`);
        converged = true;
        break;
      }
    }
    await poller.stop();
    const durationMs = Date.now() - started;
    // Let requests already on the wire from dead invocations land before judging them.
    await sleep(1500);
    for (const inv of dead) for (const task of inv.effects) if (!inv.completed.has(keyOf(task))) ledger.excuse(task);

    // ── what the system says ─────────────────────────────────────────────────────────────
    const tableStatus = new Map<number, string>();
    let startKey: Record<string, AttributeValue> | undefined;
    do {
      const page = await harness.dynamo.send(new ScanCommand({ TableName: table.name, ConsistentRead: true, ...(startKey ? { ExclusiveStartKey: startKey } : {}) }));
      for (const item of page.Items ?? []) {
        const match = /^chaos-(\d+)$/.exec(item.pk?.S ?? '');
        if (match) tableStatus.set(Number(match[1]), item.status?.S ?? '?');
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey);

    // The alarm with the DLQ as the run left it (nobody reads the DLQ during the run).
    const atEnd = await checkAlarm();
    const dlqTasks = new Map<number, string[]>();
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
      for (const m of messages) {
        receipts.push(m.ReceiptHandle!);
        let index = -1;
        try {
          const body = JSON.parse(m.Body ?? '') as { idempotencyKey?: string };
          const match = /^chaos-(\d+)$/.exec(body.idempotencyKey ?? '');
          if (match) index = Number(match[1]);
        } catch {
          /* not ours */
        }
        if (index < 0) continue;
        const reasons = dlqTasks.get(index) ?? [];
        reasons.push(m.MessageAttributes?.[DEAD_LETTER_ATTRIBUTES.reason]?.StringValue ?? '');
        dlqTasks.set(index, reasons);
      }
    }
    if (receipts.length !== atEnd.deadLetterVisible) {
      logs.set(`DLQ held ${receipts.length} messages but its metric said ${atEnd.deadLetterVisible}`, 1);
    }
    // …and once it is empty again: delete what we read, let one alarm period pass, evaluate.
    for (let i = 0; i < receipts.length; i += 10) {
      await harness.sqs.send(
        new DeleteMessageBatchCommand({ QueueUrl: dlq.url, Entries: receipts.slice(i, i + 10).map((ReceiptHandle, k) => ({ Id: String(k), ReceiptHandle })) }),
      );
    }
    await sleep(alarms.localPeriodMs(dlqAlarm.period) + 200);
    await checkAlarm();
    producer.destroy();
    claimProducer.destroy();
    producerS3.destroy();

    return {
      accepted,
      table: tableStatus,
      dlq: dlqTasks,
      ledger,
      alarmChecks,
      schedule,
      plans,
      converged,
      durationMs,
      invocations: outcomes,
      maxInFlight: poller.stats.maxInFlight,
      logs,
      rejectedSends,
      history: (task) => histories.get(task) ?? [],
    };
  } finally {
    destroy();
  }
}
