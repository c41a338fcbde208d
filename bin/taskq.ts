#!/usr/bin/env -S npx tsx
/**
 * taskq — the operations CLI: send, status, stats, dlq peek / redrive / purge, against a
 * deployed stack (CloudFormation outputs, or explicit flags) or the local system (--local).
 * The logic lives in lib/ops/; this file wires commander to it and renders the results.
 * Exit codes: 0 ok, 1 usage/refused, 2 not found, 3 AWS error, 4 partial failure.
 */
import { Command, CommanderError, Option } from 'commander';
import chalk from 'chalk';
import { SingleBar, Presets } from 'cli-progress';
import { createClients, type OpsClients } from '../lib/ops/clients.ts';
import { EXIT_CODES, OpsError, toOpsError } from '../lib/ops/errors.ts';
import { resolveTarget, required, type OpsTarget, type ResourceName, type TargetOptions } from '../lib/ops/resolve-target.ts';
import { queueStats } from '../lib/ops/stats.ts';
import { alarmsSourceFor, oldestAgeSourceFor } from '../lib/ops/stats-sources.ts';
import { peekDeadLetters } from '../lib/ops/dlq-peek.ts';
import { redriveDeadLetters, type RedriveProgress } from '../lib/ops/dlq-redrive.ts';
import { PURGE_REFUSAL, purgeDeadLetters } from '../lib/ops/dlq-purge.ts';
import { readPayloadArgument } from '../lib/ops/payload-input.ts';
import { sendTask } from '../lib/ops/send.ts';
import { taskStatus } from '../lib/ops/status.ts';
import { formatPeek, formatPurge, formatRedrive, formatSend, formatStats, formatStatus } from '../lib/ops/format.ts';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

interface GlobalOptions extends TargetOptions {
  json?: boolean;
}

function positiveInt(value: string, name: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1) throw new OpsError('USAGE', `${name} must be a positive integer, got ${JSON.stringify(value)}`);
  return n;
}

function positiveNumber(value: string, name: string, allowZero = false): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || (!allowZero && n === 0)) throw new OpsError('USAGE', `${name} must be a ${allowZero ? 'non-negative' : 'positive'} number, got ${JSON.stringify(value)}`);
  return n;
}

function output(options: GlobalOptions, result: unknown, human: () => string): void {
  process.stdout.write(options.json ? `${JSON.stringify(result, null, 2)}\n` : `${human()}\n`);
}

/** Resolves the target, runs the action with clients, and always destroys the clients. */
async function withTarget<T>(command: Command, needs: readonly ResourceName[], action: (target: OpsTarget, clients: OpsClients, options: GlobalOptions) => Promise<T>): Promise<T> {
  const options = command.optsWithGlobals<GlobalOptions>();
  const target = await resolveTarget(options, needs);
  const clients = createClients(target);
  try {
    return await action(target, clients, options);
  } catch (error) {
    throw toOpsError(error, {
      ...(target.endpoints.sqs ? { endpoint: target.endpoints.sqs } : {}),
      ...(target.region ? { region: target.region } : {}),
    });
  } finally {
    clients.destroy();
  }
}

const program = new Command('taskq')
  .description('Operate a taskq task queue: send tasks, read their status, watch the queues, inspect and redrive the DLQ.')
  .option('--json', 'machine-readable JSON output (stable keys)')
  .option('--local', 'use the local system started by `npm start` (its state file, or $TASKQ_LOCAL_STATE)')
  .option('--stack <name>', 'CloudFormation stack to read resources and alarms from (default TaskQueueStack)')
  .option('--region <region>', 'AWS region (default: AWS_REGION / your profile)')
  .option('--endpoint <url>', 'endpoint for every AWS service (default: AWS_ENDPOINT_URL)')
  .option('--queue-url <url>', 'task queue URL (instead of the stack output)')
  .option('--dlq-url <url>', 'dead-letter queue URL (instead of the stack output)')
  .option('--table <name>', 'task table name (instead of the stack output)')
  .option('--bucket <name>', 'claim-check bucket name (instead of the stack output)')
  .showHelpAfterError('(run taskq --help for usage)')
  .exitOverride();

