/**
 * TaskProducer: enqueues tasks (envelope v1) on the task queue and reads their status.
 *
 *   const producer = new TaskProducer({ queueUrl, bucketName, tableName });
 *   const { taskId } = await producer.send('send_email', { to: 'a@example.com' });
 *   const status = await producer.getTaskStatus(taskId);
 *
 * Every input is validated before any request (TaskValidationError); a payload whose message
 * is above the claim-check threshold goes to S3 first; with maxBacklog set, a backlog above it
 * refuses tasks with BackpressureError; AWS failures surface as SendError with the AWS code.
 */
import { SQSClient, SendMessageBatchCommand, SendMessageCommand, type SendMessageBatchRequestEntry } from '@aws-sdk/client-sqs';
import type { S3Client } from '@aws-sdk/client-s3';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { ContractInput, TaskContract } from '../protocol/contract.ts';
import { SendError, TaskQueueError, TaskValidationError } from '../protocol/errors.ts';
import type { TaskStatusView } from '../protocol/task-record.ts';
import { isTransientAwsError, toSendError } from './aws-errors.ts';
import { BacklogMonitor } from './backpressure.ts';
import { packBatches } from './batch-packing.ts';
import { ClaimCheck } from './claim-check.ts';
import { ContractRegistry } from './contracts.ts';
import { forEachConcurrent } from './concurrency.ts';
import { resolveProducerConfig, type ResolvedProducerConfig, type TaskProducerConfig } from './config.ts';
import { backoffDelayMs, sleep, withRetry } from './retry.ts';
import { attributesSize, prepareTask, type PreparedTask, type SendOptions, type TaskInput } from './task-message.ts';
import { checkDedupe, DedupeStore, type DedupeClaim } from './dedupe.ts';
import { newTaskId } from '../protocol/ids.ts';
import { TaskStatusReader, type GetTaskStatusOptions } from './task-status.ts';
import { TaskCanceller, type CancelOptions, type CancelResult } from './task-cancel.ts';
import { ResultWaiter, type WaitForResultOptions } from './task-result.ts';
import { publishEvent, type PublishOptions, type PublishResult } from './publish.ts';
import { RoutingTableReader } from './routing.ts';
import { checkGroupId, checkGroupSize, GroupStore } from './task-group.ts';
import { groupCallbackIdempotencyKey, groupCallbackTaskId, groupMemberTaskId, type GroupStatusView } from '../protocol/group.ts';
import { newGroupId } from '../protocol/ids.ts';
import { boundedCalls, boundedSilence } from '../protocol/aws-timeouts.ts';

/** Bytes a consumer adds to a group's callback message: the `groupResult` counts. */
const GROUP_RESULT_ROOM = 200;

/** sendGroup's options. */
export interface SendGroupOptions<C extends TaskContract = TaskContract> {
  /** The group's id (1–100 characters of TASK_ID_PATTERN); the same id sends the same group again. @default a new `grp_<32 hex>` id */
  readonly groupId?: string;
  /**
   * The callback task, sent once when every member reached a final state; its handler reads
   * the counts in `ctx.groupResult`. Its type is checked like any send's (contracts, schema).
   * @default no callback (the group's counts are still kept: getGroupStatus)
   */
  readonly onComplete?: {
    readonly type: string | C;
    readonly payload: unknown;
    /** FIFO: the callback's message group. @default none */
    readonly options?: Pick<SendOptions, 'messageGroupId' | 'tenantId'>;
  };
}

/** What sendGroup returns once the members were sent. */
export interface SendGroupResult {
  readonly groupId: string;
  readonly total: number;
  /** One result per member, in input order (as sendBatch). */
  readonly tasks: readonly BatchSendResult[];
  /** Members not sent (their results say why): the group completes only once they are — send the group again. */
  readonly unsent: number;
}

/** What send() returns once SQS has the task. */
export interface SendResult {
  readonly taskId: string;
  readonly idempotencyKey: string;
  /** `deduplicated`: a send with `dedupe` that was skipped; taskId is the key's existing task. */
  readonly status: 'accepted' | 'deduplicated';
  /** SQS messageId (for tracing only: the idempotency key is never derived from it). */
  readonly messageId?: string;
}

