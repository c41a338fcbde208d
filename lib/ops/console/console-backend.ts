/**
 * What the console's API does, on top of the operations actions the CLI uses (stats, status,
 * cancel, group, schedules, dlq peek / redrive / purge, alarms): one target (the local system or a deployed stack),
 * a sampler that keeps the overview and its charts fresh at a fixed pace however many pages
 * are open, and DLQ work serialized per lane (a listing never hides messages from a redrive
 * that is running).
 */
import { randomUUID } from 'node:crypto';
import type { CancelResult } from '../../client/task-cancel.ts';
import { localStatePath, readLocalState, type LocalState } from '../../local/state.ts';
import type { TaskStatusView } from '../../protocol/task-record.ts';
import type { AlarmsView } from '../alarms.ts';
import { cancelTask } from '../cancel.ts';
import { createClients, type OpsClients } from '../clients.ts';
import type { DeadLetterView } from '../dead-letter-message.ts';
import { peekDeadLetters } from '../dlq-peek.ts';
import { purgeDeadLetters, type PurgeResult } from '../dlq-purge.ts';
import { redriveDeadLetters, type RedriveProgress, type RedriveResult } from '../dlq-redrive.ts';
import { OpsError, toOpsError } from '../errors.ts';
import { groupStatus } from '../group-status.ts';
import { resolveTarget, type OpsTarget, type ResolveDependencies, type TargetOptions } from '../resolve-target.ts';
import { listSchedules, setScheduleState, type ScheduleSources, type ScheduleState, type ScheduleView } from '../schedules.ts';
import { queueStats, type StatsResult } from '../stats.ts';
import { taskStatus } from '../status.ts';
import { alarmsSourceFor, oldestAgeSourceFor } from '../stats-sources.ts';
import { claimReferenceOf, type ClaimReference } from './claim-reference.ts';
import { readGroupPage, type GroupPageQuery, type GroupPageView } from './group-page.ts';
import { laneNamed, lanesOf, type Lane } from './lanes.ts';
import { LaneHistory, ratePerMinute, type LaneHistoryView } from './lane-history.ts';
import { RECENT_TASKS_UNAVAILABLE, recentTasks, type RecentTasksResult } from './recent-tasks.ts';
import { cloudWatchRates, CLOUDWATCH_RATES_SOURCE, LOCAL_RATES_SOURCE } from './task-rates.ts';
import { confirmsGroupLink, envelopeGroupOf, groupLinkFor, type TaskGroupLink } from './task-group-link.ts';
import { lookUpTask, type TaskQuery } from './task-lookup.ts';
import { taskTimeline, TransitionLog, type TimelineEvent } from './task-timeline.ts';

export interface ConsoleBackendOptions {
  readonly target: TargetOptions;
  /** Milliseconds between samples. @default 2000 locally, 30000 against AWS */
  readonly sampleIntervalMs?: number;
  /** Seconds a DLQ listing waits for messages (long poll of each receive). @default 1 */
  readonly dlqWaitSeconds?: number;
  /** The local system's state file (its schedules' control file is beside it). @default localStatePath() */
  readonly localStatePath?: string;
  /** For tests: how targets and local state are read. @default read from localStatePath */
  readonly resolve?: ResolveDependencies;
  /** For tests: the AWS clients of a target. @default createClients */
  readonly createClients?: (target: OpsTarget) => OpsClients;
  readonly now?: () => number;
}

export interface LaneOverview {
  readonly name: string;
  readonly queueUrl: string;
  readonly deadLetterQueueUrl: string;
  readonly stats: StatsResult | null;
  readonly error?: string;
}

export interface OverviewView {
  readonly mode: OpsTarget['mode'] | 'unknown';
  readonly stackName: string | null;
  readonly region: string | null;
  readonly tableName: string | null;
  /** ISO-8601 of the last sample, null before the first. */
  readonly sampledAt: string | null;
  readonly sampleIntervalMs: number;
  readonly lanes: readonly LaneOverview[];
  readonly alarms: AlarmsView | null;
  /** Why the last sample failed, if it did (the previous figures stay). */
  readonly error?: string;
}