program
  .command('send')
  .description('enqueue a task with the producer SDK')
  .argument('<type>', 'task type, e.g. send_email')
  .argument('<payload>', "payload JSON, @file.json, or @- for standard input")
  .option('--delay <seconds>', 'seconds before the task becomes visible (beyond 900 the envelope carries notBefore)')
  .option('--idempotency-key <key>', 'idempotency key (default: the task id)')
  .option('--group <id>', 'message group id (required on FIFO queues)')
  .action(async (type: string, payloadArgument: string, _opts, command: Command) => {
    const opts = command.opts<{ delay?: string; idempotencyKey?: string; group?: string }>();
    const payload = await readPayloadArgument(payloadArgument);
    const delaySeconds = opts.delay !== undefined ? positiveNumber(opts.delay, '--delay', true) : undefined;
    await withTarget(command, ['queueUrl'], async (target, clients, options) => {
      const result = await sendTask({
        sqs: clients.sqs,
        s3: () => clients.s3(),
        queueUrl: required(target, 'queueUrl'),
        ...(target.resources.bucketName ? { bucketName: target.resources.bucketName } : {}),
        ...(target.resources.claimPrefix !== undefined ? { claimPrefix: target.resources.claimPrefix } : {}),
        type,
        payload,
        ...(delaySeconds !== undefined ? { delaySeconds } : {}),
        ...(opts.idempotencyKey !== undefined ? { idempotencyKey: opts.idempotencyKey } : {}),
        ...(opts.group !== undefined ? { group: opts.group } : {}),
      });
      output(options, result, () => formatSend(result));
    });
  });

program
  .command('status')
  .description("a task's status from the task table")
  .argument('<taskId>', 'the task id send returned')
  .option('--idempotency-key <key>', 'the idempotency key, when the task was sent with its own')
  .action(async (taskId: string, _opts, command: Command) => {
    const opts = command.opts<{ idempotencyKey?: string }>();
    await withTarget(command, ['tableName'], async (target, clients, options) => {
      const result = await taskStatus({
        dynamo: () => clients.dynamo(),
        tableName: required(target, 'tableName'),
        taskId,
        ...(opts.idempotencyKey !== undefined ? { idempotencyKey: opts.idempotencyKey } : {}),
      });
      output(options, result, () => formatStatus(result));
    });
  });

program
  .command('stats')
  .description('queue depth, in flight, delayed, oldest message age, DLQ depth and alarm states')
  .action(async (_opts, command: Command) => {
    await withTarget(command, ['queueUrl', 'deadLetterQueueUrl'], async (target, clients, options) => {
      const result = await queueStats({
        sqs: clients.sqs,
        queueUrl: required(target, 'queueUrl'),
        deadLetterQueueUrl: required(target, 'deadLetterQueueUrl'),
        oldestAge: oldestAgeSourceFor(target, clients),
        alarms: alarmsSourceFor(target, clients, options.stack),
      });
      output(options, result, () => formatStats(result));
    });
  });

const dlq = program.command('dlq').description('inspect, redrive or purge the dead-letter queue');

dlq
  .command('peek')
  .description('show dead-lettered messages (reason, attempts, type, task id, age, last error); they stay in the DLQ, visible')
  .option('--max <n>', 'at most this many messages', '10')
  .option('--show-body', 'also print each message body (may contain personal data)')
  .action(async (_opts, command: Command) => {
    const opts = command.opts<{ max: string; showBody?: boolean }>();
    const max = positiveInt(opts.max, '--max');
    await withTarget(command, ['deadLetterQueueUrl'], async (target, clients, options) => {
      const result = await peekDeadLetters({ sqs: clients.sqs, deadLetterQueueUrl: required(target, 'deadLetterQueueUrl'), max, showBody: opts.showBody ?? false });
      output(options, result, () => formatPeek(result));
    });
  });

