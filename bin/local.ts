#!/usr/bin/env node
/**
 * `npm start`: the whole task queue on this machine, no AWS account needed — emulators,
 * the resources of the synthesized CDK template, the real consumer behind a local
 * event-source poller, the template's alarms evaluated locally, and a live status panel.
 * `npm start -- --demo` also runs a demo producer. Ctrl-C (or SIGTERM) stops it cleanly.
 */
// Before any AWS SDK module loads (they warn about Node.js 20 at import time).
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

import { rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, dirname, relative } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import chalk from 'chalk';

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('a port is an integer 0–65535 (0: a free port)');
  return n;
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

function positive(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('must be a positive number');
  return n;
}

const program = new Command('npm start --')
  .description('Run the whole task queue locally: SQS + S3 (fauxqs), DynamoDB, the consumer, alarms. Ctrl-C stops it.')
  .addOption(new Option('--sqs-port <port>', 'port of fauxqs (SQS and S3); 0 = a free port').env('TASKQ_LOCAL_SQS_PORT').default(4566).argParser(port))
  .addOption(new Option('--dynamo-port <port>', 'port of DynamoDB; 0 = a free port').env('TASKQ_LOCAL_DYNAMO_PORT').default(8000).argParser(port))
  .addOption(
    new Option('--dynamo <engine>', 'DynamoDB emulator: auto = DynamoDB Local when Java runs, else dynalite')
      .choices(['auto', 'dynamodb-local', 'dynalite'])
      .env('TASKQ_LOCAL_DYNAMO')
      .default('auto'),
  )
  .addOption(new Option('--region <region>', 'region of the local resources').env('AWS_REGION').default('us-east-1'))
  .option('--demo', 'also run a demo producer (ordinary tasks, claim check, duplicate, retry, poison → DLQ)', false)
  .addOption(
    new Option('--consumer-logs <where>', 'the consumer’s own log output: inline, file (next to the state file) or off')
      .choices(['inline', 'file', 'off'])
      .default('file'),
  )
  .addOption(new Option('--period-scale <n>', 'alarm periods last P / n seconds locally (60: 1 minute → 1 second)').default(60).argParser(positive))
  .addOption(new Option('--status-interval <seconds>', 'without a TTY: seconds between status lines').default(5).argParser(positive))
  .option('--no-panel', 'print status lines instead of the live panel, even on a TTY')
  .addOption(new Option('--state-file <path>', 'where to write the connection file the CLI reads').env('TASKQ_LOCAL_STATE'))
  .showHelpAfterError();

program.parse();
const opts = program.opts<{
  sqsPort: number;
  dynamoPort: number;
  dynamo: 'auto' | 'dynamodb-local' | 'dynalite';
  region: string;
  demo: boolean;
  consumerLogs: 'inline' | 'file' | 'off';
  periodScale: number;
  statusInterval: number;
  panel: boolean;
  stateFile?: string;
}>();

const [{ startLocalSystem }, { describeDynamoEngine }, { localStatePath, readLocalState }, panel, { Terminal }, { runDemo }] = await Promise.all([
  import('../lib/local/system.ts'),
  import('../lib/local/emulators.ts'),
  import('../lib/local/state.ts'),
  import('../lib/local/status-panel.ts'),
  import('../lib/local/terminal.ts'),
  import('../lib/local/demo.ts'),
]);

const statePath = opts.stateFile ?? localStatePath();
const live = opts.panel && process.stdout.isTTY === true;
const logFile = join(dirname(statePath), 'consumer.log');
const terminal = new Terminal({ live, consumerLogs: opts.consumerLogs, logFile });

const running = await readLocalState(statePath);
if (running) {
  console.error(chalk.red(`A local system is already running (pid ${running.pid}, state file ${statePath}).`));
  console.error('Stop it first, or point this one elsewhere: TASKQ_LOCAL_STATE=/tmp/other.json npm start -- --sqs-port 0 --dynamo-port 0');
  process.exit(1);
}

// A taken port would fail late and obscurely (or, for DynamoDB, silently reach whatever
// answers there): check both first.
for (const [flag, value] of [['--sqs-port', opts.sqsPort], ['--dynamo-port', opts.dynamoPort]] as const) {
  if (value !== 0 && !(await portFree(value))) {
    console.error(chalk.red(`Port ${value} (${flag}) is in use.`));
    console.error(`Stop what listens there, or choose another port (0 = any free port): npm start -- ${flag} 0`);
    process.exit(1);
  }
}

