/**
 * Builds the console's front end into dist/console/ (or the folder given as the first
 * argument): console.js (Preact + htm + wouter-preact + uPlot, bundled and minified by
 * esbuild), console.css (with uPlot's), index.html. Run by `npm run build`, so the package
 * ships the assets and `taskq console` needs no build step or network.
 */
import { build } from 'esbuild';
import { copyFile, mkdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const out = resolve(process.argv[2] ?? join(here, '..', 'dist', 'console'));
await mkdir(out, { recursive: true });
await build({
  entryPoints: { console: join(here, 'console', 'main.ts'), 'console-style': join(here, 'console', 'console.css') },
  outdir: out,
  bundle: true,
  minify: true,
  format: 'esm',
  target: ['es2022'],
  platform: 'browser',
  legalComments: 'eof',
  logLevel: 'warning',
});
// esbuild names a CSS entry after its key: one stylesheet, console.css.
const { rename } = await import('node:fs/promises');
await rename(join(out, 'console-style.css'), join(out, 'console.css'));
await copyFile(join(here, 'console', 'index.html'), join(out, 'index.html'));