dlq
  .command('redrive')
  .description('move dead-lettered messages back to the source queue (never deleting one before its send succeeded)')
  .option('--type <type>', 'only messages of this task type (the others stay in the DLQ)')
  .option('--max <n>', 'stop after this many messages')
  .option('--rate <n>', 'at most this many messages per second')
  .option('--dry-run', 'count what would move; move nothing')
  .addOption(new Option('--no-move-task', 'never use SQS StartMessageMoveTask; always receive → send → delete'))
  .action(async (_opts, command: Command) => {
    const opts = command.opts<{ type?: string; max?: string; rate?: string; dryRun?: boolean; moveTask: boolean }>();
    const max = opts.max !== undefined ? positiveInt(opts.max, '--max') : undefined;
    const rate = opts.rate !== undefined ? positiveNumber(opts.rate, '--rate') : undefined;
    await withTarget(command, ['deadLetterQueueUrl', 'queueUrl'], async (target, clients, options) => {
      const showBar = !options.json && process.stderr.isTTY === true;
      const bar = showBar
        ? new SingleBar({ format: ' {bar} {value}/{total} | moved {moved} · skipped {skipped} · failed {failed} | {method}', hideCursor: true, clearOnComplete: false }, Presets.shades_classic)
        : undefined;
      let started = false;
      const onProgress = (p: RedriveProgress) => {
        if (!bar) return;
        const payload = { moved: p.moved, skipped: p.skipped, failed: p.failed, method: p.method };
        const total = Math.max(p.total, p.done);
        if (!started) {
          bar.start(total, p.done, payload);
          started = true;
        } else {
          bar.setTotal(total);
          bar.update(p.done, payload);
        }
      };
      const abort = new AbortController();
      const onSigint = () => {
        if (abort.signal.aborted) process.exit(130);
        process.stderr.write('\nstopping after the current batch (Ctrl-C again to quit at once)…\n');
        abort.abort();
      };
      process.on('SIGINT', onSigint);
      try {
        const result = await redriveDeadLetters({
          sqs: clients.sqs,
          deadLetterQueueUrl: required(target, 'deadLetterQueueUrl'),
          queueUrl: required(target, 'queueUrl'),
          ...(target.resources.deadLetterQueueArn ? { deadLetterQueueArn: target.resources.deadLetterQueueArn } : {}),
          ...(target.resources.queueArn ? { queueArn: target.resources.queueArn } : {}),
          ...(opts.type !== undefined ? { type: opts.type } : {}),
          ...(max !== undefined ? { max } : {}),
          ...(rate !== undefined ? { rate } : {}),
          dryRun: opts.dryRun ?? false,
          moveTask: opts.moveTask ? 'auto' : 'never',
          signal: abort.signal,
          onProgress,
        });
        bar?.stop();
        output(options, result, () => formatRedrive(result));
        if (result.failed > 0) process.exitCode = EXIT_CODES.partial;
      } finally {
        bar?.stop();
        process.off('SIGINT', onSigint);
      }
    });
  });

dlq
  .command('purge')
  .description('delete every message in the DLQ (irreversible; needs --yes)')
  .option('--yes', 'confirm: delete every dead-lettered message')
  .action(async (_opts, command: Command) => {
    const opts = command.opts<{ yes?: boolean }>();
    if (opts.yes !== true) throw new OpsError('REFUSED', PURGE_REFUSAL); // before any AWS call
    await withTarget(command, ['deadLetterQueueUrl'], async (target, clients, options) => {
      const result = await purgeDeadLetters({ sqs: clients.sqs, deadLetterQueueUrl: required(target, 'deadLetterQueueUrl'), yes: opts.yes === true });
      output(options, result, () => formatPurge(result));
    });
  });

function fail(error: OpsError, json: boolean): void {
  if (json) {
    process.stdout.write(`${JSON.stringify({ error: { code: error.code, message: error.message, exitCode: error.exitCode } }, null, 2)}\n`);
  }
  process.stderr.write(`${chalk.red('error:')} ${error.message}\n`);
  process.exitCode = error.exitCode;
}

async function main(argv: string[]): Promise<void> {
  const json = argv.includes('--json');
  if (json) {
    // Commander's own usage errors go to stderr; the JSON error object goes to stdout below.
    program.configureOutput({ writeErr: (text) => process.stderr.write(text) });
  }
  try {
    await program.parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help') {
        process.exitCode = EXIT_CODES.ok;
        return;
      }
      if (json) process.stdout.write(`${JSON.stringify({ error: { code: 'USAGE', message: error.message, exitCode: EXIT_CODES.usage } }, null, 2)}\n`);
      process.exitCode = EXIT_CODES.usage;
      return;
    }
    fail(toOpsError(error), json);
  }
}

await main(process.argv);
