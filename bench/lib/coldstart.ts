/**
 * Section 3: cold start. Both consumers are bundled the way the TaskQueue construct's
 * NodejsFunction bundles functions/consumer.ts (lib/infra/consumer-function.ts): esbuild,
 * platform node, target node22, ESM, minified, mainFields module/main, the AWS SDK bundled,
 * the same createRequire banner. Then each bundle is imported by fresh `node` processes
 * (alternating a and c), with AWS_* and the consumers' environment set; the time to import
 * (module init) is measured inside the process with performance.now().
 */
import { spawn } from 'node:child_process';
import { mkdirSync, statSync, readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { spread, type Spread } from './throughput.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const OUT = fileURLToPath(new URL('../out/', import.meta.url));

const ESM_REQUIRE_SHIM =
  "import { createRequire as __taskqCreateRequire } from 'node:module'; const require = __taskqCreateRequire(import.meta.url);";

export interface BundleInfo {
  entry: string;
  bytes: number;
  gzipBytes: number;
  buildMs: number;
}

export interface ColdStartResult {
  a: BundleInfo & { initMs: Spread; samples: number[] };
  c: BundleInfo & { initMs: Spread; samples: number[] };
  /**
   * Diagnostic, not a deployable variant: (a) with the SQS and S3 SDKs — which the runtime
   * only import()s on first need — left out of the bundle (external), to show what bundling
   * them costs at init.
   */
  aWithoutLazySdks: BundleInfo & { initMs: Spread; samples: number[] };
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
    format: 'esm',
    minify: true,
    mainFields: ['module', 'main'],
    banner: { js: ESM_REQUIRE_SHIM },
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
  const a = await bundle(`${ROOT}functions/consumer.ts`, 'taskq-consumer');
  const c = await bundle(`${ROOT}bench/anchors/powertools-consumer.ts`, 'powertools-consumer');
  const d = await bundle(`${ROOT}functions/consumer.ts`, 'taskq-consumer-lazy-sdks-external', ['@aws-sdk/client-sqs', '@aws-sdk/client-s3']);
  const sa: number[] = [];
  const sc: number[] = [];
  const sd: number[] = [];
  for (const b of [a, c, d]) await importOnce(b.file); // warm the file cache, not measured
  for (let i = 0; i < processes; i += 1) {
    // a and c alternate which goes first; the diagnostic variant runs last
    if (i % 2 === 0) {
      sa.push(await importOnce(a.file));
      sc.push(await importOnce(c.file));
    } else {
      sc.push(await importOnce(c.file));
      sa.push(await importOnce(a.file));
    }
    sd.push(await importOnce(d.file));
  }
  const { file: _fa, ...ia } = a;
  const { file: _fc, ...ic } = c;
  const { file: _fd, ...id } = d;
  return {
    a: { ...ia, initMs: spread(sa), samples: sa },
    c: { ...ic, initMs: spread(sc), samples: sc },
    aWithoutLazySdks: { ...id, initMs: spread(sd), samples: sd },
    settings: 'esbuild bundle, platform node, target node22, format esm, minify, mainFields module/main, AWS SDK bundled (as lib/infra/consumer-function.ts)',
  };
}
