/**
 * Phase 5c: groups (group-counter.ts). Each record of a group member that ended in a final
 * state — run to SUCCEEDED, dead-lettered, or found finished (a duplicate, a redrive, a copy
 * of a cancelled task) — is counted once for its group, after its record was written; the
 * consumer that counts the last member sends the group's callback. A count or callback that
 * fails (throttling, a network error) keeps the record's message: it comes back, finds the
 * task finished and tries again — a member is never left uncounted.
 */
import { idempotencyKeyOf } from '../../protocol/envelope.ts';
import type { GroupMemberOutcome } from '../../protocol/group.ts';
import { forwardTarget } from '../lane-routing.ts';
import type { Invocation } from './invocation.ts';
import { errorText, type Work } from './work.ts';

export async function finishGroups(inv: Invocation): Promise<void> {
  const groups = inv.deps.groups;
  const members = inv.works.filter((w) => w.envelope?.group !== undefined && memberOutcome(w) !== undefined);
  if (members.length === 0) return;
  if (!groups) {
    inv.log.warn('group members finished, but the consumer has no task table: their groups are not counted', { count: members.length });
    return;
  }
  // One completion check per group, after all of its members in this batch were counted.
  const toCheck = new Map<string, Work[]>();
  await Promise.all(
    members.map(async (w) => {
      const group = w.envelope!.group!;
      try {
        const counted = await groups.count(group, w.key ?? idempotencyKeyOf(w.envelope!), w.envelope!.id, memberOutcome(w)!);
        if (counted === 'no-group') {
          inv.log.warn('group member finished, but its group does not exist (expired, or never created): not counted', { ...inv.fields(w), group });
          return;
        }
        toCheck.set(group, [...(toCheck.get(group) ?? []), w]);
      } catch (error) {
        w.groupPending = true;
        inv.log.warn('group member not counted; its message comes back to count it', { ...inv.fields(w), group, error: errorText(error) });
      }
    }),
  );
  await Promise.all(
    [...toCheck].map(async ([group, works]) => {
      try {
        const check = await groups.check(group);
        if (check.kind !== 'send') return;
        const queueUrl = forwardTarget(inv.cfg.lanes, check.callback.type)?.queueUrl ?? inv.queueUrl;
        if (!queueUrl) throw new Error('no queue URL to send the callback to');
        await inv.deps.sqs.sendMessage(queueUrl, check.callback, inv.fifo);
        await groups.markSent(group);
        inv.log.info('group complete: callback sent', { group, callbackType: check.callback.type, ...check.result });
      } catch (error) {
        for (const w of works) w.groupPending = true;
        inv.log.warn('group callback not sent; the members\' messages come back to send it', { group, error: errorText(error) });
      }
    }),
  );
}

/** The final state a record's outcome puts its task in, for its group; undefined while it is not final. */
function memberOutcome(w: Work): GroupMemberOutcome | undefined {
  const o = w.outcome;
  switch (o?.kind) {
    case 'succeeded':
      return 'succeeded';
    case 'cancelled':
      return 'cancelled';
    case 'deadLetter':
      return w.dlqFailed ? undefined : 'deadLettered';
    case 'duplicate':
      return o.of === 'SUCCEEDED' ? 'succeeded' : o.of === 'DEAD_LETTERED' ? 'deadLettered' : 'cancelled';
    case 'recorded':
      return o.status === 'SUCCEEDED' ? 'succeeded' : o.status === 'DEAD_LETTERED' ? 'deadLettered' : undefined;
    default:
      return undefined;
  }
}
