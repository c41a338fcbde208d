/**
 * Outcomes several phases settle records with: what the task record already says, attempts
 * used up, an idempotency key held by another type, the table unreachable.
 */
import { redriveIdOf } from '../message.ts';
import { stringOf, type Item } from '../task-store.ts';
import type { Invocation } from './invocation.ts';
import { errorText, type Work } from './work.ts';

/**
 * Settles a copy whose record already answers for it: the key belongs to another task type,
 * the task SUCCEEDED or was CANCELLED, or it was dead-lettered and this copy is no unconsumed redrive (a
 * leftover copy, or a second copy of a redrive that already ran).
 */
export function answeredByRecord(w: Work, item: Item | undefined): boolean {
  const type = stringOf(item, 'type');
  if (type !== undefined && type !== w.envelope!.type) {
    keyConflict(w, type);
    return true;
  }
  const status = stringOf(item, 'status');
  if (status === 'SUCCEEDED') w.outcome = { kind: 'duplicate', of: 'SUCCEEDED' };
  // A cancel wins over everything but a finished run, redrives included.
  else if (status === 'CANCELLED') w.outcome = { kind: 'duplicate', of: 'CANCELLED' };
  else if (status === 'DEAD_LETTERED' && !unconsumedRedrive(w, item)) w.outcome = { kind: 'duplicate', of: 'DEAD_LETTERED' };
  else return false;
  return true;
}

/** The copy is a redrive the record has not reset for yet. */
export function unconsumedRedrive(w: Work, item: Item | undefined): boolean {
  const id = redriveIdOf(w.record);
  return id !== undefined && id !== stringOf(item, 'redriveId');
}

export function exhausted(w: Work): void {
  w.outcome = { kind: 'deadLetter', reason: 'attempts-exhausted', error: `attempts exhausted (${w.attempts - 1} of ${w.maxAttempts} used)` };
}

/** The key's record belongs to another task type: dead-letter, leaving that record alone. */
export function keyConflict(w: Work, existingType: string): void {
  w.outcome = {
    kind: 'deadLetter',
    reason: 'idempotency-key-conflict',
    error: `idempotency key already used by a task of type ${existingType}`,
  };
}

export function tableUnavailable(inv: Invocation, w: Work, error: unknown): void {
  inv.log.warn('task table unavailable; message re-delayed without counting an attempt', { ...inv.fields(w), error: errorText(error) });
  w.outcome = { kind: 'redelay', seconds: inv.noAttemptDelay(w), why: `task table unavailable: ${errorText(error)}`, cause: 'table' };
}
