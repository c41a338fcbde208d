/**
 * Cost model (not a measurement) of the task lifecycle's AWS-side parts that have no emulator
 * here: EventBridge Scheduler occurrences, and — for a far-future `notBefore` — a one-time
 * schedule against the visibility hops the consumer makes today. Quantities come from the
 * runtime's own rules (lib/runtime/batch/route.ts, invocation.ts); prices from PRICE_TABLE and
 * the Scheduler line below. docs/BENCHMARKS.md "Cost model: schedules" states these figures
 * (test/unit/bench/lifecycle-cost.test.ts checks they agree).
 */
import { SQS_MAX_DELAY_SECONDS, SQS_MAX_VISIBILITY_SECONDS } from '../../lib/protocol/limits.ts';
import { PRICE_TABLE } from './pricing.ts';

export const SCHEDULER_PRICE = {
  source: 'https://aws.amazon.com/eventbridge/pricing/ (Scheduler: per invocation beyond 14 million a month free; creating and storing schedules is not billed)',
  usdPerMillionInvocations: 1.0,
} as const;

export interface HopModel {
  /** Visibility timeout of the source queue, s (the TaskQueue default: 180). */
  readonly visibilityTimeoutSeconds: number;
  /** Records per consumer invocation the hop receives share (the default batch size). */
  readonly recordsPerInvocation: number;
  /** Receives a copy may hop by visibility before it is re-sent as a fresh copy (RUNTIME_DEFAULTS.redelayReceiveBudget). */
  readonly redelayReceiveBudget: number;
}

export const DEFAULT_HOP_MODEL: HopModel = { visibilityTimeoutSeconds: 180, recordsPerInvocation: 10, redelayReceiveBudget: 3 };

/** What one occurrence of a recurring schedule costs beyond the task's own processing: the Scheduler invocation (its SQS send replaces a producer's). */
export function scheduledOccurrenceUsdPerMillion(): number {
  return SCHEDULER_PRICE.usdPerMillionInvocations;
}

/**
 * What each day of a far-future `notBefore` costs per million tasks today. One cycle of a copy:
 * sent with the longest delay (900 s), then `budget − 1` visibility hops of up to 12 h minus the
 * visibility timeout and a 60 s margin, then on the last receive re-sent as a fresh copy and
 * deleted: `budget` receives + `budget − 1` ChangeMessageVisibility + 1 send + 1 delete, and the
 * receives' share of consumer invocations.
 */
export function notBeforeHopUsdPerMillionPerDay(model: HopModel = DEFAULT_HOP_MODEL): number {
  const hopSeconds = SQS_MAX_VISIBILITY_SECONDS - model.visibilityTimeoutSeconds - 60;
  const cycleSeconds = (model.redelayReceiveBudget - 1) * hopSeconds + SQS_MAX_DELAY_SECONDS;
  const sqsRequests = model.redelayReceiveBudget + (model.redelayReceiveBudget - 1) + 2;
  const invocations = model.redelayReceiveBudget / model.recordsPerInvocation;
  const perCycle = sqsRequests * PRICE_TABLE.usd.sqsPerMillionRequests + invocations * PRICE_TABLE.usd.lambdaPerMillionRequests;
  return (perCycle * 86_400) / cycleSeconds;
}

/** A one-time schedule per task: one Scheduler invocation, whatever the delay (its SQS send replaces the producer's). */
export function oneTimeScheduleUsdPerMillion(): number {
  return SCHEDULER_PRICE.usdPerMillionInvocations;
}

/** The delay, hours, beyond which a one-time schedule costs less than the hops. */
export function breakEvenDelayHours(model: HopModel = DEFAULT_HOP_MODEL): number {
  return (oneTimeScheduleUsdPerMillion() / notBeforeHopUsdPerMillionPerDay(model)) * 24;
}

/**
 * Completion events (TaskQueueProps.completionEvents): PutEvents per event (each entry up to
 * 64 KB is one event; ours are < 2 KB). Reading the table's stream from a Lambda trigger, the
 * mapping's filter and a rule's delivery to an SQS queue or a Lambda function are not billed;
 * an API destination (webhook) adds its own invocation price.
 */
export const EVENTBRIDGE_PRICE = {
  source: 'https://aws.amazon.com/eventbridge/pricing/ (custom events $1.00 per million PutEvents entries of ≤ 64 KB; API destinations $0.20 per million invocations); https://aws.amazon.com/dynamodb/pricing/ (GetRecords by a Lambda trigger is free)',
  usdPerMillionEvents: 1.0,
  usdPerMillionApiDestinationInvocations: 0.2,
} as const;

export interface CompletionEventsModel {
  /** Events per invocation of the function: 1 when completions trickle in, up to the batch size (100) in a burst. */
  readonly eventsPerInvocation: number;
  /** Billed ms per invocation (assumed: ~30 ms per PutEvents round trip of ≤ 10 entries, plus 20 ms). */
  readonly billedMsPerInvocation: number;
  /** The function's memory (COMPLETION_EVENTS_DEFAULTS.memorySize). */
  readonly memoryMb: number;
}

/** Completions trickling in: each its own invocation, one PutEvents call. */
export const TRICKLE_EVENTS_MODEL: CompletionEventsModel = { eventsPerInvocation: 1, billedMsPerInvocation: 50, memoryMb: 256 };
/** A burst: full batches of 100 records, 10 PutEvents calls each. */
export const BURST_EVENTS_MODEL: CompletionEventsModel = { eventsPerInvocation: 100, billedMsPerInvocation: 320, memoryMb: 256 };

/** Cost per million completion events: PutEvents, plus the function's requests and compute. */
export function completionEventsUsdPerMillion(model: CompletionEventsModel): number {
  const invocations = 1e6 / model.eventsPerInvocation;
  const gbSeconds = invocations * (model.billedMsPerInvocation / 1000) * (model.memoryMb / 1024);
  return EVENTBRIDGE_PRICE.usdPerMillionEvents + (invocations / 1e6) * PRICE_TABLE.usd.lambdaPerMillionRequests + gbSeconds * PRICE_TABLE.usd.lambdaPerGbSecondArm64;
}

/**
 * Groups (producer.sendGroup; lib/runtime/group-counter.ts), on-demand DynamoDB. Per member, on
 * top of the task's own processing: one TransactWriteItems of two items under 1 KB (a
 * transactional write costs 2 write units per KB: 4) and one consistent read of the group item
 * (1 read unit). Per group: the producer's transaction of the group item and the callback item
 * (4 write units while the stored callback is under 1 KB), then for the callback a consistent
 * read of the stored callback (1 read unit; the group item's read is the last member's), the
 * send (1 SQS request) and the note (1 write unit).
 * test/integration/runtime/groups.test.ts counts the consumer's calls these quantities assume.
 */
export const GROUP_UNITS = { perMember: { wru: 4, rru: 1 }, perGroup: { wru: 5, rru: 1, sqsRequests: 1 } } as const;

export function groupUsdPerMillionMembers(): number {
  const p = PRICE_TABLE.usd;
  return GROUP_UNITS.perMember.wru * p.dynamoPerMillionWru + GROUP_UNITS.perMember.rru * p.dynamoPerMillionRru;
}

export function groupUsdPerMillionGroups(): number {
  const p = PRICE_TABLE.usd;
  const g = GROUP_UNITS.perGroup;
  return g.wru * p.dynamoPerMillionWru + g.rru * p.dynamoPerMillionRru + g.sqsRequests * p.sqsPerMillionRequests;
}
