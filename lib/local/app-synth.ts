/**
 * Synthesizes the CDK app of a folder as `cdk synth` would — its cdk.json "app" command, run
 * with the folder's context, writing a cloud assembly — and finds in it the stack with the
 * task queue and the consumer bundle esbuild built for it. The local system then runs that
 * bundle: the code that deploys, built the way it deploys, for any app that uses TaskQueue.
 *
 * The assembly goes to `.taskq-local/cdk.out` inside the app's folder, so the bundle's
 * external modules (the AWS SDK clients Lambda provides) resolve from the app's node_modules.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join, relative, resolve } from 'node:path';
import { CONSUMER_BUNDLING } from '../infra/consumer-bundling.ts';
import type { CfnTemplate } from './template.ts';

export interface AppSynthOptions {
  /** The app's folder (with cdk.json). @default process.cwd() */
  readonly cwd?: string;
  /** Context over cdk.json's and cdk.context.json's (as `cdk synth -c`). */
  readonly context?: Record<string, unknown>;
  /** Pick this stack when several have a task queue. */
  readonly stackName?: string;
  /** Where the assembly and the synth log go. @default `<cwd>/.taskq-local` */
  readonly workDir?: string;
}

export interface ConsumerBundle {
  /** The bundled handler file (e.g. `…/asset.<hash>/index.mjs`). */
  readonly file: string;
  /** Its exported handler function. */
  readonly exportName: string;
}

export interface SynthesizedApp {
  readonly template: CfnTemplate;
  readonly stackName: string;
  readonly context: Readonly<Record<string, unknown>>;
  /** The cdk.json "app" command that was run. */
  readonly appCommand: string;
  /** The consumer bundle of a Lambda function of the template, by logical id. */
  consumerBundle(functionLogicalId: string): ConsumerBundle;
}

/** A failure of the app itself (its command exited non-zero), with the message it printed. */
export class AppSynthError extends Error {
  constructor(
    message: string,
    readonly logFile?: string,
  ) {
    super(message);
    this.name = 'AppSynthError';
  }
}

interface CdkJson {
  readonly app?: unknown;
  readonly context?: Record<string, unknown>;
}

interface Manifest {
  readonly artifacts?: Record<string, { readonly type: string; readonly displayName?: string; readonly properties?: { readonly templateFile?: string } }>;
}