/** One result per sendBatch input, in input order. */
export type BatchSendResult =
  | { readonly ok: true; readonly taskId: string; readonly idempotencyKey: string; readonly messageId?: string }
  | { readonly ok: false; readonly taskId?: string; readonly idempotencyKey?: string; readonly error: TaskQueueError };

export class TaskProducer {
  readonly queueUrl: string;
  readonly fifo: boolean;
  private readonly config: ResolvedProducerConfig;
  private readonly sqs: SQSClient;
  private readonly ownsSqs: boolean;
  private readonly claimCheck: ClaimCheck | undefined;
  /** One backlog monitor per destination queue (each lane's queue is watched on its own). */
  private readonly backlogMonitors = new Map<string, BacklogMonitor>();
  private readonly statusReader: TaskStatusReader;
  private readonly canceller: TaskCanceller;
  private readonly waiter: ResultWaiter;
  private readonly contracts: ContractRegistry;
  private readonly dedupe: DedupeStore | undefined;
  private readonly routing: RoutingTableReader | undefined;
  private readonly groups: GroupStore | undefined;
  private readonly created: { destroy(): void }[] = [];

  constructor(config: TaskProducerConfig) {
    this.config = resolveProducerConfig(config);
    this.queueUrl = this.config.queueUrl;
    this.fifo = this.config.fifo;
    const clientConfig = {
      ...(config.region !== undefined ? { region: config.region } : {}),
      ...(config.endpoint !== undefined ? { endpoint: config.endpoint } : {}),
      ...(config.credentials !== undefined ? { credentials: config.credentials } : {}),
    };
    this.ownsSqs = config.sqs === undefined;
    // A client of our own leaves retries to the producer's policy (no multiplied attempts).
    this.sqs = config.sqs ?? new SQSClient({ ...clientConfig, maxAttempts: 1, requestHandler: boundedCalls(config.awsTimeouts) });

    const given = config.s3;
    let s3: Promise<S3Client> | undefined;
    // Loaded on first need: claim-check uploads, results stored in S3 (waitForResult).
    const getS3 = (): Promise<S3Client> =>
      (s3 ??= given
        ? Promise.resolve(given)
        : import('@aws-sdk/client-s3').then(({ S3Client }) => {
            // A custom endpoint (config, or the SDK's AWS_ENDPOINT_URL[_S3] variables) is an
            // emulator: they serve path-style URLs, not bucket subdomains.
            const custom = config.endpoint ?? process.env.AWS_ENDPOINT_URL_S3 ?? process.env.AWS_ENDPOINT_URL;
            const client = new S3Client({ ...clientConfig, maxAttempts: 1, requestHandler: boundedSilence(config.awsTimeouts), ...(custom !== undefined ? { forcePathStyle: true } : {}) });
            this.created.push(client);
            return client;
          }));
    if (this.config.claimCheck) this.claimCheck = new ClaimCheck(this.config.claimCheck, getS3, this.config.retry);
    const givenDynamo = config.dynamo;
    let dynamo: Promise<DynamoDBClient> | undefined;
    const getDynamo = (): Promise<DynamoDBClient> =>
      (dynamo ??= givenDynamo
        ? Promise.resolve(givenDynamo)
        : import('@aws-sdk/client-dynamodb').then(({ DynamoDBClient }) => {
            const client = new DynamoDBClient({ ...clientConfig, requestHandler: boundedCalls(config.awsTimeouts) });
            this.created.push(client);
            return client;
          }));
    this.statusReader = new TaskStatusReader(getDynamo, this.config.tableName);
    this.canceller = new TaskCanceller(getDynamo, this.config.tableName, this.config.now);
    this.waiter = new ResultWaiter(this.statusReader, getS3, this.config.now);
    this.contracts = new ContractRegistry(config.contracts);
    if (this.config.tableName) this.dedupe = new DedupeStore(getDynamo, this.config.tableName, this.config.now);
    if (this.config.tableName) this.groups = new GroupStore(getDynamo, this.config.tableName, this.config.now);
    if (this.config.routing) this.routing = new RoutingTableReader(getDynamo, this.config.routing.tableName, this.config.routing.cacheTtlMs, this.config.now);
  }