const startedAt = Date.now();
terminal.install();
let system: Awaited<ReturnType<typeof startLocalSystem>>;
try {
  system = await startLocalSystem({
    sqsPort: opts.sqsPort,
    dynamoPort: opts.dynamoPort,
    dynamo: opts.dynamo,
    region: opts.region,
    statePath,
    periodScale: opts.periodScale,
    onProgress: (message) => terminal.print(chalk.dim(`… ${message}`)),
    onEvent: (event) => {
      if (event.kind === 'alarm') {
        // The first evaluation of a quiet system moves every alarm to OK: not news.
        if (!(event.previous === 'INSUFFICIENT_DATA' && event.status.state === 'OK')) terminal.print(panel.alarmChangeLine(event.status, event.previous));
      } else if (event.kind === 'invocation') {
        const line = panel.invocationLine(event.result);
        if (line) terminal.print(line);
      } else terminal.error(chalk.yellow(`[local] ${event.message}`));
    },
  });
} catch (error) {
  await terminal.close();
  const message = error instanceof Error ? error.message : String(error);
  console.error(chalk.red(`Could not start the local system: ${message}`));
  if (/EADDRINUSE/.test(message) || (error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
    console.error(`A port is taken. Choose others (0 = any free port): npm start -- --sqs-port 0 --dynamo-port 0`);
  }
  process.exit(1);
}

const e = system.emulators;
terminal.print(
  `${chalk.green('✓')} SQS + S3: fauxqs at ${e.sqsEndpoint} · DynamoDB: ${describeDynamoEngine(e.dynamoEngine)} at ${e.dynamoEndpoint}`,
);
terminal.print(
  `${chalk.green('✓')} from the CDK template of ${system.provisioned.stackName}: ${system.provisioned.queues.length} queues, ${system.provisioned.tables.length} table, ${system.provisioned.buckets.length} bucket, ${system.alarms.definitions.length} alarms`,
);
const m = system.mapping;
terminal.print(
  `${chalk.green('✓')} consumer ${m.function.name} (${relative(process.cwd(), system.consumerModule)}): batch ${m.batchSize}, window ${m.maximumBatchingWindowInSeconds} s, ` +
    `concurrency ${system.poller?.stats.concurrency ?? 0}, timeout ${m.function.timeoutSeconds} s, ReportBatchItemFailures ${m.reportBatchItemFailures ? 'on' : 'off'}`,
);
if (opts.consumerLogs === 'file') terminal.print(chalk.dim(`  consumer logs → ${logFile} (--consumer-logs inline to see them here)`));
terminal.print('');
for (const line of panel.connectionHelp(system)) terminal.print(line);
terminal.print('');
terminal.print(`${chalk.green('✓')} ready — state file ${statePath}`);

const demoAbort = new AbortController();
let demo: Promise<void> | undefined;
if (opts.demo) {
  terminal.print(chalk.bold('Demo producer (TaskProducer from lib/client):'));
  demo = runDemo(system, { log: (line) => terminal.print(chalk.cyan(`[demo] ${line}`)), signal: demoAbort.signal }).catch((error: unknown) => {
    if (!demoAbort.signal.aborted) terminal.error(chalk.red(`[demo] failed: ${error instanceof Error ? error.message : String(error)}`));
  });
}

const refresh = live
  ? setInterval(() => terminal.setPanel(panel.renderPanel(system, system.snapshot(), startedAt)), 1000)
  : setInterval(() => terminal.print(panel.statusLine(system.snapshot())), opts.statusInterval * 1000);
if (live) terminal.setPanel(panel.renderPanel(system, system.snapshot(), startedAt));
else terminal.print(panel.statusLine(system.snapshot()));

// Ctrl-C reaches every process of the terminal's process group, and npm and tsx also
// forward it: one keypress can arrive two or three times within milliseconds. Only a
// signal well after the first one means "stop now, without draining".
let stoppingSince: number | undefined;
async function shutdown(signal: string): Promise<void> {
  if (stoppingSince !== undefined) {
    if (Date.now() - stoppingSince < 1500) return;
    terminal.error(chalk.red(`${signal} again: exiting without draining`));
    process.exit(130);
  }
  stoppingSince = Date.now();
  clearInterval(refresh);
  terminal.print(chalk.dim(`${signal}: stopping — draining the poller, stopping the emulators, removing ${statePath}`));
  demoAbort.abort();
  try {
    await demo;
    await system.stop();
    terminal.print(`${chalk.green('✓')} stopped cleanly`);
    await terminal.close();
    process.exit(0);
  } catch (error) {
    terminal.error(chalk.red(`stop failed: ${error instanceof Error ? error.message : String(error)}`));
    await terminal.close();
    process.exit(1);
  }
}
// Whatever happens, a dead process must not leave a state file pointing at it.
process.on('exit', () => rmSync(statePath, { force: true }));
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));