export async function synthesizeApp(options: AppSynthOptions = {}): Promise<SynthesizedApp> {
  const cwd = resolve(options.cwd ?? process.cwd());
  const cdkJson = await readJson<CdkJson>(join(cwd, 'cdk.json'));
  if (!cdkJson) throw new AppSynthError(`no cdk.json in ${cwd}: run this in the folder of your CDK app (where \`npx cdk synth\` works)`);
  if (typeof cdkJson.app !== 'string' || cdkJson.app.trim() === '') throw new AppSynthError(`${join(cwd, 'cdk.json')} has no "app" command`);
  const appCommand = cdkJson.app;

  const workDir = options.workDir ?? join(cwd, '.taskq-local');
  const outdir = join(workDir, 'cdk.out');
  const logFile = join(workDir, 'synth.log');
  await rm(outdir, { recursive: true, force: true });
  await mkdir(outdir, { recursive: true });

  // What the CDK CLI hands an app: cdk.json's context, then cdk.context.json's (cached
  // lookups), then -c; asset metadata on, so each function names its bundle's folder.
  const context: Record<string, unknown> = {
    ...cdkJson.context,
    ...(await readJson<Record<string, unknown>>(join(cwd, 'cdk.context.json'))),
    ...options.context,
  };
  const env = {
    ...process.env,
    CDK_OUTDIR: outdir,
    CDK_CONTEXT_JSON: JSON.stringify({ ...context, 'aws:cdk:enable-asset-metadata': true }),
  };
  const { code, output } = await run(appCommand, cwd, env);
  await writeFile(logFile, output);
  if (code !== 0) {
    throw new AppSynthError(`the CDK app (${appCommand}) failed with exit code ${code}: ${errorLine(output)}`, logFile);
  }

  const manifest = await readJson<Manifest>(join(outdir, 'manifest.json'));
  const stacks = Object.entries(manifest?.artifacts ?? {})
    .filter(([, artifact]) => artifact.type === 'aws:cloudformation:stack' && artifact.properties?.templateFile)
    .map(([id, artifact]) => ({ name: artifact.displayName ?? id, file: join(outdir, artifact.properties!.templateFile!) }));
  const withQueues: { name: string; template: CfnTemplate }[] = [];
  for (const stack of stacks) {
    const template = (await readJson<CfnTemplate>(stack.file))!;
    if (Object.values(template.Resources ?? {}).some((r) => r.Type === 'AWS::Lambda::EventSourceMapping')) withQueues.push({ name: stack.name, template });
  }
  const names = withQueues.map((s) => s.name);
  let chosen: { name: string; template: CfnTemplate } | undefined;
  if (options.stackName) {
    chosen = withQueues.find((s) => s.name === options.stackName);
    if (!chosen) {
      throw new AppSynthError(`the app has no stack ${options.stackName} with a task queue (stacks with one: ${names.join(', ') || 'none'})`);
    }
  } else if (withQueues.length === 1) {
    chosen = withQueues[0];
  } else if (withQueues.length === 0) {
    throw new AppSynthError(
      `no stack of the app has an event source mapping (a TaskQueue): stacks found: ${stacks.map((s) => s.name).join(', ') || 'none'}`,
    );
  } else {
    throw new AppSynthError(`several stacks have a task queue (${names.join(', ')}): choose one with --stack`);
  }
  const { name: stackName, template } = chosen!;

  return {
    template,
    stackName,
    context,
    appCommand,
    consumerBundle(logicalId) {
      const resource = template.Resources[logicalId] as { Metadata?: Record<string, unknown>; Properties?: Record<string, unknown> } | undefined;
      const assetPath = resource?.Metadata?.['aws:asset:path'];
      const handler = resource?.Properties?.Handler;
      if (typeof assetPath !== 'string' || typeof handler !== 'string') {
        throw new AppSynthError(`function ${logicalId} of ${stackName} has no bundled code asset (is it a NodejsFunction built by the TaskQueue construct?)`);
      }
      const directory = join(outdir, assetPath);
      const dot = handler.lastIndexOf('.');
      const base = handler.slice(0, dot);
      const file = ['.mjs', '.js', '.cjs'].map((ext) => join(directory, base + ext)).find((f) => existsSync(f));
      if (!file) throw new AppSynthError(`the bundle of ${logicalId} (${relative(cwd, directory)}) has no ${base}.mjs or ${base}.js`);
      checkExternals(file);
      return { file, exportName: handler.slice(dot + 1) };
    },
  };
}

/**
 * The bundle leaves the AWS SDK clients the Lambda runtime provides as external imports; here
 * they must come from the app's node_modules (installed with taskq). Fail now, not on the
 * first retry.
 */
function checkExternals(bundle: string): void {
  const require = createRequire(bundle);
  for (const name of CONSUMER_BUNDLING.externalModules.filter((m) => m.startsWith('@aws-sdk/client-'))) {
    try {
      require.resolve(name);
    } catch {
      throw new AppSynthError(`${name} does not resolve from ${bundle}: the consumer imports it on Lambda from the runtime; locally it must be in the app's node_modules (npm install taskq installs it)`);
    }
  }
}

/** Runs the app command through the shell, as the CDK CLI does; output kept for the log. */
function run(command: string, cwd: string, env: NodeJS.ProcessEnv): Promise<{ code: number; output: string }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, { cwd, env, shell: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code, signal) => resolvePromise({ code: code ?? (signal ? 128 : 1), output }));
  });
}

/** The line of the app's output that says what went wrong (an Error's message), not its stack. */
export function errorLine(output: string): string {
  const lines = output.split('\n').map((l) => l.trim());
  const error = lines.find((l) => /^(?:\w+\.)*\w*(?:Error|Exception)\b[^:]*: /.test(l)) ?? lines.find((l) => /error/i.test(l) && !l.startsWith('at '));
  return (error ?? lines.filter(Boolean).at(-1) ?? '(no output)').replace(/^(?:\w+\.)*\w*(?:Error|Exception)\b[^:]*: /, '');
}

async function readJson<T>(file: string): Promise<T | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return undefined;
  }
  return JSON.parse(text) as T;
}

