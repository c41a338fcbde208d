/**
 * `taskq local` (and `npm start` in this repository): the whole task queue of the CDK app in
 * the current folder, on this machine, no AWS account needed — emulators, the resources of
 * the synthesized template, the app's own consumer bundle behind a local event-source poller,
 * the template's alarms evaluated locally, and a live status panel. Ctrl-C or SIGTERM stops
 * it cleanly (DynamoDB Local included) and removes the state file.
 */
import { rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, dirname, relative } from 'node:path';
import chalk from 'chalk';
import { AppSynthError } from './app-synth.ts';
import { describeDynamoEngine } from './emulators.ts';
import { localStatePath, readLocalState } from './state.ts';
import * as panel from './status-panel.ts';
import { startLocalSystem, type LocalSystem } from './system.ts';
import { Terminal } from './terminal.ts';

export interface RunLocalOptions {
  readonly sqsPort: number;
  readonly dynamoPort: number;
  readonly dynamo: 'auto' | 'dynamodb-local' | 'dynalite';
  readonly region: string;
  readonly stack?: string;
  readonly demo: boolean;
  readonly consumerLogs: 'inline' | 'file' | 'off';
  readonly periodScale: number;
  readonly statusInterval: number;
  readonly panel: boolean;
  readonly stateFile?: string;
  /** `-c key=value` pairs over cdk.json's context. */
  readonly context?: Record<string, unknown>;
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** Starts the local system and runs until a signal stops it (the process then exits). */
export async function runLocal(opts: RunLocalOptions): Promise<void> {
  const statePath = opts.stateFile ?? localStatePath();
  const live = opts.panel && process.stdout.isTTY === true;
  const logFile = join(dirname(statePath), 'consumer.log');
  const terminal = new Terminal({ live, consumerLogs: opts.consumerLogs, logFile });

  const running = await readLocalState(statePath);
  if (running) {
    console.error(chalk.red(`A local system is already running (pid ${running.pid}, state file ${statePath}).`));
    console.error('Stop it first, or point this one elsewhere: TASKQ_LOCAL_STATE=/tmp/other.json taskq local --sqs-port 0 --dynamo-port 0');
    process.exit(1);
  }

  // A taken port would fail late and obscurely (or, for DynamoDB, silently reach whatever
  // answers there): check both first.
  for (const [flag, value] of [['--sqs-port', opts.sqsPort], ['--dynamo-port', opts.dynamoPort]] as const) {
    if (value !== 0 && !(await portFree(value))) {
      console.error(chalk.red(`Port ${value} (${flag}) is in use.`));
      console.error(`Stop what listens there, or choose another port (0 = any free port): taskq local ${flag} 0`);
      process.exit(1);
    }
  }

  const startedAt = Date.now();
  terminal.install();
  let system: LocalSystem;
  try {
    system = await startLocalSystem({
      sqsPort: opts.sqsPort,
      dynamoPort: opts.dynamoPort,
      dynamo: opts.dynamo,
      region: opts.region,
      statePath,
      periodScale: opts.periodScale,
      ...(opts.stack ? { stackName: opts.stack } : {}),
      ...(opts.context ? { context: opts.context } : {}),
      onProgress: (message) => terminal.print(chalk.dim(`… ${message}`)),
      onEvent: (event) => {
        if (event.kind === 'alarm') {
          // The first evaluation of a quiet system moves every alarm to OK: not news.
          if (!(event.previous === 'INSUFFICIENT_DATA' && event.status.state === 'OK')) terminal.print(panel.alarmChangeLine(event.status, event.previous));
        } else if (event.kind === 'invocation') {
          const line = panel.invocationLine(event.result);
          if (line) terminal.print(line);
        } else if (event.kind === 'schedule') {
          terminal.print(
            event.delivered
              ? chalk.cyan(`⏰ schedule ${event.name}: sent the ${event.scheduledTime} occurrence`)
              : chalk.red(`⏰ schedule ${event.name}: the ${event.scheduledTime} occurrence could not be sent; it is in the schedule dead-letter queue`),
          );
        } else if (event.kind === 'completion-event') {
          const detail = event.event.detail as { taskId?: string; type?: string };
          terminal.print(chalk.magenta(`✉ ${event.event.detailType} ${detail.taskId ?? '?'}${detail.type ? ` (${detail.type})` : ''}`));
        } else terminal.error(chalk.yellow(`[local] ${event.message}`));
      },
    });
  } catch (error) {
    await terminal.close();
    const message = error instanceof Error ? error.message : String(error);
    console.error(chalk.red(`Could not start the local system: ${message}`));
    if (error instanceof AppSynthError && error.logFile) console.error(`The app's full output: ${relative(process.cwd(), error.logFile)}`);
    if (/EADDRINUSE/.test(message) || (error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      console.error(`A port is taken. Choose others (0 = any free port): taskq local --sqs-port 0 --dynamo-port 0`);
    }
    process.exit(1);
  }

  const e = system.emulators;
  terminal.print(`${chalk.green('✓')} SQS + S3: fauxqs at ${e.sqsEndpoint} · DynamoDB: ${describeDynamoEngine(e.dynamoEngine)} at ${e.dynamoEndpoint}`);
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
    const { runDemo } = await import('./demo.ts');
    terminal.print(chalk.bold('Demo producer (TaskProducer from taskq/client):'));
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
  // npm and npx run a command through `sh -c`, which dies of a SIGTERM sent to npm without
  // passing it on: the local system would keep running, orphaned. Being re-parented means
  // whoever started it is gone — stop as if signalled.
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) void shutdown('parent process exited');
  }, 500).unref();
}
