/**
 * Phase 2b (after route, before acquire): debounced tasks (send option `dedupe` with mode
 * 'debounce'; lib/client/dedupe.ts). Each send of a key was a new version of the key's task,
 * delayed by the window; only the latest version runs, once the key has been quiet for the
 * window. One conditional UpdateItem per debounced record takes the run (ranVersion = its
 * version) — or says, from the item it returns, that a later version exists (the record is
 * acknowledged, `superseded`), or that the window is not over yet (re-delayed, no attempt).
 * A record whose version already took the run (a retry of it) goes on, whatever came since:
 * the new sends are a new task.
 */
import { ConditionalCheckFailedException, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { DEBOUNCE_ATTRIBUTE, decodeDebounce, dedupeItemKey } from '../../protocol/dedupe.ts';
import { TABLE_SCHEMA } from '../../protocol/resources.ts';
import type { Invocation } from '../batch/invocation.ts';
import { errorText, pool, type Work } from '../batch/work.ts';

export async function debounce(inv: Invocation): Promise<void> {
  const works = inv.works.filter((w) => !w.outcome && w.def && !w.pending && w.record.messageAttributes?.[DEBOUNCE_ATTRIBUTE] !== undefined);
  if (works.length === 0) return;
  await pool(works, inv.cfg.concurrency, (w) => takeRun(inv, w));
}

async function takeRun(inv: Invocation, w: Work): Promise<void> {
  const mark = decodeDebounce(w.record.messageAttributes[DEBOUNCE_ATTRIBUTE]!.stringValue);
  if (!mark) return; // Not a mark this version understands: the task runs as any other.
  const dynamo = inv.deps.clients.dynamo;
  const tableName = inv.cfg.tableName;
  if (!tableName) {
    w.outcome = { kind: 'redelay', seconds: inv.noAttemptDelay(w), why: 'debounce needs the task table (TASKQ_TABLE_NAME)', cause: 'no-table' };
    return;
  }
  const now = inv.deps.clock.now();
  const version = { N: String(mark.version) };
  try {
    await dynamo.send(
      new UpdateItemCommand({
        TableName: tableName,
        Key: { [TABLE_SCHEMA.partitionKey]: { S: dedupeItemKey('debounce', w.envelope!.type, mark.key) } },
        UpdateExpression: 'SET ranVersion = :v',
        ConditionExpression: '(#v = :v AND lastSendAt <= :quietSince) OR ranVersion = :v',
        ExpressionAttributeNames: { '#v': 'version' },
        ExpressionAttributeValues: { ':v': version, ':quietSince': { N: String(now - mark.windowMs) } },
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      }),
    );
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) {
      const item = error.Item;
      // The item is gone (its TTL, long after the window): nothing says another version won, so it runs.
      if (!item) return;
      const latest = Number(item.version?.N);
      if (latest !== mark.version) {
        w.outcome = { kind: 'superseded', by: latest };
        return;
      }
      const quietAt = Number(item.lastSendAt?.N) + mark.windowMs;
      w.outcome = { kind: 'redelay', seconds: inv.visibility((quietAt - now) / 1000), why: 'debounce window not over yet', cause: 'not-due' };
      return;
    }
    inv.log.warn('debounce item not updated; re-delayed without counting an attempt', { ...inv.fields(w), error: errorText(error) });
    w.outcome = { kind: 'redelay', seconds: inv.noAttemptDelay(w), why: `debounce: ${errorText(error)}`, cause: 'table' };
  }
}
