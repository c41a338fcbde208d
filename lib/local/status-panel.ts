/**
 * What `taskq local` shows: how a producer connects, the live status panel (depth, in flight,
 * DLQ, messages deleted/s, records returned, invocation timing, every alarm of the template with its local state), a
 * one-line status for logs, and the lines for events (alarm changes, failed batches).
 */
import chalk from 'chalk';
import type { InvocationResult } from './event-source-poller.ts';
import { comparisonSymbol, type AlarmState, type AlarmStatus } from './local-alarms.ts';
import type { MetricsSnapshot } from './metrics.ts';
import type { LocalSystem } from './system.ts';

export function connectionHelp(system: LocalSystem): string[] {
  const c = system.connection;
  const outputs = system.provisioned.outputs;
  const env = Object.entries(c.environment).map(([k, v]) => `  export ${k}=${v}`);
  return [
    chalk.bold('Connect a producer'),
    `  SQS + S3 endpoint  ${c.sqsEndpoint}   (fauxqs)`,
    `  DynamoDB endpoint  ${c.dynamoEndpoint}   (${system.emulators.dynamoEngine === 'dynamodb-local' ? 'DynamoDB Local' : 'dynalite'})`,
    `  queue URL          ${c.queueUrl}`,
    `  DLQ URL            ${c.deadLetterQueueUrl ?? '—'}`,
    `  task table         ${c.tableName ?? '—'}`,
    `  claim bucket       ${c.bucketName ?? '—'}`,
    `  state file         ${system.statePath}   (the CLI reads it: npx taskq stats --local)`,
    '',
    chalk.bold('  Environment (any AWS SDK or the AWS CLI; the credentials are fake — the emulators accept any):'),
    ...env,
    '',
    chalk.bold('  With the SDK (the environment above exported):'),
    "  import { TaskProducer } from 'taskq/client';",
    '  const producer = new TaskProducer({',
    `    queueUrl: '${c.queueUrl}',`,
    ...(c.bucketName ? [`    bucketName: '${c.bucketName}', claimPrefix: '${outputs.ClaimPrefix ?? 'claims/'}',`] : []),
    ...(c.tableName ? [`    tableName: '${c.tableName}',`] : []),
    '  });',
    "  const { taskId } = await producer.send('send_email', { to: 'a@example.com', subject: 'Hi' });",
    '  console.log(await producer.getTaskStatus(taskId));',
    '',
    `  or: npx taskq send --local send_email '{"to":"a@example.com","subject":"Hi"}'`,
  ];
}

/** The alarm's name without the `<stack>-<construct>-` prefix the template gives every alarm. */
export function shortAlarmName(name: string, all: readonly string[]): string {
  if (all.length < 2) return name;
  let prefix = all[0]!;
  for (const other of all) while (!other.startsWith(prefix)) prefix = prefix.slice(0, -1);
  const cut = prefix.lastIndexOf('-') + 1;
  return cut > 0 && cut < name.length ? name.slice(cut) : name;
}

function paintState(state: AlarmState): string {
  return state === 'ALARM' ? chalk.red.bold('ALARM') : state === 'OK' ? chalk.green('OK') : chalk.yellow('INSUFFICIENT_DATA');
}

function ms(value: number | undefined): string {
  return value === undefined ? '—' : value < 1000 ? `${Math.round(value)} ms` : `${(value / 1000).toFixed(1)} s`;
}

