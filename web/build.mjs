/**
 * Builds the console's front end into dist/console/ (or the folder given as the first
 * argument): console.js (Preact + htm + wouter-preact + uPlot, bundled and minified by
 * esbuild), console.css (with uPlot's), index.html. Run by `npm run build`, so the package
 * ships the assets and `taskq console` needs no build step or network.
 *
 * In the package build (no argument) it also bundles the console's HTTP server framework
 * (Hono and its Node.js adapter) into the two compiled files that import it, so Hono is a
 * devDependency: a producer installing taskq does not download it. Their other imports
 * (taskq's own modules, Node.js built-ins) stay imports.
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

if (process.argv[2] === undefined) {
  const compiled = join(here, '..', 'dist', 'lib', 'ops', 'console');
  const keepRelativeImports = {
    name: 'keep-relative-imports',
    setup(b) {
      // Only taskq's own imports stay imports; the framework's internal ones are bundled.
      b.onResolve({ filter: /^\.\.?\// }, (args) => (args.kind !== 'entry-point' && args.importer.startsWith(compiled) ? { path: args.path, external: true } : undefined));
    },
  };
  for (const file of ['console-app.js', 'run-console.js']) {
    await build({
      entryPoints: [join(compiled, file)],
      outfile: join(compiled, file),
      allowOverwrite: true,
      bundle: true,
      format: 'esm',
      platform: 'node',
      target: ['node20'],
      sourcemap: true,
      sourcesContent: false,
      legalComments: 'eof',
      logLevel: 'warning',
      plugins: [keepRelativeImports],
    });
  }
}
