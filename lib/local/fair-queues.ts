/**
 * SQS fair queues, reproduced in front of fauxqs well enough to show their effect locally
 * (docs/FLOW-CONTROL.md "Fair queues"). fauxqs drops the MessageGroupId of a message sent to a
 * standard queue and serves ready messages in arrival order, so one tenant's flood delays
 * every other tenant. Here:
 *
 * - **The group is kept.** A standard-queue SendMessage / SendMessageBatch entry's
 *   MessageGroupId is stored with the message and returned by ReceiveMessage (the
 *   `MessageGroupId` system attribute), as SQS does for fair queues.
 * - **Noisy tenants wait.** On each receive, a tenant (message group) becomes noisy when it
 *   holds more than 10 % of the queue's in-flight messages and at least 30 of them — the
 *   concurrency share rule AWS documents. Ready messages of quiet tenants are served first (in
 *   arrival order); noisy tenants' messages after them, the tenant with the fewest in flight
 *   first. A message without a group is a tenant of its own (always quiet).
 * - **Noisy until drained or silent.** As AWS documents, a tenant stays noisy until its backlog
 *   is drained (none of its messages left in the queue but those in flight) or it has sent
 *   nothing for five minutes — not only while its in-flight count is high. (A flooding tenant
 *   whose in-flight count dips between two consumers' batches would otherwise be served in
 *   arrival order at that moment, ahead of a quiet tenant's newer message.)
 *
 * Not reproduced: AWS's second rule (a tenant's share of recent processing time), and its
 * detection being approximate and distributed. FIFO queues are untouched (fauxqs keeps their
 * group semantics).
 */

/** What this module uses of fauxqs's SqsQueue (its message store; fauxqs is a pinned dependency). */
interface StoredMessage {
  messageId: string;
  messageAttributes: Record<string, unknown>;
  messageGroupId?: string;
}
interface QueueInternals {
  messages: StoredMessage[];
  inflightMessages: Map<string, { message: StoredMessage }>;
  isFifo(): boolean;
  processTimers(): void;
  enqueue(message: StoredMessage): void;
  dequeue(maxCount: number, ...rest: unknown[]): unknown[];
}
interface QueueClass {
  prototype: QueueInternals;
}

/** The concurrency-share rule of SQS fair queues: share of in-flight messages, and a floor. */
export const NOISY_INFLIGHT_SHARE = 0.1;
export const NOISY_INFLIGHT_MIN = 30;
/** A noisy tenant that sends nothing for this long is quiet again (its backlog may remain). */
export const NOISY_SILENCE_MS = 5 * 60_000;

/** What a queue remembers of its tenants between receives. */
export interface TenantState {
  /** Tenants detected noisy, and not yet drained or silent. */
  readonly noisy: Set<string>;
  /** Tenant → when it last sent a message (ms). */
  readonly lastSentAt: Map<string, number>;
}

export function newTenantState(): TenantState {
  return { noisy: new Set(), lastSentAt: new Map() };
}

/** The tenants that are noisy by the concurrency-share rule at this moment. */
export function noisyByConcurrency(inflight: ReadonlyMap<string, number>): Set<string> {
  const total = [...inflight.values()].reduce((a, b) => a + b, 0);
  return new Set([...inflight].filter(([, n]) => n >= NOISY_INFLIGHT_MIN && n > total * NOISY_INFLIGHT_SHARE).map(([g]) => g));
}

/**
 * The noisy tenants of this receive: those the concurrency-share rule flags now, and those it
 * flagged before that still have a backlog (a message in `stored`, ready or delayed) and sent
 * something within NOISY_SILENCE_MS. Updates `state`.
 */
export function noisyTenants(state: TenantState, stored: readonly StoredMessage[], inflight: ReadonlyMap<string, number>, now: number): Set<string> {
  for (const g of noisyByConcurrency(inflight)) state.noisy.add(g);
  forgetQuietTenants(state, stored, now);
  return state.noisy;
}

/** Drops from `state` the noisy tenants with no backlog left in `stored`, or silent for NOISY_SILENCE_MS. */
export function forgetQuietTenants(state: TenantState, stored: readonly StoredMessage[], now: number): void {
  if (state.noisy.size === 0) return;
  const backlog = new Set<string>();
  for (const m of stored) if (m.messageGroupId !== undefined && state.noisy.has(m.messageGroupId)) backlog.add(m.messageGroupId);
  for (const g of [...state.noisy]) {
    const silentFor = now - (state.lastSentAt.get(g) ?? Number.NEGATIVE_INFINITY);
    if (!backlog.has(g) || silentFor >= NOISY_SILENCE_MS) state.noisy.delete(g);
  }
}

const PATCHED = Symbol.for('taskq.local.fairQueues');
const tenantStates = new WeakMap<object, TenantState>();
function tenantState(queue: object): TenantState {
  let state = tenantStates.get(queue);
  if (!state) tenantStates.set(queue, (state = newTenantState()));
  return state;
}

/**
 * The group each request's message attributes object belongs to: fauxqs stores that very
 * object on the message it creates, so `enqueue` can find the group the request gave.
 */
const groupOfAttributes = new WeakMap<object, string>();