function uptime(since: number): string {
  const s = Math.floor((Date.now() - since) / 1000);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${pad(Math.floor(s / 3600))}:${pad(Math.floor((s % 3600) / 60))}:${pad(s % 60)}`;
}

export function renderPanel(system: LocalSystem, snapshot: { metrics: MetricsSnapshot; alarms: readonly AlarmStatus[] }, startedAt: number): string[] {
  const m = snapshot.metrics;
  const names = snapshot.alarms.map((a) => a.name);
  const width = Math.max(0, ...names.map((n) => shortAlarmName(n, names).length));
  const concurrency = system.poller ? `${m.concurrency}/${system.poller.stats.concurrency}` : chalk.red('mapping disabled');
  return [
    chalk.dim('─'.repeat(72)),
    `${chalk.bold('taskq local')} · ${system.provisioned.stackName} · up ${uptime(startedAt)} · Ctrl-C to stop`,
    `${chalk.bold('queue   ')} depth ${chalk.bold(m.visible)}   in flight ${m.inFlight}   delayed ${m.delayed}   oldest ${m.oldestAgeSeconds === undefined ? '—' : `${m.oldestAgeSeconds} s`}   DLQ ${m.deadLetterVisible > 0 ? chalk.red.bold(m.deadLetterVisible) : 0}`,
    `${chalk.bold('consumer')} messages deleted ${m.deleted} (${m.deletedPerSecond.toFixed(1)}/s)   returned to the queue ${m.returned > 0 ? chalk.yellow(m.returned) : 0}   invocations ${m.invocations} (running ${concurrency})   errors ${m.errors}   throttles ${m.throttles}`,
    chalk.dim('         deleted = acknowledged: succeeded, dead-lettered by the consumer, duplicates skipped, re-sent copies'),
    `${chalk.bold('timing  ')} invocation (a batch) p50 ${ms(m.invocationP50)} p99 ${ms(m.invocationP99)} · message sent → deleted p50 ${ms(m.sentToDeletedP50)} p99 ${ms(m.sentToDeletedP99)}`,
    `${chalk.bold('alarms  ')} ${chalk.dim('(evaluated locally on the template’s definitions; periods scaled: 1 min → 1 s)')}`,
    ...snapshot.alarms.map((a) => `  ${shortAlarmName(a.name, names).padEnd(width)} → ${paintState(a.state)}  ${chalk.dim(describeAlarm(a))}`),
  ];
}

function describeAlarm(a: AlarmStatus): string {
  const value = a.value === undefined ? 'no data' : `now ${Number.isInteger(a.value) ? a.value : a.value.toFixed(2)}`;
  return `${value}, alarm when ${comparisonSymbol(a.comparison)} ${a.threshold} · ${a.reason}`;
}

/** One line for non-TTY output (CI logs, files). */
export function statusLine(snapshot: { metrics: MetricsSnapshot; alarms: readonly AlarmStatus[] }): string {
  const m = snapshot.metrics;
  const names = snapshot.alarms.map((a) => a.name);
  const alarms = snapshot.alarms.map((a) => `${shortAlarmName(a.name, names)}=${a.state}`).join(' ');
  return (
    `[status] depth=${m.visible} inflight=${m.inFlight} delayed=${m.delayed} dlq=${m.deadLetterVisible} ` +
    `deleted=${m.deleted} deleted_rate=${m.deletedPerSecond.toFixed(1)}/s returned=${m.returned} invocations=${m.invocations} errors=${m.errors} ` +
    `invocation_p50=${ms(m.invocationP50)} invocation_p99=${ms(m.invocationP99)} | alarms: ${alarms}`
  );
}

export function alarmChangeLine(status: AlarmStatus, previous: AlarmState): string {
  const line = `[alarm] ${status.name}: ${previous} → ${status.state} (${status.reason})`;
  return status.state === 'ALARM' ? chalk.red(line) : status.state === 'OK' ? chalk.green(line) : chalk.yellow(line);
}

/** A line for a batch that did not fully succeed, or undefined for a clean success. */
export function invocationLine(result: InvocationResult): string | undefined {
  const n = result.records.length;
  switch (result.outcome) {
    case 'success':
      return undefined;
    case 'partial':
      return chalk.yellow(`[consumer] batch of ${n}: ${result.failed.length} reported failed (return after their visibility timeout), ${result.deleted.length} deleted`);
    case 'error':
      return chalk.red(`[consumer] batch of ${n} failed, the handler threw: ${result.error ?? ''} — nothing deleted`);
    case 'timeout':
      return chalk.red(`[consumer] batch of ${n} failed: ${result.error ?? 'timed out'} — nothing deleted`);
    case 'invalid-response':
      return chalk.red(`[consumer] batch of ${n} failed, invalid batch response: ${result.error ?? ''} — nothing deleted`);
  }
}
