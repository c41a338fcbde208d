/**
 * The local system's connection file: `npm start` writes it once the emulators and
 * resources are up, and the CLI (`taskq --local`) and producers read it to find them.
 */
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { RecordedEvent } from './local-event-bus.ts';
import type { LocalScheduleStatus } from './local-scheduler.ts';

export interface LocalState {
  readonly pid: number;
  readonly startedAt: string;
  readonly region: string;
  readonly sqsEndpoint: string;
  readonly s3Endpoint: string;
  readonly dynamoEndpoint: string;
  readonly dynamoEngine: string;
  readonly stackName: string;
  /** The stack outputs, keyed as STACK_OUTPUTS (lib/protocol/resources.ts). */
  readonly outputs: Readonly<Record<string, string>>;
  /** The template's alarms as the local system evaluates them (updated on every state change). */
  readonly alarms?: readonly LocalAlarmState[];
  /** The template's schedules as the local scheduler runs them (updated on every occurrence, pause, resume). */
  readonly schedules?: readonly LocalScheduleStatus[];
  /** Running totals of the local poller (updated about every second while they change), for `taskq console`'s charts. */
  readonly counters?: LocalCounters;
  /** The latest completion events the local event bus received (newest last, at most LOCAL_EVENTS_KEPT), for `taskq events`. */
  readonly events?: readonly RecordedEvent[];
}

/** How many completion events the state file keeps. */
export const LOCAL_EVENTS_KEPT = 200;

export interface LocalCounters {
  /** Messages the poller deleted from the source queue (records the consumer acknowledged). */
  readonly deleted: number;
  /** Records returned to the queue (reported failures, failed or timed-out batches). */
  readonly returned: number;
  /** ISO-8601 time of the totals. */
  readonly at: string;
}

export interface LocalAlarmState {
  readonly name: string;
  readonly state: 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';
  readonly reason?: string;
  /** ISO-8601 time of the last state change. */
  readonly updatedAt?: string;
}

/** Where the file lives: `$TASKQ_LOCAL_STATE`, else `.taskq-local/state.json` in the working directory. */
export function localStatePath(cwd = process.cwd()): string {
  return process.env.TASKQ_LOCAL_STATE ?? join(cwd, '.taskq-local', 'state.json');
}

export async function writeLocalState(state: LocalState, path = localStatePath()): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  // Write then rename, so a reader never sees a half-written file.
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify(state, null, 2)}\n`);
  await rename(temporary, path);
}

/** The running local system's state, or undefined when none is running (no file, or its process is gone). */
export async function readLocalState(path = localStatePath()): Promise<LocalState | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
  const state = JSON.parse(text) as LocalState;
  return processAlive(state.pid) ? state : undefined;
}

export async function removeLocalState(path = localStatePath()): Promise<void> {
  await rm(path, { force: true });
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
