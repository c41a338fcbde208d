/**
 * Section 3: cold start. (a) is bundled with exactly the settings the TaskQueue construct's
 * NodejsFunction uses (CONSUMER_BUNDLING, lib/infra/consumer-bundling.ts — imported, not
 * copied): esbuild, platform node, target node22 (what CDK derives from the default
 * nodejs22.x runtime), ESM, minified, mainFields module/main, the createRequire banner, the
 * rare-path modules external. (c) is bundled as before: the same esbuild flags with the
 * whole AWS SDK bundled (its anchor configuration is not changed). Two diagnostic builds show
 * where the difference comes from: (a) with everything bundled, and (c) with the same
 * modules external as (a). Each bundle is imported by fresh `node` processes (alternating),
 * with AWS_* and the consumers' environment set; the time to import (module init) is
 * measured inside the process with performance.now().
 */
import { spawn } from 'node:child_process';
import { mkdirSync, statSync, readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { CONSUMER_BUNDLING } from '../../lib/infra/consumer-bundling.ts';
import { spread, type Spread } from './throughput.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const OUT = fileURLToPath(new URL('../out/', import.meta.url));


export interface BundleInfo {
  entry: string;
  bytes: number;
  gzipBytes: number;
  buildMs: number;
}

export interface ColdStartResult {
  a: BundleInfo & { initMs: Spread; samples: number[] };
  c: BundleInfo & { initMs: Spread; samples: number[] };
  /** Diagnostic: (a) with everything bundled (no external modules — the previous deployment setting). */
  aAllBundled: BundleInfo & { initMs: Spread; samples: number[] };
  /** Diagnostic, not how the anchor is configured: (c) with the same modules external as (a). */
  cSameExternals: BundleInfo & { initMs: Spread; samples: number[] };
  /** The modules (a) leaves out of its bundle (CONSUMER_BUNDLING.externalModules). */
  external: string[];
  settings: string;
}

async function bundle(entry: string, name: string, external: string[] = []): Promise<BundleInfo & { file: string }> {
  mkdirSync(OUT, { recursive: true });
  const file = `${OUT}${name}.mjs`;
  const start = performance.now();
  await build({
    entryPoints: [entry],
    outfile: file,
    bundle: true,
    platform: 'node',
    target: 'node22',
    format: CONSUMER_BUNDLING.format,
    minify: CONSUMER_BUNDLING.minify,
    mainFields: [...CONSUMER_BUNDLING.mainFields],
    banner: { js: CONSUMER_BUNDLING.banner },
    external,
    logLevel: 'silent',
  });
  const bytes = statSync(file).size;
  return { entry: entry.replace(ROOT, ''), file, bytes, gzipBytes: gzipSync(readFileSync(file)).length, buildMs: performance.now() - start };
}

function importOnce(file: string): Promise<number> {
  const script = `const t=performance.now();await import(${JSON.stringify(pathToFileURL(file).href)});process.stdout.write(String(performance.now()-t));`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      cwd: OUT,
      env: {
        PATH: process.env.PATH ?? '',
        AWS_REGION: 'us-east-1',
        AWS_DEFAULT_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 'local',
        AWS_SECRET_ACCESS_KEY: 'local',
        AWS_LAMBDA_FUNCTION_NAME: 'consumer',
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '256',
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
        TASKQ_TABLE_NAME: 'tasks',
        TASKQ_QUEUE_URL: 'http://127.0.0.1:1/000000000000/q',
        TASKQ_DLQ_URL: 'http://127.0.0.1:1/000000000000/dlq',
        TASKQ_BUCKET_NAME: 'claims',
        IDEMPOTENCY_TABLE_NAME: 'idempotency',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.once('exit', (code) => {
      const ms = Number(out.trim());
      if (code === 0 && Number.isFinite(ms)) resolve(ms);
      else reject(new Error(`importing ${file} failed (${code}): ${err.slice(0, 500)}`));
    });
  });
}

export async function runColdStart(processes: number): Promise<ColdStartResult> {
  const external = [...CONSUMER_BUNDLING.externalModules];
  const a = await bundle(`${ROOT}functions/consumer.ts`, 'taskq-consumer', external);
  const c = await bundle(`${ROOT}bench/anchors/powertools-consumer.ts`, 'powertools-consumer');
  const d = await bundle(`${ROOT}functions/consumer.ts`, 'taskq-consumer-all-bundled');
  const e = await bundle(`${ROOT}bench/anchors/powertools-consumer.ts`, 'powertools-consumer-same-externals', external);
  const sa: number[] = [];
  const sc: number[] = [];
  const sd: number[] = [];
  const se: number[] = [];
  for (const b of [a, c, d, e]) await importOnce(b.file); // warm the file cache, not measured
  for (let i = 0; i < processes; i += 1) {
    // a and c alternate which goes first; the diagnostic variants run after them
    if (i % 2 === 0) {
      sa.push(await importOnce(a.file));
      sc.push(await importOnce(c.file));
    } else {
      sc.push(await importOnce(c.file));
      sa.push(await importOnce(a.file));
    }
    sd.push(await importOnce(d.file));
    se.push(await importOnce(e.file));
  }
  const info = ({ file: _f, ...rest }: BundleInfo & { file: string }, samples: number[]) => ({ ...rest, initMs: spread(samples), samples });
  return {
    a: info(a, sa),
    c: info(c, sc),
    aAllBundled: info(d, sd),
    cSameExternals: info(e, se),
    external,
    settings:
      'esbuild bundle, platform node, target node22, format esm, minify, mainFields module/main, the createRequire banner (CONSUMER_BUNDLING, lib/infra/consumer-bundling.ts); (a) with CONSUMER_BUNDLING.externalModules external (as deployed), (c) with the whole AWS SDK bundled',
  };
}