  /**
   * Enqueues one task. Resolves once SQS has accepted it. Given a contract (defineContract),
   * the payload is typed and checked by its schema before anything is sent.
   * @throws TaskValidationError (nothing sent: SCHEMA_VIOLATION, UNKNOWN_TASK_TYPE, …), BackpressureError, SendError (CLAIM_UPLOAD_FAILED or SEND_FAILED)
   */
  async send<C extends TaskContract>(contract: C, payload: ContractInput<C>, options?: SendOptions): Promise<SendResult>;
  async send<P = unknown>(type: string, payload: P, options?: SendOptions): Promise<SendResult>;
  async send(typeOrContract: string | TaskContract, payload: unknown, options?: SendOptions): Promise<SendResult> {
    const { type, contract } = this.contracts.resolve(typeOrContract);
    await this.contracts.check(contract, payload);
    if (options?.dedupe !== undefined) {
      const mode = checkDedupe(options.dedupe, { fifo: this.fifo, retentionSeconds: this.config.queueRetentionSeconds, hasTable: this.dedupe !== undefined });
      if (mode === 'debounce' && (options.delaySeconds !== undefined || options.delayMs !== undefined || options.runAt !== undefined)) {
        throw new TaskValidationError('INVALID_DEDUPE', 'a debounced task runs when its key has been quiet for ttlSeconds: give no delaySeconds, delayMs or runAt with it');
      }
      // Everything else is checked before the dedupe item is written.
      prepareTask(type, payload, options, this.config);
      const claim = await this.dedupe!.claim(type, options.dedupe, mode, options.taskId ?? newTaskId());
      if (claim.kind === 'skip') return { taskId: claim.taskId, idempotencyKey: claim.taskId, status: 'deduplicated' };
      try {
        return await this.sendPrepared(this.prepareClaimed(type, payload, options, claim));
      } catch (error) {
        await this.dedupe!.release(type, options.dedupe, mode, claim.taskId);
        throw error;
      }
    }
    return this.sendPrepared(prepareTask(type, payload, options, this.config));
  }

  /** The task a claimed dedupe send becomes: the claim's task id (and, debounce, its delay and version mark). */
  private prepareClaimed(type: string, payload: unknown, options: SendOptions, claim: Extract<DedupeClaim, { kind: 'send' }>): PreparedTask {
    const { delaySeconds: _s, delayMs: _m, runAt: _r, ...rest } = options;
    const task = prepareTask(type, payload, claim.delayMs !== undefined ? { ...rest, taskId: claim.taskId, delayMs: claim.delayMs } : { ...options, taskId: claim.taskId }, this.config);
    if (claim.attribute) {
      const added = { [claim.attribute.name]: { DataType: 'String', StringValue: claim.attribute.value } };
      task.attributes = { ...task.attributes, ...added };
      task.size += attributesSize(added);
    }
    return task;
  }

  private async sendPrepared(task: PreparedTask): Promise<SendResult> {
    const queueUrl = await this.queueUrlFor(task.type);
    await this.backlogMonitorOf(queueUrl)?.check();
    if (this.claimCheck?.needs(task)) await this.claimCheck.apply(task);
    let messageId: string | undefined;
    try {
      const out = await withRetry(this.config.retry, () =>
        this.sqs.send(
          new SendMessageCommand({
            QueueUrl: queueUrl,
            MessageBody: task.body,
            MessageAttributes: task.attributes,
            ...(task.delaySeconds !== undefined ? { DelaySeconds: task.delaySeconds } : {}),
            ...(task.messageGroupId !== undefined ? { MessageGroupId: task.messageGroupId } : {}),
            ...(task.deduplicationId !== undefined ? { MessageDeduplicationId: task.deduplicationId } : {}),
          }),
        ),
      );
      messageId = out.MessageId;
    } catch (error) {
      throw toSendError(error, `sending task ${task.taskId}`, { taskId: task.taskId, ...(task.claimKey ? { claimKey: task.claimKey } : {}) });
    }
    return { taskId: task.taskId, idempotencyKey: task.idempotencyKey, status: 'accepted', ...(messageId ? { messageId } : {}) };
  }

