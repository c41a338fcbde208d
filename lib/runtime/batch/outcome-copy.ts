/**
 * Outcome copies: how a finished run's outcome survives a task table that refuses to record
 * it. A message is acknowledged only once its outcome is durable — in the table, or else in a
 * fresh copy of the message that carries it (COPY_ATTRIBUTES.outcome). The consumer that
 * receives such a copy writes the outcome, conditional on the run's lease still being the
 * record's (its owner token), and acknowledges the copy without running the task.
 *
 * What an outcome copy may write is limited to what a run decides: SUCCEEDED or DEAD_LETTERED,
 * attempts, a small result or the last error — the key, task id and type come from the
 * envelope, never from the attribute.
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { N, S, type Item } from '../task-store.ts';
import type { PendingOutcome } from './work.ts';

/** The fields an outcome copy carries (the rest of the record comes from the envelope). */
const CARRIED = ['status', 'attempts', 'owner', 'result', 'resultRef', 'resultTruncated', 'lastError', 'deadLetterReason', 'deadLetterId', 'redriveId', 'updatedAt', 'expiresAt'] as const;
const FINAL = new Set(['SUCCEEDED', 'DEAD_LETTERED']);

/** The attribute's value for a record the table refused. */
export function encodeOutcome(item: Item, owner: string | undefined): string {
  const carried: Record<string, string | number | boolean> = {};
  for (const name of CARRIED) {
    const v = item[name];
    if (v?.S !== undefined) carried[name] = v.S;
    else if (v?.N !== undefined) carried[name] = Number(v.N);
    else if (v?.BOOL !== undefined) carried[name] = v.BOOL;
  }
  return JSON.stringify({ v: 1, item: carried, ...(owner !== undefined ? { owner } : {}) });
}

/**
 * The outcome a copy carries, as the record to write for this envelope's key, task and type;
 * throws when the attribute is not one the consumer wrote.
 */
export function decodeOutcome(text: string, base: { key: string; taskId: string; type: string; createdAt: string }): PendingOutcome {
  const parsed = JSON.parse(text) as { v?: unknown; item?: Record<string, unknown>; owner?: unknown };
  const carried = parsed?.item;
  if (parsed?.v !== 1 || typeof carried !== 'object' || carried === null || !FINAL.has(String(carried.status))) {
    throw new Error('not an outcome the consumer writes');
  }
  const item: Item = { pk: S(base.key), taskId: S(base.taskId), type: S(base.type), createdAt: S(base.createdAt) };
  for (const name of CARRIED) {
    const value = carried[name];
    let attribute: AttributeValue | undefined;
    if (typeof value === 'string') attribute = S(value);
    else if (typeof value === 'number' && Number.isFinite(value)) attribute = N(value);
    else if (typeof value === 'boolean') attribute = { BOOL: value };
    if (attribute) item[name] = attribute;
  }
  return { item, ...(typeof parsed.owner === 'string' ? { owner: parsed.owner } : {}) };
}