export interface DeadLetterEntry extends DeadLetterView {
  /** Where the payload is stored, when it travelled by claim check (size only; never the payload). */
  readonly claimCheck: ClaimReference | null;
  /** The group its envelope names (a sendGroup member's `group`), null for other messages. */
  readonly group: string | null;
}

export interface DeadLetterListing {
  readonly lane: string;
  readonly messages: readonly DeadLetterEntry[];
  readonly notReleased: readonly string[];
  /** A redrive of this lane is running: the listing waits for it (these are the last ones read). */
  readonly busy: boolean;
  readonly listedAt: string | null;
}

export interface TaskView {
  readonly task: TaskStatusView;
  readonly timeline: readonly TimelineEvent[];
  /** From the task's DLQ message when it is dead-lettered; the table keeps no claim-check reference. */
  readonly claimCheck: ClaimReference | null;
  readonly claimCheckNote: string;
  /** The DLQ message of this task, when it is there (open it on the DLQ page to see the body). */
  readonly deadLetter: { readonly lane: string; readonly messageId: string } | null;
  /** The group this task is a member or the callback of (task-group-link.ts), when confirmed by its group item. */
  readonly group: TaskGroupLink | null;
}

/** A task's result as `taskq status` reads it: inline from the record, or fetched from S3 by its resultRef. */
export interface TaskResultView {
  readonly taskId: string;
  readonly result?: unknown;
  /** Why a stored result could not be read (the reference stands). */
  readonly resultError?: string;
}

export interface RedriveJob {
  readonly id: string;
  readonly lane: string;
  readonly selection: { readonly type?: string; readonly messageIds?: readonly string[] };
  readonly state: 'running' | 'done' | 'failed';
  readonly startedAt: string;
  readonly progress: RedriveProgress | null;
  readonly result: RedriveResult | null;
  readonly error: string | null;
}

export class ConsoleBackend {
  private target: OpsTarget | undefined;
  private clients: OpsClients | undefined;
  private overviewView: OverviewView;
  private readonly histories = new Map<string, LaneHistory>();
  private readonly transitions = new TransitionLog();
  /** Confirmed group links by idempotency key (a task's group never changes), bounded like TransitionLog. */
  private readonly groupLinks = new Map<string, TaskGroupLink | null>();
  private readonly dlqQueues = new Map<string, Promise<unknown>>();
  private readonly dlqBusy = new Set<string>();
  private readonly listings = new Map<string, DeadLetterListing>();
  private readonly jobs = new Map<string, RedriveJob>();
  private scheduleListing: { at: number; views: Promise<ScheduleView[]> } | undefined;
  private previousCounters: { deleted: number; returned: number; dlq: number; t: number } | undefined;
  private lastCloudWatchRatesAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private sampling: Promise<void> | undefined;
  private readonly now: () => number;
  readonly sampleIntervalMs: number;

  constructor(private readonly options: ConsoleBackendOptions) {
    this.now = options.now ?? Date.now;
    this.sampleIntervalMs = options.sampleIntervalMs ?? (options.target.local ? 2000 : 30_000);
    this.overviewView = { mode: 'unknown', stackName: null, region: null, tableName: null, sampledAt: null, sampleIntervalMs: this.sampleIntervalMs, lanes: [], alarms: null };
  }

  /** Resolves the target (fails fast: no local system, no stack) and takes the first sample. */
  async start(): Promise<void> {
    await this.refreshTarget();
    await this.sample();
    this.timer = setInterval(() => void this.sample(), this.sampleIntervalMs);
    this.timer.unref();
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.sampling;
    await Promise.allSettled([...this.dlqQueues.values()]);
    this.clients?.destroy();
  }

  overview(): OverviewView {
    return this.overviewView;
  }