  /**
   * Enqueues many tasks with SendMessageBatch (≤ 10 entries and ≤ 1 MiB per request, packed by
   * size), batchConcurrency requests at a time. Never throws for a task: each input gets a
   * result in input order, and an entry that could not be sent says why.
   */
  async sendBatch(tasks: readonly TaskInput[]): Promise<BatchSendResult[]> {
    const { prepared, results } = await this.prepareBatch(tasks, 'sendBatch()');
    return this.deliver(prepared, results);
  }

  /** Validates and encodes each task of a batch; a task that fails gets its result here. */
  private async prepareBatch(tasks: readonly TaskInput[], caller: string, group?: string): Promise<{ prepared: (PreparedTask | undefined)[]; results: (BatchSendResult | undefined)[] }> {
    const n = tasks.length;
    const results: (BatchSendResult | undefined)[] = new Array(n);
    const prepared: (PreparedTask | undefined)[] = new Array(n);
    for (let i = 0; i < n; i++) {
      const t = tasks[i];
      try {
        if (typeof t !== 'object' || t === null) throw new TaskValidationError('INVALID_OPTIONS', 'each task must be an object { type, payload, ...options }');
        if (t.dedupe !== undefined) throw new TaskValidationError('INVALID_DEDUPE', `dedupe is an option of send(), not of ${caller}: each dedupe send is one conditional write first`);
        const { type, contract } = this.contracts.resolve(t.type);
        await this.contracts.check(contract, t.payload);
        // A member's id is `<groupId>.<index>` unless given: sending the group again re-sends the same tasks.
        const options = group !== undefined && t.taskId === undefined ? { ...t, taskId: groupMemberTaskId(group, i) } : t;
        prepared[i] = prepareTask(type, t.payload, options, this.config, group);
      } catch (error) {
        results[i] = failure(error, typeof t?.taskId === 'string' ? t.taskId : undefined);
      }
    }
    return { prepared, results };
  }

  /** Sends prepared tasks (those without a result yet): routing, backpressure, claim check, SendMessageBatch. */
  private async deliver(prepared: (PreparedTask | undefined)[], results: (BatchSendResult | undefined)[]): Promise<BatchSendResult[]> {
    const n = prepared.length;
    let valid: number[] = [];
    for (let i = 0; i < n; i++) if (results[i] === undefined && prepared[i] !== undefined) valid.push(i);

    // With routing, each task goes to its lane's queue; backpressure is each queue's own.
    const queueOf = new Map<number, string>();
    for (const i of valid) {
      try {
        queueOf.set(i, await this.queueUrlFor(prepared[i]!.type));
      } catch (error) {
        results[i] = failure(error, prepared[i]!.taskId, prepared[i]!.idempotencyKey);
      }
    }
    const refused = new Map<string, unknown>();
    for (const queueUrl of new Set(queueOf.values())) {
      try {
        await this.backlogMonitorOf(queueUrl)?.check();
      } catch (error) {
        refused.set(queueUrl, error);
      }
    }
    for (const [i, queueUrl] of queueOf) {
      if (refused.has(queueUrl)) results[i] = failure(refused.get(queueUrl), prepared[i]!.taskId, prepared[i]!.idempotencyKey);
    }
    valid = valid.filter((i) => results[i] === undefined);

    const claimCheck = this.claimCheck;
    if (claimCheck) {
      const large = valid.filter((i) => claimCheck.needs(prepared[i]!));
      if (large.length > 0) {
        await forEachConcurrent(large, this.config.batchConcurrency, async (i) => {
          const task = prepared[i]!;
          try {
            await claimCheck.apply(task);
          } catch (error) {
            results[i] = failure(error, task.taskId, task.idempotencyKey);
          }
        });
        valid = valid.filter((i) => results[i] === undefined);
      }
    }

    // One pass per destination queue.
    const byQueue = new Map<string, number[]>();
    for (const i of valid) {
      const queueUrl = queueOf.get(i)!;
      const list = byQueue.get(queueUrl);
      if (list) list.push(i);
      else byQueue.set(queueUrl, [i]);
    }
    for (const [queueUrl, indexes] of byQueue) {
      if (this.fifo) {
        await this.sendInGroupOrder(queueUrl, indexes, prepared, results);
      } else {
        const bins = packBatches(indexes.map((i) => prepared[i]!.size)).map((bin) => bin.map((j) => indexes[j]!));
        await forEachConcurrent(bins, this.config.batchConcurrency, (bin) => this.sendEntries(queueUrl, bin, prepared, results));
      }
    }

    for (let i = 0; i < n; i++) {
      // Defensive: every path above sets a result; never let a task vanish.
      results[i] ??= failure(new SendError('SEND_FAILED', 'internal error: the task got no result', {}), prepared[i]?.taskId, prepared[i]?.idempotencyKey);
    }
    return results as BatchSendResult[];
  }

