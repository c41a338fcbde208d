/**
 * The local schedules' control file: `taskq schedules pause|resume <name> --local` writes the
 * wanted state of a schedule next to the local system's state file, and the local scheduler
 * (./local-scheduler.ts) applies it on its next tick.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/** `schedules.json` next to the state file: `{ "<name>": "ENABLED" | "DISABLED" }`. */
export function scheduleControlPath(statePath: string): string {
  return join(dirname(statePath), 'schedules.json');
}

export async function readScheduleControl(statePath: string): Promise<Record<string, 'ENABLED' | 'DISABLED'>> {
  try {
    return JSON.parse(await readFile(scheduleControlPath(statePath), 'utf8')) as Record<string, 'ENABLED' | 'DISABLED'>;
  } catch {
    return {};
  }
}

/** What `taskq schedules pause|resume` does locally. */
export async function setLocalScheduleState(statePath: string, name: string, state: 'ENABLED' | 'DISABLED'): Promise<void> {
  const control = { ...(await readScheduleControl(statePath)), [name]: state };
  const path = scheduleControlPath(statePath);
  await mkdir(dirname(path), { recursive: true });
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify(control, null, 2)}\n`);
  await rename(temporary, path);
}