  history(laneName: string): LaneHistoryView {
    laneNamed(this.lanes(), laneName);
    return this.historyOf(laneName).view();
  }

  /** Takes one sample now (the sampler's tick; tests call it to avoid waiting). */
  sample(): Promise<void> {
    this.sampling ??= this.takeSample().finally(() => (this.sampling = undefined));
    return this.sampling;
  }

  async task(query: TaskQuery): Promise<TaskView> {
    const { target, clients } = this.ready();
    const tableName = this.tableName(target);
    const task = await lookUpTask(await clients.dynamo(), tableName, query);
    const observed = this.transitions.record(task, new Date(this.now()).toISOString());
    let deadLetter: TaskView['deadLetter'] = null;
    let claimCheck: ClaimReference | null = null;
    let envelopeGroup: string | undefined;
    if (task.status === 'DEAD_LETTERED') {
      for (const lane of this.lanes()) {
        const listing = this.listings.get(lane.name) ?? (await this.deadLetters(lane.name));
        const entry = listing.messages.find((m) => m.taskId === task.taskId);
        if (entry) {
          deadLetter = { lane: lane.name, messageId: entry.messageId };
          claimCheck = entry.claimCheck;
          envelopeGroup = entry.group ?? undefined;
          break;
        }
      }
    }
    const claimCheckNote = claimCheck
      ? 'from the task\'s DLQ message (the payload itself is not read)'
      : deadLetter
        ? 'the payload travelled inline in the message (no claim check)'
        : 'known only while the message is in the DLQ: the task table keeps no claim-check reference';
    const group = await this.groupLinkOf(task, tableName, envelopeGroup);
    return { task, timeline: taskTimeline(task, observed.length > 1 ? observed : []), claimCheck, claimCheckNote, deadLetter, group };
  }

  /** `taskq group` with the callback's status and one page of members (group-page.ts). */
  async group(query: GroupPageQuery): Promise<GroupPageView> {
    const { target, clients } = this.ready();
    return readGroupPage(() => clients.dynamo(), this.tableName(target), query);
  }

  /**
   * One read of the group item per task whose id has a group's shape, remembered (hit or miss);
   * a miss is read again when the task's DLQ message names a group (task-group-link.ts).
   */
  private async groupLinkOf(task: TaskStatusView, tableName: string, envelopeGroup: string | undefined): Promise<TaskGroupLink | null> {
    const known = this.groupLinks.get(task.idempotencyKey);
    if (known !== undefined && (known !== null || envelopeGroup === undefined)) return known;
    const candidate = groupLinkFor(task, envelopeGroup);
    let link: TaskGroupLink | null = null;
    if (candidate) {
      const { clients } = this.ready();
      let group;
      try {
        group = await groupStatus({ dynamo: () => clients.dynamo(), tableName, groupId: candidate.groupId });
      } catch (error) {
        // The link is extra: a failed read leaves it out of this view (not remembered), the task page stands.
        if (!(error instanceof OpsError && error.code === 'GROUP_NOT_FOUND')) return null;
      }
      link = confirmsGroupLink(candidate, group, task.idempotencyKey) ? candidate : null;
    }
    this.groupLinks.set(task.idempotencyKey, link);
    if (this.groupLinks.size > 500) this.groupLinks.delete(this.groupLinks.keys().next().value!);
    return link;
  }

  /**
   * The task's result (`taskq status` reading a resultRef from S3): asked for on its own, so a
   * task page never downloads a stored result unless the person opens it.
   */
  async taskResult(query: { taskId: string; idempotencyKey?: string }): Promise<TaskResultView> {
    const { target, clients } = this.ready();
    const tableName = this.tableName(target);
    const view = await taskStatus({ dynamo: () => clients.dynamo(), s3: () => clients.s3(), tableName, ...query });
    const { resultError } = view as { resultError?: string };
    return { taskId: view.taskId, ...(view.result !== undefined ? { result: view.result } : {}), ...(resultError !== undefined ? { resultError } : {}) };
  }

