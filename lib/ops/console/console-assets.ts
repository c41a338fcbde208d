/**
 * The console's front end: built by esbuild at package build time (web/build.mjs) into
 * dist/console/, shipped in the package, served as files (no build or network at run time).
 * `TASKQ_CONSOLE_ASSETS` points elsewhere (tests build the assets into a temporary folder).
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { OpsError } from '../errors.ts';

/** The files the page loads, with their content types. */
export const CONSOLE_ASSET_FILES: Readonly<Record<string, string>> = {
  'index.html': 'text/html; charset=utf-8',
  'console.js': 'text/javascript; charset=utf-8',
  'console.css': 'text/css; charset=utf-8',
};

/** Where the assets are: $TASKQ_CONSOLE_ASSETS, else dist/console next to the compiled code (or, from the sources, in dist/). */
export function consoleAssetsDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.TASKQ_CONSOLE_ASSETS) return env.TASKQ_CONSOLE_ASSETS;
  const here = fileURLToPath(new URL('.', import.meta.url));
  // dist/lib/ops/console → dist/console; lib/ops/console (run from the sources) → dist/console.
  for (const candidate of [join(here, '..', '..', '..', 'console'), join(here, '..', '..', '..', 'dist', 'console')]) {
    if (existsSync(join(candidate, 'index.html'))) return candidate;
  }
  throw new OpsError('MISSING_RESOURCE', 'the console\'s front end is not built: run npm run build (it writes dist/console/)');
}

export interface ConsoleAssets {
  /** The page, with the token in its script/style addresses and its meta tag. */
  page(token: string): string;
  file(name: string): { body: Buffer; contentType: string } | undefined;
}

/** Reads every asset once, at start. */
export async function loadConsoleAssets(dir: string = consoleAssetsDir()): Promise<ConsoleAssets> {
  const files = new Map<string, { body: Buffer; contentType: string }>();
  for (const [name, contentType] of Object.entries(CONSOLE_ASSET_FILES)) {
    try {
      files.set(name, { body: await readFile(join(dir, name)), contentType });
    } catch {
      throw new OpsError('MISSING_RESOURCE', `the console's front end is incomplete: ${join(dir, name)} is missing (run npm run build)`);
    }
  }
  const html = files.get('index.html')!.body.toString('utf8');
  return {
    // The token is base64url: nothing to escape.
    page: (token) => html.replaceAll('%TASKQ_TOKEN%', token),
    file: (name) => (name === 'index.html' ? undefined : files.get(name)),
  };
}
