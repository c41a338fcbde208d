/**
 * Human-readable rendering of the operations' results (the CLI prints these; `--json`
 * prints the results themselves). Pure functions returning strings.
 */
import type { GroupStatusView } from '../protocol/group.ts';
import chalk from 'chalk';
import type { AlarmsView } from './alarms.ts';
import type { DeadLetterView } from './dead-letter-message.ts';
import type { PeekResult } from './dlq-peek.ts';
import type { PurgeResult } from './dlq-purge.ts';
import type { RedriveResult } from './dlq-redrive.ts';
import type { OldestAge } from './oldest-age.ts';
import type { SendTaskResult } from './send.ts';
import type { StatsResult } from './stats.ts';
import type { StatusResult } from './status.ts';
import type { CancelResult } from '../client/task-cancel.ts';

export function formatDuration(seconds: number | null): string {
  if (seconds === null) return 'n/a';
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
  return `${Math.floor(s / 86_400)}d ${Math.floor((s % 86_400) / 3600)}h`;
}

const label = (text: string) => chalk.dim(text.padEnd(16));

function oldest(age: OldestAge): string {
  if (age.seconds === null) return `${chalk.yellow('n/a')} ${chalk.dim(`(${age.note ?? 'unavailable'})`)}`;
  const where = age.source === 'cloudwatch' ? `CloudWatch, ${age.at ?? 'latest datapoint'}` : 'emulator inspection';
  return `${formatDuration(age.seconds)} ${chalk.dim(`(${where})`)}`;
}

function alarmLine(alarms: AlarmsView): string[] {
  if (alarms.alarms === null) return [`${label('alarms')}${chalk.yellow('n/a')} ${chalk.dim(`(${alarms.note ?? 'unavailable'})`)}`];
  if (alarms.alarms.length === 0) return [`${label('alarms')}${chalk.dim(alarms.note ?? 'none')}`];
  const width = Math.max(...alarms.alarms.map((a) => a.state.length));
  return [
    label('alarms'),
    ...alarms.alarms.map((a) => {
      // Pad the plain word, then colour it: colour codes must not count as width.
      const word = a.state.padEnd(width);
      const state = a.state === 'ALARM' ? chalk.red.bold(word) : a.state === 'OK' ? chalk.green(word) : chalk.yellow(word);
      return `  ${state} ${a.name}${a.reason ? chalk.dim(` — ${a.reason}`) : ''}`;
    }),
  ];
}

export function formatStats(stats: StatsResult): string {
  const dlq = stats.deadLetterQueue.visible + stats.deadLetterQueue.inFlight + stats.deadLetterQueue.delayed;
  return [
    chalk.bold('queue'),
    `${label('  depth')}${stats.queue.visible}`,
    `${label('  in flight')}${stats.queue.inFlight}`,
    `${label('  delayed')}${stats.queue.delayed}`,
    `${label('  oldest age')}${oldest(stats.queue.oldestAge)}`,
    chalk.bold('dead-letter queue'),
    `${label('  depth')}${dlq > 0 ? chalk.red.bold(String(stats.deadLetterQueue.visible)) : chalk.green('0')}${stats.deadLetterQueue.inFlight ? chalk.dim(` (+${stats.deadLetterQueue.inFlight} in flight)`) : ''}`,
    ...alarmLine(stats.alarms),
  ].join('\n');
}

function deadLetter(m: DeadLetterView, index: number): string {
  const reason = m.reason ? chalk.red(m.reason) : chalk.yellow('none (no taskq.reason attribute: moved by the queue\'s redrive policy?)');
  const lines = [
    `${chalk.bold(`#${index + 1}`)} ${m.type ? chalk.cyan(m.type) : chalk.dim('(no type)')} ${m.taskId ?? chalk.dim('(no task id)')}`,
    `   ${label('reason')}${reason}`,
    `   ${label('attempts')}${m.attempts ?? 'n/a'}`,
    `   ${label('age')}${formatDuration(m.ageSeconds)}${m.deadLetteredAt ? chalk.dim(` (dead-lettered ${m.deadLetteredAt})`) : ''}`,
  ];
  if (m.lastError) lines.push(`   ${label('last error')}${m.lastError}`);
  if (m.messageGroupId) lines.push(`   ${label('group')}${m.messageGroupId}`);
  lines.push(`   ${label('message id')}${chalk.dim(m.messageId)}`);
  if (m.body !== undefined) lines.push(`   ${label('body')}${m.body}`);
  return lines.join('\n');
}

export function formatPeek(result: PeekResult): string {
  if (result.messages.length === 0) return chalk.green('the DLQ is empty');
  const lines = result.messages.map(deadLetter);
  lines.push(chalk.dim(`${result.messages.length} message(s) shown; they are visible in the DLQ again. Body hidden unless --show-body.`));
  if (result.notReleased.length > 0) lines.push(chalk.yellow(`${result.notReleased.length} message(s) could not be made visible at once; they return after the hold.`));
  return lines.join('\n\n');
}