  /** `taskq cancel`: a finished task is refused (REFUSED) with its status. */
  async cancel(query: { taskId: string; idempotencyKey?: string }): Promise<CancelResult> {
    const { target, clients } = this.ready();
    return cancelTask({ dynamo: () => clients.dynamo(), tableName: this.tableName(target), ...query });
  }

  /**
   * `taskq schedules`: each schedule with its state, expression, time zone and next run. One
   * listing serves every open page for a sample interval (against AWS: ListStackResources and
   * a GetSchedule per schedule), so open tabs do not multiply requests.
   */
  async schedules(): Promise<ScheduleView[]> {
    const cached = this.scheduleListing;
    if (cached && this.now() - cached.at < this.sampleIntervalMs) return cached.views;
    const views = listSchedules(this.scheduleSources());
    this.scheduleListing = { at: this.now(), views };
    views.catch(() => {
      if (this.scheduleListing?.views === views) this.scheduleListing = undefined;
    });
    return views;
  }

  /** `taskq schedules pause|resume <name>`; the next listing reads them again. */
  async setSchedule(name: string, state: ScheduleState): Promise<ScheduleView> {
    try {
      return await setScheduleState(this.scheduleSources(), name, state);
    } finally {
      this.scheduleListing = undefined;
    }
  }

  async recent(limit: number): Promise<RecentTasksResult> {
    const { target, clients } = this.ready();
    if (!target.resources.tableName) return { available: false, note: 'no task table resolved: pass --table' };
    // Known from the stack output: a table without the index is never queried (no refused call, no error).
    const indexName = target.resources.recentTasksIndexName;
    if (!indexName) return { available: false, note: RECENT_TASKS_UNAVAILABLE };
    return recentTasks(await clients.dynamo(), target.resources.tableName, indexName, limit);
  }

  /** Up to `max` dead letters of a lane, left in the DLQ; bodies only with showBody. */
  async deadLetters(laneName: string, options: { showBody?: boolean; max?: number } = {}): Promise<DeadLetterListing> {
    const lane = laneNamed(this.lanes(), laneName);
    if (this.dlqBusy.has(lane.name)) {
      const last = this.listings.get(lane.name);
      return { lane: lane.name, messages: last?.messages ?? [], notReleased: [], busy: true, listedAt: last?.listedAt ?? null };
    }
    return this.serialized(lane.name, async () => {
      const { clients } = this.ready();
      // Bodies are read to find the claim-check reference; they leave only when asked for.
      const peeked = await peekDeadLetters({
        sqs: clients.sqs,
        deadLetterQueueUrl: lane.deadLetterQueueUrl,
        max: options.max ?? 100,
        showBody: true,
        waitSeconds: this.options.dlqWaitSeconds ?? 1,
        now: this.now,
      });
      const messages = peeked.messages.map((m): DeadLetterEntry => {
        const { body, ...rest } = m;
        return { ...rest, claimCheck: claimReferenceOf({ Body: body }), group: envelopeGroupOf(body) ?? null, ...(options.showBody && body !== undefined ? { body } : {}) };
      });
      const listing: DeadLetterListing = { lane: lane.name, messages, notReleased: peeked.notReleased, busy: false, listedAt: new Date(this.now()).toISOString() };
      this.listings.set(lane.name, { ...listing, messages: messages.map(({ body: _body, ...m }) => m) });
      return listing;
    });
  }

