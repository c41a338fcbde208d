/**
 * The API's answers, as the page reads them (the server's types live in
 * lib/ops/console/; these are the fields the page shows).
 */
export type AlarmValue = 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';

export interface Alarm {
  name: string;
  state: AlarmValue;
  reason?: string;
  updatedAt?: string;
}

export interface QueueCounts {
  url: string;
  visible: number;
  inFlight: number;
  delayed: number;
}

export interface LaneOverview {
  name: string;
  queueUrl: string;
  deadLetterQueueUrl: string;
  stats: {
    queue: QueueCounts & { oldestAge: { seconds: number | null; source: string; note?: string } };
    deadLetterQueue: QueueCounts;
    alarms: { source: string; alarms: Alarm[] | null; note?: string };
  } | null;
  error?: string;
}

export interface Overview {
  mode: 'local' | 'aws' | 'unknown';
  stackName: string | null;
  region: string | null;
  tableName: string | null;
  sampledAt: string | null;
  sampleIntervalMs: number;
  lanes: LaneOverview[];
  error?: string;
}

export interface History {
  counts: { t: number; visible: number; inFlight: number; delayed: number; deadLetters: number; oldestAgeSeconds: number | null }[];
  rates: { t: number; processedPerMinute: number; failedPerMinute: number }[];
  ratesSource: string;
}

export interface RecentTasks {
  available: boolean;
  note?: string;
  tasks?: { idempotencyKey: string; taskId: string; type: string | null; status: string; attempts: number | null; updatedAt: string; deadLetterReason: string | null }[];
}

export interface TimelineEvent {
  kind: 'accepted' | 'attempt-failed' | 'attempt-running' | 'retry-due' | 'succeeded' | 'dead-lettered' | 'cancelled' | 'observed';
  attempt?: number;
  at?: string;
  error?: string;
  note?: string;
}

export interface ClaimReference {
  bucket: string;
  key: string;
  size: number | null;
}

export interface TaskView {
  task: {
    taskId: string;
    idempotencyKey: string;
    status: string;
    type?: string;
    attempts: number;
    createdAt?: string;
    updatedAt?: string;
    nextAttemptAt?: string;
    lastError?: string;
    result?: unknown;
    /** A result too large for the record, stored in S3 (fetched only on request). */
    resultRef?: { bucket: string; key: string; size: number };
    resultTruncated?: boolean;
    deadLetterReason?: string;
    cancelledAt?: string;
  };
  timeline: TimelineEvent[];
  claimCheck: ClaimReference | null;
  claimCheckNote: string;
  deadLetter: { lane: string; messageId: string } | null;
  /** The group the task is a member or the callback of, when its group item confirms it. */
  group: { groupId: string; role: 'member' | 'callback'; index?: number } | null;
}

export interface GroupTaskState {
  taskId: string;
  idempotencyKey: string;
  /** null: no record under this id yet. */
  status: string | null;
  type?: string;
  attempts?: number;
  updatedAt?: string;
  deadLetterReason?: string;
}

export interface GroupPage {
  group: {
    groupId: string;
    status: 'OPEN' | 'COMPLETE';
    total: number;
    succeeded: number;
    deadLettered: number;
    cancelled: number;
    pending: number;
    createdAt: string;
    callback?: { type: string; taskId: string; idempotencyKey: string };
    callbackSentAt?: string;
  };
  callback: GroupTaskState | null;
  members: { offset: number; limit: number; items: (GroupTaskState & { index: number })[] };
}

export interface DeadLetter {
  messageId: string;
  reason: string | null;
  attempts: number | null;
  type: string | null;
  taskId: string | null;
  ageSeconds: number | null;
  createdAt: string | null;
  deadLetteredAt: string | null;
  lastError: string | null;
  receiveCount: number | null;
  claimCheck: ClaimReference | null;
  /** The group its envelope names (a sendGroup member), null for other messages. */
  group: string | null;
  body?: string;
}

export interface DeadLetterListing {
  lane: string;
  messages: DeadLetter[];
  busy: boolean;
  listedAt: string | null;
}

export interface RedriveJob {
  id: string;
  lane: string;
  state: 'running' | 'done' | 'failed';
  progress: { done: number; total: number; moved: number; skipped: number; failed: number; method: string } | null;
  result: { moved: number; skipped: number; failed: number; byType: Record<string, number>; stoppedBecause: string } | null;
  error: string | null;
}

export interface TaskResult {
  taskId: string;
  result?: unknown;
  resultError?: string;
}

export interface CancelResult {
  taskId: string;
  status: 'CANCELLED';
  wasRunning: boolean;
  alreadyCancelled: boolean;
}

export interface Schedule {
  name: string;
  state: 'ENABLED' | 'DISABLED';
  expression: string;
  timezone: string;
  description?: string;
  nextRun?: string;
}
