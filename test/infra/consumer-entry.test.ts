/**
 * consumerEntry in anyone's CDK app: a relative entry is resolved where `cdk` runs, the
 * nearest lockfile above it names the project esbuild bundles from, and a missing file,
 * a file of another kind or a project without a lockfile is a synth-time error that says so.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TaskQueue, TaskQueueValidationError } from '../../lib/infra/index.ts';
import { DEFAULT_CONSUMER_ENTRY, resolveConsumerEntry } from '../../lib/infra/consumer-function.ts';
import { testStack } from './helpers.ts';

let dir: string;

beforeAll(async () => {
  dir = realpathSync(await mkdtemp(join(tmpdir(), 'taskq-entry-')));
  // A user's project: its own lockfile, the handler file in src/.
  await mkdir(join(dir, 'app', 'src'), { recursive: true });
  await writeFile(join(dir, 'app', 'package-lock.json'), '{}');
  await writeFile(join(dir, 'app', 'src', 'tasks.ts'), 'export const handler = () => {};\n');
  await writeFile(join(dir, 'app', 'src', 'notes.txt'), 'not code\n');
  // A project without any lockfile (the temp folder has none above it).
  await mkdir(join(dir, 'bare'), { recursive: true });
  await writeFile(join(dir, 'bare', 'tasks.ts'), 'export const handler = () => {};\n');
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('resolveConsumerEntry', () => {
  it('resolves a relative entry where cdk runs, with the project of its nearest lockfile', () => {
    expect(resolveConsumerEntry('src/tasks.ts', join(dir, 'app'))).toEqual({
      entry: join(dir, 'app', 'src', 'tasks.ts'),
      projectRoot: join(dir, 'app'),
      depsLockFilePath: join(dir, 'app', 'package-lock.json'),
    });
  });

  it('defaults to functions/consumer.ts of the directory cdk runs in (this repository)', () => {
    const resolved = resolveConsumerEntry(undefined);
    expect(resolved.entry).toBe(join(process.cwd(), DEFAULT_CONSUMER_ENTRY));
    expect(resolved.projectRoot).toBe(process.cwd());
  });

  it('rejects a missing file, naming the prop, the path and what the file must export', () => {
    const error = (() => {
      try {
        resolveConsumerEntry('src/missing.ts', join(dir, 'app'));
      } catch (e) {
        return e as TaskQueueValidationError;
      }
      throw new Error('no error');
    })();
    expect(error).toBeInstanceOf(TaskQueueValidationError);
    expect(error.prop).toBe('consumerEntry');
    expect(error.message).toContain(join(dir, 'app', 'src', 'missing.ts'));
    expect(error.message).toContain('defineTasks');
  });

  it('says when the default entry does not exist (an app outside this repository)', () => {
    expect(() => resolveConsumerEntry(undefined, join(dir, 'app'))).toThrow(/the default functions\/consumer\.ts/);
  });

  it('rejects a file that is not TypeScript or JavaScript, and a folder', () => {
    expect(() => resolveConsumerEntry('src/notes.txt', join(dir, 'app'))).toThrow(/TypeScript or JavaScript file/);
    expect(() => resolveConsumerEntry('src', join(dir, 'app'))).toThrow(/TypeScript or JavaScript file/);
  });

  it('rejects an entry with no lockfile above it', () => {
    expect(() => resolveConsumerEntry('tasks.ts', join(dir, 'bare'))).toThrow(/no lockfile .* run npm install/);
  });
});

describe('TaskQueue with a consumerEntry', () => {
  it('fails at synth time with the message for a missing entry', () => {
    expect(() => new TaskQueue(testStack(), 'Tasks', { consumerEntry: join(dir, 'app', 'src', 'nope.ts') })).toThrow(
      /TaskQueue: invalid consumerEntry .*no file at/,
    );
  });

  it('accepts an entry in another project', () => {
    expect(() => new TaskQueue(testStack(), 'Tasks', { consumerEntry: join(dir, 'app', 'src', 'tasks.ts') })).not.toThrow();
  });
});