  /** Starts a redrive of a lane's DLQ (all, one type, or chosen messages); follow it with job(). */
  startRedrive(laneName: string, selection: { type?: string; messageIds?: readonly string[] }): RedriveJob {
    const lane = laneNamed(this.lanes(), laneName);
    if (this.dlqBusy.has(lane.name)) throw new OpsError('REFUSED', `a redrive of lane ${lane.name} is already running`);
    const id = randomUUID();
    let job: RedriveJob = { id, lane: lane.name, selection, state: 'running', startedAt: new Date(this.now()).toISOString(), progress: null, result: null, error: null };
    const update = (patch: Partial<RedriveJob>) => {
      job = { ...job, ...patch };
      this.jobs.set(id, job);
    };
    update({});
    this.dlqBusy.add(lane.name);
    void this.serialized(lane.name, async () => {
      try {
        const { clients } = this.ready();
        const result = await redriveDeadLetters({
          sqs: clients.sqs,
          deadLetterQueueUrl: lane.deadLetterQueueUrl,
          queueUrl: lane.queueUrl,
          ...(lane.deadLetterQueueArn ? { deadLetterQueueArn: lane.deadLetterQueueArn } : {}),
          ...(lane.queueArn ? { queueArn: lane.queueArn } : {}),
          ...(selection.type !== undefined ? { type: selection.type } : {}),
          ...(selection.messageIds !== undefined ? { messageIds: selection.messageIds } : {}),
          onProgress: (progress) => update({ progress }),
        });
        update({ state: 'done', result });
      } catch (error) {
        update({ state: 'failed', error: toOpsError(error).message });
      } finally {
        this.dlqBusy.delete(lane.name);
        this.listings.delete(lane.name);
      }
    });
    return job;
  }

  job(id: string): RedriveJob {
    const job = this.jobs.get(id);
    if (!job) throw new OpsError('USAGE', `no redrive job ${id}`);
    return job;
  }

  async purge(laneName: string): Promise<PurgeResult> {
    const lane = laneNamed(this.lanes(), laneName);
    if (this.dlqBusy.has(lane.name)) throw new OpsError('REFUSED', `a redrive of lane ${lane.name} is running: purge after it`);
    return this.serialized(lane.name, async () => {
      const result = await purgeDeadLetters({ sqs: this.ready().clients.sqs, deadLetterQueueUrl: lane.deadLetterQueueUrl, yes: true });
      this.listings.delete(lane.name);
      return result;
    });
  }

  private tableName(target: OpsTarget): string {
    const tableName = target.resources.tableName;
    if (!tableName) throw new OpsError('MISSING_RESOURCE', 'no task table resolved: pass --table');
    return tableName;
  }

  private scheduleSources(): ScheduleSources {
    const { target, clients } = this.ready();
    return { target, scheduler: () => clients.scheduler(), cloudFormation: () => clients.cloudFormation(), statePath: this.statePath(), now: () => new Date(this.now()) };
  }

  private statePath(): string {
    return this.options.localStatePath ?? localStatePath();
  }

  private lanes(): Lane[] {
    return this.target ? lanesOf(this.target) : [];
  }

  private historyOf(lane: string): LaneHistory {
    let history = this.histories.get(lane);
    if (!history) this.histories.set(lane, (history = new LaneHistory()));
    return history;
  }

  private ready(): { target: OpsTarget; clients: OpsClients } {
    if (!this.target || !this.clients) throw new OpsError('NO_LOCAL_SYSTEM', 'the console has no target yet');
    return { target: this.target, clients: this.clients };
  }

  /** One DLQ operation at a time per lane. */
  private serialized<T>(lane: string, work: () => Promise<T>): Promise<T> {
    const previous = this.dlqQueues.get(lane) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(work);
    this.dlqQueues.set(lane, next.catch(() => undefined));
    return next;
  }

  /**
   * Local mode reads the state file again on every sample (alarm states and the poller's
   * totals change); a deployed stack's outputs are read once.
   */
  private async refreshTarget(): Promise<LocalState | undefined> {
    const deps = this.options.resolve ?? {};
    let state: LocalState | undefined;
    if (this.options.target.local) {
      state = await (deps.readLocalState ?? (() => readLocalState(this.statePath())))();
      const target = await resolveTarget(this.options.target, ['queueUrl', 'deadLetterQueueUrl'], { ...deps, readLocalState: async () => state });
      if (!this.target || this.target.endpoints.sqs !== target.endpoints.sqs) {
        this.clients?.destroy();
        this.clients = (this.options.createClients ?? createClients)(target);
        this.previousCounters = undefined;
      }
      this.target = target;
    } else if (!this.target) {
      this.target = await resolveTarget(this.options.target, ['queueUrl', 'deadLetterQueueUrl'], deps);
      this.clients = (this.options.createClients ?? createClients)(this.target);
    }
    return state;
  }

