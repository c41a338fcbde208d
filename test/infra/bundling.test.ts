/**
 * The one test that really bundles the consumer: esbuild runs locally (no Docker), the
 * asset holds a minified ESM bundle that loads and exports the handler.
 */
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { afterAll, describe, expect, it } from 'vitest';
import { TaskQueue } from '../../lib/infra/task-queue.ts';
import { logicalId, resource, testApp } from './helpers.ts';

const outdir = mkdtempSync(path.join(tmpdir(), 'taskq-bundle-'));
afterAll(() => rmSync(outdir, { recursive: true, force: true }));

describe('consumer bundling', () => {
  it('bundles functions/consumer.ts with local esbuild into a minified ESM file that exports handler', async () => {
    const app = testApp({ bundle: true, outdir, context: { 'aws:cdk:enable-asset-metadata': true } });
    const stack = new Stack(app, 'Bundled');
    new TaskQueue(stack, 'Tasks');
    const template = Template.fromStack(stack);
    app.synth();

    const fn = resource(template, logicalId(template, 'AWS::Lambda::Function'));
    const assetDir = path.join(outdir, fn.Metadata['aws:asset:path'] as string);
    expect(readdirSync(assetDir).sort()).toEqual(['index.mjs']); // no source map by default
    const bundle = readFileSync(path.join(assetDir, 'index.mjs'), 'utf8');

    // Minified: long lines (newlines survive only inside template literals), no indented code.
    const lines = bundle.split('\n').filter((l) => l.length > 0);
    expect(bundle.length / lines.length).toBeGreaterThan(500);
    expect(lines.filter((l) => /^ {2,}[a-z]+\(/i.test(l) || /^ {2,}(const|let|return|if) /.test(l))).toEqual([]);
    expect(bundle).not.toContain('@aws-cdk'); // nothing of the CDK app leaks into the function
    // The CommonJS shim for ESM output is there.
    expect(bundle).toContain('createRequire');

    const mod = (await import(pathToFileURL(path.join(assetDir, 'index.mjs')).href)) as Record<string, unknown>;
    expect(typeof mod.handler).toBe('function');
  });

  it('with sourceMap: true, emits index.mjs.map next to the bundle', () => {
    const dir = path.join(outdir, 'maps');
    const app = testApp({ bundle: true, outdir: dir, context: { 'aws:cdk:enable-asset-metadata': true } });
    const stack = new Stack(app, 'Mapped');
    new TaskQueue(stack, 'Tasks', { sourceMap: true });
    const template = Template.fromStack(stack);
    app.synth();
    const fn = resource(template, logicalId(template, 'AWS::Lambda::Function'));
    const assetDir = path.join(dir, fn.Metadata['aws:asset:path'] as string);
    expect(existsSync(path.join(assetDir, 'index.mjs.map'))).toBe(true);
    expect(fn.Properties.Environment.Variables.NODE_OPTIONS).toBe('--enable-source-maps');
  });
});