  /**
   * Sends a group of tasks with a callback: the group's item (its counts) and its prepared
   * callback are written first, then the members are sent (as sendBatch, each carrying the
   * group id). Each member is counted once when it reaches a final state (SUCCEEDED,
   * DEAD_LETTERED, CANCELLED) — whatever its duplicates and redrives — and the consumer that
   * counts the last one sends `onComplete` once, with the counts in `ctx.groupResult`. Members
   * may go to any lane. A member that could not be sent has its result here (`unsent` counts
   * them): call sendGroup again with the same groupId and members — those already sent keep
   * their task ids and run once. Needs tableName and TaskQueue.grantSend.
   * @throws TaskValidationError (INVALID_OPTIONS, UNKNOWN_TASK_TYPE, SCHEMA_VIOLATION of the callback, GROUP_CONFLICT), SendError GROUP_FAILED (nothing sent)
   */
  async sendGroup<C extends TaskContract = TaskContract>(tasks: readonly TaskInput[], options: SendGroupOptions<C> = {}): Promise<SendGroupResult> {
    if (!this.groups) throw new TaskValidationError('CONFIGURATION', 'TaskProducer: sendGroup needs tableName (the group\'s counts are kept in the task table)');
    if (!Array.isArray(tasks)) throw new TaskValidationError('INVALID_OPTIONS', 'sendGroup takes an array of tasks { type, payload, ...options }');
    checkGroupSize(tasks.length);
    const groupId = options.groupId ?? newGroupId();
    checkGroupId(groupId);
    let callback: PreparedTask | undefined;
    if (options.onComplete !== undefined) {
      const { type, contract } = this.contracts.resolve(options.onComplete.type);
      await this.contracts.check(contract, options.onComplete.payload);
      callback = prepareTask(type, options.onComplete.payload, { ...options.onComplete.options, taskId: groupCallbackTaskId(groupId), idempotencyKey: groupCallbackIdempotencyKey(groupId) }, this.config);
      // Room for the counts the consumer adds: a callback near the limit goes by claim check.
      if (this.claimCheck && (this.claimCheck.needs(callback) || callback.size + GROUP_RESULT_ROOM > this.config.inlineLimitBytes)) await this.claimCheck.apply(callback);
    }
    const { prepared, results } = await this.prepareBatch(tasks, 'sendGroup()', groupId);
    const refused = results.findIndex((r) => r !== undefined);
    if (refused >= 0) {
      const error = (results[refused] as Extract<BatchSendResult, { ok: false }>).error;
      const code = error instanceof TaskValidationError ? error.code : 'INVALID_OPTIONS';
      throw new TaskValidationError(code, `group member ${refused}: ${error.message}; nothing was sent`, { cause: error, ...(error instanceof TaskValidationError && error.issues ? { issues: error.issues } : {}) });
    }
    const keys = new Set(prepared.map((t) => t!.idempotencyKey));
    if (keys.size !== prepared.length) throw new TaskValidationError('INVALID_OPTIONS', 'two members of a group have the same idempotency key (each member is counted once by its key); nothing was sent');
    await this.groups.create(groupId, tasks.length, callback);
    const sent = await this.deliver(prepared, results);
    return { groupId, total: tasks.length, tasks: sent, unsent: sent.filter((r) => !r.ok).length };
  }