  private async takeSample(): Promise<void> {
    const at = this.now();
    let state: LocalState | undefined;
    try {
      state = await this.refreshTarget();
    } catch (error) {
      this.overviewView = { ...this.overviewView, error: toOpsError(error).message };
      return;
    }
    const { target, clients } = this.ready();
    const oldestAge = oldestAgeSourceFor(target, clients);
    const alarms = alarmsSourceFor(target, clients, this.options.target.stack);
    const lanes = await Promise.all(
      lanesOf(target).map(async (lane): Promise<LaneOverview> => {
        const base = { name: lane.name, queueUrl: lane.queueUrl, deadLetterQueueUrl: lane.deadLetterQueueUrl };
        try {
          const stats = await queueStats({ sqs: clients.sqs, queueUrl: lane.queueUrl, deadLetterQueueUrl: lane.deadLetterQueueUrl, oldestAge, alarms });
          this.historyOf(lane.name).addCounts({
            t: at,
            visible: stats.queue.visible,
            inFlight: stats.queue.inFlight,
            delayed: stats.queue.delayed,
            deadLetters: stats.deadLetterQueue.visible + stats.deadLetterQueue.inFlight,
            oldestAgeSeconds: stats.queue.oldestAge.seconds,
          });
          return { ...base, stats };
        } catch (error) {
          return { ...base, stats: null, error: toOpsError(error).message };
        }
      }),
    );
    await this.sampleRates(target, clients, lanes, state, at).catch(() => undefined);
    const first = lanes.find((l) => l.stats);
    this.overviewView = {
      mode: target.mode,
      stackName: target.stackName ?? null,
      region: target.region ?? null,
      tableName: target.resources.tableName ?? null,
      sampledAt: new Date(at).toISOString(),
      sampleIntervalMs: this.sampleIntervalMs,
      lanes,
      alarms: first?.stats?.alarms ?? null,
      ...(lanes.every((l) => l.error) && lanes.length > 0 ? { error: lanes[0]!.error } : {}),
    };
  }

  /** The first lane carries the whole system's rates (the local poller and the consumer's metrics are not per lane). */
  private async sampleRates(target: OpsTarget, clients: OpsClients, lanes: readonly LaneOverview[], state: LocalState | undefined, at: number): Promise<void> {
    const lane = lanes[0];
    if (!lane) return;
    const history = this.historyOf(lane.name);
    if (target.mode === 'local') {
      history.ratesSource = LOCAL_RATES_SOURCE;
      const counters = state?.counters;
      if (!counters || !lane.stats) return;
      const dlq = lane.stats.deadLetterQueue.visible + lane.stats.deadLetterQueue.inFlight;
      const current = { deleted: counters.deleted, returned: counters.returned, dlq, t: at };
      const previous = this.previousCounters;
      this.previousCounters = current;
      const processed = ratePerMinute(previous && { total: previous.deleted, t: previous.t }, { total: current.deleted, t: at });
      const returned = ratePerMinute(previous && { total: previous.returned, t: previous.t }, { total: current.returned, t: at });
      if (processed === undefined || returned === undefined || !previous) return;
      const newDeadLetters = Math.max(0, dlq - previous.dlq);
      history.addRate({ t: at, processedPerMinute: processed, failedPerMinute: returned + (newDeadLetters * 60_000) / (at - previous.t) });
      return;
    }
    history.ratesSource = CLOUDWATCH_RATES_SOURCE;
    if (at - this.lastCloudWatchRatesAt < 60_000) return;
    this.lastCloudWatchRatesAt = at;
    history.replaceRates(await cloudWatchRates(await clients.cloudWatch(), at));
  }
}
