/**
 * Completion events declared on the TaskQueue (`completionEvents` prop): the task table's
 * stream → a function → EventBridge (./completion-events.ts).
 */
import { Duration } from 'aws-cdk-lib';
import type * as events from 'aws-cdk-lib/aws-events';
import { DEFAULT_COMPLETION_EVENT_SOURCE } from '../protocol/completion-events.ts';

export interface CompletionEventsProps {
  /**
   * The bus the events go to (another account's bus too: its policy must let this account put
   * events). The function may call events:PutEvents on this bus only.
   * @default the account's default event bus
   */
  readonly eventBus?: events.IEventBus;
  /**
   * The events' `source`, which rules match on: 1–256 characters, not starting with `aws.`.
   * @default 'taskq'
   */
  readonly source?: string;
}

export const COMPLETION_EVENTS_DEFAULTS = {
  source: DEFAULT_COMPLETION_EVENT_SOURCE,
  /** Records per invocation: a burst of completions costs few invocations. */
  batchSize: 100,
  /** Retries of a failed batch by the event source mapping (each after the function's own PutEvents retries). */
  retryAttempts: 10,
  memorySize: 256,
  timeout: Duration.seconds(60),
  /** Retention of the on-failure queue: the longest SQS keeps a message. */
  failureRetentionPeriod: Duration.days(14),
} as const;