  /**
   * A group's counts and state (COMPLETE once every member reached a final state), or undefined
   * when there is no such group or it expired. Needs TaskQueue.grantStatusRead.
   * @throws SendError GROUP_FAILED (the read failed)
   */
  getGroupStatus(groupId: string, options: { readonly consistentRead?: boolean } = {}): Promise<GroupStatusView | undefined> {
    if (!this.groups) throw new TaskValidationError('CONFIGURATION', 'TaskProducer: getGroupStatus needs tableName');
    checkGroupId(groupId);
    return this.groups.status(groupId, options.consistentRead);
  }

  /**
   * Publishes an event: one task per fan-out target of the stack's routing table, each sent to
   * its target's lane with idempotency key `<eventId>:<target>` — so each target has its own
   * retries, DLQ reason and idempotency, a publish repeated with the same eventId (or an SQS
   * duplicate) runs each target once, and a failing target never re-runs another. Needs
   * `routing`. Never throws for a target: each gets a result, in the table's order.
   * @throws TaskValidationError (UNKNOWN_EVENT, INVALID_OPTIONS, CONFIGURATION), SendError ROUTING_FAILED
   */
  async publish(event: string, payload: unknown, options: PublishOptions): Promise<PublishResult> {
    if (!this.routing) throw new TaskValidationError('CONFIGURATION', 'TaskProducer: publish needs routing: true (the fan-out targets are in the stack\'s routing table)');
    return publishEvent(this.routing, (tasks) => this.sendBatch(tasks), event, payload, options);
  }

  /**
   * The task's status from the task table (PENDING when it has no record yet).
   * Pass the idempotency key when the task was sent with its own.
   */
  getTaskStatus(taskId: string, options?: GetTaskStatusOptions): Promise<TaskStatusView> {
    return this.statusReader.get(taskId, options);
  }

  /**
   * Waits for the task to finish and resolves with its handler's result (read from S3 when it
   * was too large for the record), polling its record with a growing interval (250 ms × 1.5ⁿ,
   * at most 5 s; about 20 reads a minute). Needs tableName and TaskQueue.grantStatusRead.
   * @throws TaskOutcomeError TASK_DEAD_LETTERED, TASK_CANCELLED, WAIT_TIMEOUT (default 60 s), WAIT_ABORTED, RESULT_UNREADABLE; TaskQueueError STATUS_FAILED
   */
  waitForResult<R = unknown>(taskId: string, options?: WaitForResultOptions): Promise<R> {
    return this.waiter.wait<R>(taskId, options);
  }

  /**
   * send() then waitForResult(): for callers that need the answer, with the queue's retries
   * and isolation. The wait starts once SQS has the task; its options are `wait`.
   */
  async sendAndWait<R = unknown, C extends TaskContract = TaskContract>(contract: C, payload: ContractInput<C>, options?: SendOptions & { readonly wait?: WaitForResultOptions }): Promise<R>;
  async sendAndWait<R = unknown, P = unknown>(type: string, payload: P, options?: SendOptions & { readonly wait?: WaitForResultOptions }): Promise<R>;
  async sendAndWait(typeOrContract: string | TaskContract, payload: unknown, options: SendOptions & { readonly wait?: WaitForResultOptions } = {}): Promise<unknown> {
    const { wait, ...sendOptions } = options;
    const sent = await this.send(typeOrContract as string, payload, sendOptions);
    return this.waiter.wait(sent.taskId, { ...wait, idempotencyKey: sent.idempotencyKey });
  }

