/**
 * Phase 1: every record's envelope. Our envelope v1 is in the body; an AWS SQS Extended
 * Client pointer's envelope (and so its idempotency key) is only in its S3 object, so it is
 * fetched here, before any idempotency check.
 */
import { PermanentError, RetryableError, type DeadLetterReason } from '../../protocol/errors.ts';
import { decodeEnvelope, idempotencyKeyOf, type TaskEnvelope } from '../../protocol/envelope.ts';
import { fetchClaim } from '../claim-check.ts';
import { parseBody } from '../message.ts';
import type { Invocation } from './invocation.ts';
import { COPY_ATTRIBUTES } from '../../protocol/attributes.ts';
import { decodeOutcome } from './outcome-copy.ts';
import { errorText, pool, type Work } from './work.ts';

export async function parse(inv: Invocation): Promise<void> {
  const pointers: Work[] = [];
  for (const w of inv.works) {
    try {
      const parsed = parseBody(w.record);
      if (parsed.kind === 'envelope') adopt(inv, w, parsed.envelope);
      else pointers.push(w);
    } catch (error) {
      poison(w, error);
    }
  }
  if (pointers.length === 0) return;
  await pool(pointers, inv.cfg.concurrency, async (w) => {
    try {
      const parsed = parseBody(w.record);
      if (parsed.kind !== 'pointer') return;
      const text = await fetchClaim(inv.deps.clients, parsed.pointer, inv.claimPolicy);
      adopt(inv, w, decodeEnvelope(text));
    } catch (error) {
      if (error instanceof RetryableError) {
        w.outcome = { kind: 'redelay', seconds: inv.noAttemptDelay(w), why: errorText(error), cause: 'claim' };
      } else poison(w, error);
    }
  });
}

function adopt(inv: Invocation, w: Work, envelope: TaskEnvelope): void {
  w.envelope = envelope;
  w.key = idempotencyKeyOf(envelope);
  const outcome = w.record.messageAttributes?.[COPY_ATTRIBUTES.outcome]?.stringValue;
  if (outcome !== undefined) {
    w.pending = decodeOutcome(outcome, { key: w.key, taskId: envelope.id, type: envelope.type, createdAt: envelope.createdAt });
  }
  const def = Object.hasOwn(inv.deps.tasks, envelope.type) ? inv.deps.tasks[envelope.type] : undefined;
  if (def) {
    w.def = def;
    w.mode = def.idempotency ?? 'lease';
    w.maxAttempts = def.maxAttempts ?? inv.cfg.maxAttempts;
  }
}

function poison(w: Work, error: unknown): void {
  const reason: DeadLetterReason = error instanceof PermanentError ? error.reason : 'invalid-envelope';
  w.outcome = { kind: 'deadLetter', reason, error: errorText(error) };
}
