/**
 * Sending a record to the DLQ with the reason. A failed send leaves the record on the queue
 * (reported failed): the redrive policy is the safety net, nothing is dropped.
 */
import { randomUUID } from 'node:crypto';
import type { Invocation } from './invocation.ts';
import { errorText, type DeadLetterOutcome, type Work } from './work.ts';

export async function deadLetter(inv: Invocation, w: Work, outcome: DeadLetterOutcome): Promise<void> {
  // One id per dead-lettering: a send the SDK retries after a lost response leaves two DLQ
  // copies with the same id, and a redrive of either resets the task once.
  const deadLetterId = randomUUID();
  try {
    await inv.deps.sqs.deadLetter(
      inv.cfg.deadLetterQueueUrl,
      w.record,
      {
        reason: outcome.reason,
        attempts: inv.executions(w),
        lastError: outcome.error,
        taskType: w.envelope?.type,
        deadLetteredAt: new Date(inv.deps.clock.now()).toISOString(),
        deadLetterId,
      },
      inv.fifo,
    );
    w.deadLetterId = deadLetterId;
  } catch (error) {
    w.dlqFailed = true;
    inv.log.error('dead-letter send failed; the message stays on the queue (redrive policy is the safety net)', {
      ...inv.fields(w),
      reason: outcome.reason,
      error: errorText(error),
    });
  }
}