export function formatRedrive(result: RedriveResult): string {
  const verb = result.dryRun ? 'would move' : 'moved';
  const lines = [
    `${chalk.bold(verb)} ${chalk.green(String(result.moved))}  ${chalk.bold('skipped')} ${result.skipped}  ${chalk.bold('failed')} ${result.failed > 0 ? chalk.red(String(result.failed)) : '0'}` +
      chalk.dim(`  (${result.method}${result.dryRun ? ', dry run' : ''}; stopped: ${result.stoppedBecause})`),
  ];
  const types = Object.entries(result.byType);
  if (types.length > 0) lines.push(types.map(([t, n]) => `  ${chalk.cyan(t)}: ${n}`).join('\n'));
  if (result.fallbackReason) lines.push(chalk.dim(`StartMessageMoveTask not used: ${result.fallbackReason}`));
  if (result.moveTask?.failureReason) lines.push(chalk.red(`move task failed: ${result.moveTask.failureReason}`));
  for (const f of result.failures) lines.push(chalk.red(`  failed ${f.messageId}${f.taskId ? ` (${f.taskId})` : ''}: ${f.error}`));
  if (result.deleteFailed > 0) {
    lines.push(chalk.yellow(`${result.deleteFailed} message(s) reached the source queue but could not be deleted from the DLQ: a copy is in both; the consumer's idempotency makes the second delivery harmless.`));
  }
  if (result.arrivedDuringRun > 0) lines.push(chalk.yellow(`${result.arrivedDuringRun} message(s) reached the DLQ after the redrive started (a redriven task failing again?): left there.`));
  if (result.notReleased.length > 0) lines.push(chalk.yellow(`${result.notReleased.length} skipped message(s) could not be made visible at once; they return after the hold.`));
  return lines.join('\n');
}

export function formatPurge(result: PurgeResult): string {
  return `${chalk.green('purge started')} for ${result.queueUrl} (about ${result.approximateMessagesBefore} message(s)). SQS finishes a purge within 60 seconds and allows one per queue every 60 seconds.`;
}

/** `targetFlags`: the flags that reached this queue (e.g. `--local`), repeated in the follow-up command. */
export function formatSend(result: SendTaskResult, targetFlags = ''): string {
  const keyFlag = result.idempotencyKey !== result.taskId ? ` --idempotency-key ${result.idempotencyKey}` : '';
  const followUp = ['taskq', targetFlags, 'status', result.taskId].filter(Boolean).join(' ') + keyFlag;
  return `${chalk.green('accepted')} ${chalk.bold(result.taskId)}${keyFlag ? chalk.dim(` (idempotency key ${result.idempotencyKey})`) : ''}\n${chalk.dim(`follow it with: ${followUp}`)}`;
}

export function formatCancel(result: CancelResult): string {
  const note = result.alreadyCancelled
    ? 'it was cancelled before'
    : result.wasRunning
      ? 'it was running: its handler sees ctx.signal abort at the next check, and may still finish (then SUCCEEDED)'
      : 'its copies will be acknowledged without running';
  return `${chalk.magenta('cancelled')} ${chalk.bold(result.taskId)}${chalk.dim(` — ${note}`)}`;
}

export function formatGroup(view: GroupStatusView): string {
  const state = view.status === 'COMPLETE' ? chalk.green('COMPLETE') : chalk.cyan('OPEN');
  const lines = [`${chalk.bold(view.groupId)} ${state}`];
  const row = (name: string, value: string | number | undefined) => {
    if (value !== undefined) lines.push(`  ${label(name)}${value}`);
  };
  row('members', view.total);
  row('succeeded', view.succeeded);
  row('dead-lettered', view.deadLettered > 0 ? chalk.red(String(view.deadLettered)) : 0);
  row('cancelled', view.cancelled);
  row('pending', view.pending);
  row('created', view.createdAt);
  row('callback', view.callback ? `${view.callback.type} (task ${view.callback.taskId}) — ${view.callbackSentAt ? `sent ${view.callbackSentAt}` : 'not sent yet'}` : 'none');
  return lines.join('\n');
}

export function formatStatus(view: StatusResult): string {
  const colour =
    view.status === 'SUCCEEDED' ? chalk.green : view.status === 'DEAD_LETTERED' ? chalk.red : view.status === 'RETRYING' ? chalk.yellow : view.status === 'CANCELLED' ? chalk.magenta : chalk.cyan;
  const lines = [`${chalk.bold(view.taskId)} ${colour(view.status)}`];
  const row = (name: string, value: unknown) => {
    if (value !== undefined) lines.push(`  ${label(name)}${typeof value === 'string' ? value : JSON.stringify(value)}`);
  };
  row('type', view.type);
  row('idempotency key', view.idempotencyKey !== view.taskId ? view.idempotencyKey : undefined);
  row('attempts', view.attempts);
  row('created', view.createdAt);
  row('updated', view.updatedAt);
  row('next attempt', view.nextAttemptAt);
  row('last error', view.lastError);
  row('dead-letter', view.deadLetterReason);
  row('cancelled', view.cancelledAt);
  row('result', view.result);
  if (view.result === undefined && view.resultRef) row('result in', `s3://${view.resultRef.bucket}/${view.resultRef.key} (${view.resultRef.size} bytes)`);
  if (view.resultTruncated) row('result', 'not stored (too large)');
  return lines.join('\n');
}
