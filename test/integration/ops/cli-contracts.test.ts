/**
 * `taskq contracts`: the contracts a module exports, and the JSON Schemas producers in other
 * languages are written from — run as a user runs the CLI (a child process).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const repo = fileURLToPath(new URL('../../../', import.meta.url));

function taskq(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('npx', ['tsx', 'bin/taskq.ts', ...args], { cwd: repo, env: { ...process.env, NO_COLOR: '1' }, timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 99) : 0, stdout, stderr });
    });
  });
}

describe('taskq contracts', () => {
  it('lists the contracts a TypeScript module exports, with their schema library and defaults', async () => {
    const run = await taskq(['contracts', 'test/fixtures/contracts.ts', '--json']);
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual([
      { type: 'charge_card', schemaVendor: 'zod', defaults: { idempotency: 'lease', timeoutMs: 5000 } },
      { type: 'send_email', schemaVendor: 'zod', defaults: { maxAttempts: 2 } },
    ]);
  });

  it('--json-schema prints one draft 2020-12 schema per type, the payload a producer must send', async () => {
    const run = await taskq(['contracts', 'test/fixtures/contracts.ts', '--json-schema']);
    expect(run.code, run.stderr).toBe(0);
    const schemas = JSON.parse(run.stdout);
    expect(Object.keys(schemas)).toEqual(['charge_card', 'send_email']);
    expect(schemas.send_email).toMatchObject({
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      title: 'send_email payload',
      type: 'object',
      required: ['to'],
      properties: { to: { format: 'email' } },
      'x-taskq': { type: 'send_email', defaults: { maxAttempts: 2 } },
    });
    // The producer's input: a field with a default is optional.
    expect(schemas.charge_card.required).toEqual(['orderId', 'cents']);
  });

  it('--out writes <dir>/<type>.schema.json', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'taskq-contracts-'));
    const run = await taskq(['contracts', 'test/fixtures/contracts.ts', '--json-schema', '--out', dir]);
    expect(run.code, run.stderr).toBe(0);
    expect((await readdir(dir)).sort()).toEqual(['charge_card.schema.json', 'send_email.schema.json']);
    expect(JSON.parse(await readFile(join(dir, 'send_email.schema.json'), 'utf8')).title).toBe('send_email payload');
  });

  it('refuses, naming the contract, a schema that cannot be converted; and a module without contracts', async () => {
    const noJson = await taskq(['contracts', 'test/fixtures/contracts-without-json-schema.ts', '--json-schema']);
    expect(noJson.code).toBe(1);
    expect(noJson.stderr).toMatch(/contract handmade: its schema \(handmade\) does not implement Standard JSON Schema/);
    const none = await taskq(['contracts', 'test/fixtures/no-contracts.ts', '--json-schema']);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/test\/fixtures\/no-contracts\.ts exports no task contract \(made by defineContract\)/);
    const missing = await taskq(['contracts', 'test/fixtures/missing.js']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/cannot load test\/fixtures\/missing\.js/);
  });
});
