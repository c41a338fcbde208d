/**
 * `npm start` stopped as a process manager or a container runtime stops it: SIGTERM to the npm
 * process. npm runs the script through `sh -c`, which would die of the signal and leave the
 * system running; the script `exec`s node, so the system gets it, drains, stops DynamoDB
 * Local's Java process and removes its state file.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { access, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readLocalState, type LocalState } from '../../lib/local/state.ts';

let dir: string | undefined;
let child: ChildProcess | undefined;
let output = '';

afterAll(async () => {
  if (child?.pid && child.exitCode === null && child.signalCode === null) {
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
  if (dir) await rm(dir, { recursive: true, force: true });
});

function childProcesses(pid: number): { pid: number; command: string }[] {
  const out = execFileSync('ps', ['-o', 'pid=,comm=', '--ppid', String(pid)], { encoding: 'utf8' }).trim();
  return out ? out.split('\n').map((line) => line.trim().split(/\s+/)).map(([p, command]) => ({ pid: Number(p), command: command! })) : [];
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('npm start', () => {
  it('stops on SIGTERM to the npm process: exit 0, DynamoDB Local stopped, state file removed', async () => {
    dir = await mkdtemp(join(tmpdir(), 'taskq-npm-start-'));
    const statePath = join(dir, 'state.json');
    child = spawn('npm', ['start', '--', '--sqs-port', '0', '--dynamo-port', '0', '--no-panel'], {
      cwd: process.cwd(),
      env: { ...process.env, TASKQ_LOCAL_STATE: statePath, FORCE_COLOR: '0' },
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const closed = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child!.once('close', (code, signal) => resolve({ code, signal })));

    let state: LocalState | undefined;
    const deadline = Date.now() + 150_000;
    while (!(state = await readLocalState(statePath)) || !output.includes('ready')) {
      if (Date.now() > deadline) throw new Error(`npm start did not come up:\n${output}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    // The system is not npm's direct shell child that dies of the signal: it is npm's child itself.
    expect(state.pid).not.toBe(child.pid);
    const java = childProcesses(state.pid).filter((p) => p.command === 'java');
    if (state.dynamoEngine === 'dynamodb-local') expect(java).toHaveLength(1);

    process.kill(child.pid!, 'SIGTERM');
    const { code, signal } = await Promise.race([
      closed,
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no exit within 30 s; output:\n${output}`)), 30_000)),
    ]);
    expect(output).toContain('stopped cleanly');
    expect(output).not.toContain('exiting without draining');
    expect({ code, signal }).toEqual({ code: 0, signal: null });
    await expect(access(statePath)).rejects.toThrow();
    expect(alive(state.pid)).toBe(false);
    for (const p of java) expect(alive(p.pid), `DynamoDB Local (pid ${p.pid})`).toBe(false);
  }, 200_000);
});