  /**
   * Cancels a task that has not finished: marks it CANCELLED in the task table, so the
   * consumer acknowledges its copies without running them; a running handler sees ctx.signal
   * abort within the consumer's cancelCheckIntervalMs (and may still finish: wasRunning).
   * Needs TaskQueue.grantCancel. Idempotent. Pass the idempotency key when the task was sent with its own.
   * @throws TaskOutcomeError TASK_FINISHED (SUCCEEDED or DEAD_LETTERED: nothing to cancel) or CANCEL_FAILED; TaskValidationError
   */
  cancel(taskId: string, options?: CancelOptions): Promise<CancelResult> {
    return this.canceller.cancel(taskId, options);
  }

  /**
   * The backlog of the queue a task of `type` goes to (its lane's with routing; `queueUrl`'s
   * without a type), as the backpressure check sees it (cached); undefined without maxBacklog
   * or when unreadable.
   */
  async backlog(type?: string): Promise<number | undefined> {
    return this.backlogMonitorOf(type === undefined ? this.queueUrl : await this.queueUrlFor(type))?.backlog();
  }

  /** The backlog monitor of a destination queue, created on first use; undefined without maxBacklog. */
  private backlogMonitorOf(queueUrl: string): BacklogMonitor | undefined {
    const settings = this.config.backpressure;
    if (!settings) return undefined;
    let monitor = this.backlogMonitors.get(queueUrl);
    if (!monitor) this.backlogMonitors.set(queueUrl, (monitor = new BacklogMonitor(this.sqs, queueUrl, settings, this.config.now)));
    return monitor;
  }

  /** The queue a task of `type` is sent to: its lane's with routing, else `queueUrl`. */
  private async queueUrlFor(type: string): Promise<string> {
    return this.routing ? this.routing.queueUrlFor(type, this.queueUrl) : this.queueUrl;
  }

  /** Destroys the clients the producer created (not those passed in). */
  destroy(): void {
    if (this.ownsSqs) this.sqs.destroy();
    for (const client of this.created) client.destroy();
  }

  /** One SendMessageBatch request and its retries: transient request failures and SenderFault=false entries. */
  /**
   * FIFO: a message group's tasks reach SQS in input order even when an entry fails. A request
   * carries at most one entry per group, and a group's next entry is sent only once the one
   * before it was accepted (its retries included); when one fails for good, the rest of its
   * group fail with EARLIER_IN_GROUP_FAILED, unsent. Groups progress side by side, up to 10
   * per request — so a single-group batch takes one request per task (docs/PRODUCER.md).
   */
  private async sendInGroupOrder(queueUrl: string, valid: number[], prepared: (PreparedTask | undefined)[], results: (BatchSendResult | undefined)[]): Promise<void> {
    const groups = new Map<string, number[]>();
    for (const i of valid) {
      const group = prepared[i]!.messageGroupId ?? '';
      const queue = groups.get(group);
      if (queue) queue.push(i);
      else groups.set(group, [i]);
    }
    while (groups.size > 0) {
      const heads = [...groups.values()].map((queue) => queue[0]!);
      const bins = packBatches(heads.map((i) => prepared[i]!.size)).map((bin) => bin.map((j) => heads[j]!));
      await forEachConcurrent(bins, this.config.batchConcurrency, (bin) => this.sendEntries(queueUrl, bin, prepared, results));
      for (const [group, queue] of groups) {
        const head = queue.shift()!;
        if (results[head]?.ok === false) {
          const failedId = prepared[head]!.taskId;
          for (const i of queue) {
            const t = prepared[i]!;
            const error = new SendError('EARLIER_IN_GROUP_FAILED', `task ${t.taskId} not sent: task ${failedId} before it in message group ${JSON.stringify(group)} could not be sent, and FIFO order must hold`, {
              taskId: t.taskId,
              ...withClaim(t),
            });
            results[i] = failure(error, t.taskId, t.idempotencyKey);
          }
          queue.length = 0;
        }
        if (queue.length === 0) groups.delete(group);
      }
    }
  }