/**
 * Called for a SendMessage or SendMessageBatch request to a standard queue, before fauxqs
 * handles it: remembers each message's MessageGroupId by its attributes object.
 */
export function noteGroups(action: string, body: Record<string, unknown> | undefined): void {
  if (!body) return;
  const entries = action === 'SendMessage' ? [body] : action === 'SendMessageBatch' && Array.isArray(body.Entries) ? (body.Entries as Record<string, unknown>[]) : [];
  for (const entry of entries) {
    const group = entry.MessageGroupId;
    if (typeof group !== 'string' || group === '') continue;
    if (typeof entry.MessageAttributes !== 'object' || entry.MessageAttributes === null) entry.MessageAttributes = {};
    groupOfAttributes.set(entry.MessageAttributes as object, group);
  }
}

/** The part of fauxqs's Fastify server used here. */
interface RequestHooks {
  addHook(name: 'preHandler', hook: (request: { readonly headers: Record<string, string | string[] | undefined>; body: unknown }) => Promise<unknown>): unknown;
}

/** Notes the groups of every send the server handles (JSON protocol: the action is in X-Amz-Target). */
export function noteGroupsOfSends(app: RequestHooks): void {
  app.addHook('preHandler', async (request) => {
    const target = request.headers['x-amz-target'];
    if (typeof target === 'string' && target.startsWith('AmazonSQS.')) noteGroups(target.slice('AmazonSQS.'.length), request.body as Record<string, unknown> | undefined);
  });
}

/** Wraps fauxqs's queue class once per process: standard queues keep groups and serve quiet tenants first. */
export function installFairQueues(Queue: QueueClass): void {
  const proto = Queue.prototype as QueueInternals & { [PATCHED]?: true };
  if (proto[PATCHED]) return;
  proto[PATCHED] = true;
  const enqueue = proto.enqueue;
  const dequeue = proto.dequeue;
  proto.enqueue = function (this: QueueInternals, message: StoredMessage) {
    if (!this.isFifo() && message.messageGroupId === undefined) {
      const group = groupOfAttributes.get(message.messageAttributes);
      if (group !== undefined) message.messageGroupId = group;
      if (message.messageGroupId !== undefined) tenantState(this).lastSentAt.set(message.messageGroupId, Date.now());
    }
    return enqueue.call(this, message);
  };
  proto.dequeue = function (this: QueueInternals, maxCount: number, ...rest: unknown[]) {
    if (!this.isFifo()) {
      this.processTimers();
      const inflight = inflightByGroup(this);
      const state = tenantState(this);
      fairOrder(this.messages, inflight, Math.min(10, maxCount), noisyTenants(state, this.messages, inflight, Date.now()));
      const served = dequeue.call(this, maxCount, ...rest);
      // A noisy tenant this receive drained is quiet from now on (its next message is no backlog).
      forgetQuietTenants(state, this.messages, Date.now());
      return served;
    }
    return dequeue.call(this, maxCount, ...rest);
  };
}

function inflightByGroup(queue: QueueInternals): Map<string, number> {
  const counts = new Map<string, number>();
  for (const { message } of queue.inflightMessages.values()) {
    if (message.messageGroupId !== undefined) counts.set(message.messageGroupId, (counts.get(message.messageGroupId) ?? 0) + 1);
  }
  return counts;
}

/**
 * Moves the next `count` messages to serve to the front of `ready` (in place; the rest keep
 * their order): quiet tenants' messages in arrival order, then the `noisy` tenants' by fewest
 * in flight (by default, those the concurrency-share rule flags at this moment).
 */
export function fairOrder(ready: StoredMessage[], inflight: ReadonlyMap<string, number>, count: number, noisy: ReadonlySet<string> = noisyByConcurrency(inflight)): void {
  if (noisy.size === 0) return;
  const chosen: number[] = [];
  for (let i = 0; i < ready.length && chosen.length < count; i++) {
    const group = ready[i]!.messageGroupId;
    if (group === undefined || !noisy.has(group)) chosen.push(i);
  }
  if (chosen.length < count) {
    // Noisy tenants: the one with the fewest in flight first (counting what this receive hands out).
    const queues = new Map<string, number[]>();
    for (let i = 0; i < ready.length; i++) {
      const group = ready[i]!.messageGroupId;
      if (group === undefined || !noisy.has(group)) continue;
      let list = queues.get(group);
      if (!list) queues.set(group, (list = []));
      list.push(i);
    }
    const given = new Map([...noisy].map((g) => [g, inflight.get(g) ?? 0]));
    while (chosen.length < count && queues.size > 0) {
      let best: string | undefined;
      for (const g of queues.keys()) if (best === undefined || given.get(g)! < given.get(best)!) best = g;
      const list = queues.get(best!)!;
      chosen.push(list.shift()!);
      given.set(best!, given.get(best!)! + 1);
      if (list.length === 0) queues.delete(best!);
    }
  }
  const picked = new Set(chosen);
  const front = chosen.map((i) => ready[i]!);
  const rest = ready.filter((_, i) => !picked.has(i));
  ready.splice(0, ready.length, ...front, ...rest);
}
