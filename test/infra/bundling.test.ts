/**
 * The one test that really bundles the consumer: esbuild runs locally (no Docker), the
 * asset holds a minified ESM bundle that loads and exports the handler; the rare-path SDK
 * clients and the unused credential providers are left out (the Lambda runtime's SDK has
 * them), the hot path's DynamoDB client is in — and the bundle, alone in a directory with no
 * node_modules (as on Lambda without the runtime's SDK), processes a task with environment
 * credentials against DynamoDB Local.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { afterAll, describe, expect, it } from 'vitest';
import { TaskQueue } from '../../lib/infra/task-queue.ts';
import { CONSUMER_BUNDLING } from '../../lib/infra/consumer-bundling.ts';
import { createTestResources, emulatorEndpoints, testClients } from '../support/aws.ts';
import { taskRecord } from '../integration/runtime/helpers.ts';
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

    // The SQS and S3 SDKs (import()ed on rare paths) and the credential providers Lambda never
    // uses are not in the bundle: only their import() specifiers are.
    // (Booleans, not toMatch: a failure must not print a 240 KB bundle.)
    const has = (s: string) => bundle.includes(s);
    expect(['com.amazonaws.sqs', 'AmazonSQS', 'com.amazonaws.s3', 'AmazonS3'].filter(has)).toEqual([]);
    expect(['AWSSecurityTokenServiceV20110615', 'AssumeRoleWithWebIdentity', 'GetRoleCredentials'].filter(has)).toEqual([]);
    expect(CONSUMER_BUNDLING.externalModules.filter((m) => !has(`import("${m}")`))).toEqual([]);
    expect(/(?:from|import)\s*"@(?:aws-sdk|smithy)\//.test(bundle)).toBe(false); // no static import of an external: nothing extra loads at init
    // The hot path's DynamoDB client is bundled (pinned to the tested version).
    expect(['com.amazonaws.dynamodb', 'DynamoDB_20120810', 'BatchWriteItem', 'BatchExecuteStatement'].filter((s) => !has(s))).toEqual([]);
    expect(bundle.length).toBeLessThan(300 * 1024);

    // Alone in a directory with no node_modules, with environment credentials: a real task.
    const clients = testClients();
    const r = await createTestResources(clients);
    const e = emulatorEndpoints();
    const script = `
      const { handler } = await import(${JSON.stringify(pathToFileURL(path.join(assetDir, 'index.mjs')).href)});
      const body = JSON.stringify({ v: 1, id: 'tsk_bundled', type: 'send_email', payload: { to: 'a@example.com', subject: 'hi' }, createdAt: new Date().toISOString() });
      const record = { messageId: 'm1', receiptHandle: 'rh', body, attributes: { ApproximateReceiveCount: '1' }, messageAttributes: {}, eventSource: 'aws:sqs', eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:q', awsRegion: 'us-east-1' };
      const out = await handler({ Records: [record] }, { getRemainingTimeInMillis: () => 30000 });
      process.stdout.write(JSON.stringify(out));`;
    const result = await new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
      const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
        cwd: assetDir,
        env: {
          PATH: process.env.PATH ?? '',
          AWS_REGION: e.region,
          AWS_ACCESS_KEY_ID: 'local',
          AWS_SECRET_ACCESS_KEY: 'local',
          AWS_SESSION_TOKEN: 'local',
          AWS_ENDPOINT_URL_DYNAMODB: e.dynamoEndpoint,
          AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
          TASKQ_TABLE_NAME: r.tableName,
          TASKQ_LOG_LEVEL: 'ERROR',
        },
      });
      let out = '';
      let err = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      child.once('exit', (code) => resolve({ code, out, err }));
    });
    expect(result.err).not.toMatch(/ERR_MODULE_NOT_FOUND|Cannot find/);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.out.trim().split('\n').pop()!)).toEqual({ batchItemFailures: [] });
    expect(await taskRecord(clients.dynamo, r.tableName, 'tsk_bundled')).toMatchObject({ status: 'SUCCEEDED' });
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