  private async sendEntries(queueUrl: string, indexes: number[], prepared: (PreparedTask | undefined)[], results: (BatchSendResult | undefined)[]): Promise<void> {
    const { maxAttempts } = this.config.retry;
    let pending = indexes;
    for (let attempt = 1; pending.length > 0; attempt++) {
      const last = attempt >= maxAttempts;
      const entries: SendMessageBatchRequestEntry[] = pending.map((i) => {
        const t = prepared[i]!;
        return {
          Id: String(i),
          MessageBody: t.body,
          MessageAttributes: t.attributes,
          ...(t.delaySeconds !== undefined ? { DelaySeconds: t.delaySeconds } : {}),
          ...(t.messageGroupId !== undefined ? { MessageGroupId: t.messageGroupId } : {}),
          ...(t.deduplicationId !== undefined ? { MessageDeduplicationId: t.deduplicationId } : {}),
        };
      });
      let out;
      try {
        out = await this.sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries }));
      } catch (error) {
        if (!last && isTransientAwsError(error)) {
          await sleep(backoffDelayMs(attempt, this.config.retry));
          continue;
        }
        for (const i of pending) {
          const t = prepared[i]!;
          results[i] = failure(toSendError(error, `sending task ${t.taskId}`, { taskId: t.taskId, ...withClaim(t) }), t.taskId, t.idempotencyKey);
        }
        return;
      }
      const waiting = new Set(pending);
      const retry: number[] = [];
      for (const s of out.Successful ?? []) {
        const i = Number(s.Id);
        if (!waiting.delete(i)) continue;
        const t = prepared[i]!;
        results[i] = { ok: true, taskId: t.taskId, idempotencyKey: t.idempotencyKey, ...(s.MessageId ? { messageId: s.MessageId } : {}) };
      }
      for (const f of out.Failed ?? []) {
        const i = Number(f.Id);
        if (!waiting.delete(i)) continue;
        const t = prepared[i]!;
        if (!f.SenderFault && !last) {
          retry.push(i);
          continue;
        }
        const claimNote = t.claimKey ? ` (claim object ${t.claimKey} was uploaded and expires by the bucket's lifecycle rule)` : '';
        const error = new SendError(
          'SEND_FAILED',
          `SQS refused task ${t.taskId}${f.SenderFault ? '' : ` after ${attempt} attempts`}: ${f.Code ?? 'unknown'}: ${f.Message ?? ''}${claimNote}`,
          { taskId: t.taskId, ...withClaim(t), ...(f.Code ? { awsCode: f.Code } : {}), senderFault: f.SenderFault ?? false },
        );
        results[i] = failure(error, t.taskId, t.idempotencyKey);
      }
      // An entry the response does not mention is not assumed sent.
      for (const i of waiting) {
        if (!last) {
          retry.push(i);
        } else {
          const t = prepared[i]!;
          results[i] = failure(new SendError('SEND_FAILED', `SQS did not report on task ${t.taskId}`, { taskId: t.taskId, ...withClaim(t) }), t.taskId, t.idempotencyKey);
        }
      }
      pending = retry;
      if (pending.length > 0) await sleep(backoffDelayMs(attempt, this.config.retry));
    }
  }
}

function withClaim(t: PreparedTask): { claimKey?: string } {
  return t.claimKey ? { claimKey: t.claimKey } : {};
}

function failure(error: unknown, taskId?: string, idempotencyKey?: string): BatchSendResult {
  const e =
    error instanceof TaskQueueError
      ? error
      : new SendError('SEND_FAILED', `unexpected error: ${(error as Error)?.message ?? String(error)}`, {}, { cause: error });
  return {
    ok: false,
    ...(taskId !== undefined ? { taskId } : {}),
    ...(idempotencyKey !== undefined ? { idempotencyKey } : {}),
    error: e,
  };
}
