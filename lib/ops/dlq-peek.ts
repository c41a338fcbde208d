/**
 * `taskq dlq peek`: shows up to N dead-lettered messages — reason, attempts, type, task
 * id, age, last error — without taking them out of the DLQ. Each message is received with
 * a short hold and made visible again (visibility 0) right after reading, so a second peek
 * or a redrive sees it at once. The body is shown only on request (it may hold personal data).
 */
import type { Message, SQSClient } from '@aws-sdk/client-sqs';
import { describeDeadLetter, type DeadLetterView } from './dead-letter-message.ts';
import { DEFAULT_HOLD_SECONDS, receiveDeadLetters, releaseMessages } from './dlq-messages.ts';

export interface PeekInput {
  readonly sqs: SQSClient;
  readonly deadLetterQueueUrl: string;
  /** @default 10 */
  readonly max?: number;
  readonly showBody?: boolean;
  readonly holdSeconds?: number;
  /** Long-poll seconds of each receive (AWS short polls may miss messages). @default 1 */
  readonly waitSeconds?: number;
  readonly now?: () => number;
}

export interface PeekResult {
  readonly queueUrl: string;
  readonly messages: DeadLetterView[];
  /** Messages that could not be made visible at once (they return after the hold). */
  readonly notReleased: string[];
}

export async function peekDeadLetters(input: PeekInput): Promise<PeekResult> {
  const max = input.max ?? 10;
  const now = input.now ?? Date.now;
  const held: Message[] = [];
  const seen = new Set<string>();
  let notReleased: string[] = [];
  try {
    while (held.length < max) {
      const batch = await receiveDeadLetters(input.sqs, input.deadLetterQueueUrl, {
        max: max - held.length,
        holdSeconds: input.holdSeconds ?? DEFAULT_HOLD_SECONDS,
        waitSeconds: input.waitSeconds ?? 1,
      });
      const fresh = batch.filter((m) => !seen.has(m.MessageId ?? ''));
      for (const m of fresh) seen.add(m.MessageId ?? '');
      held.push(...batch);
      if (fresh.length === 0) break;
    }
  } finally {
    // Released even when a receive fails half-way, so nothing stays hidden.
    notReleased = await releaseMessages(input.sqs, input.deadLetterQueueUrl, held);
  }
  const unique = new Map<string, Message>();
  for (const m of held) unique.set(m.MessageId ?? '', m);
  const messages = [...unique.values()].slice(0, max).map((m) => describeDeadLetter(m, { now: now(), showBody: input.showBody ?? false }));
  return { queueUrl: input.deadLetterQueueUrl, messages, notReleased };
}
