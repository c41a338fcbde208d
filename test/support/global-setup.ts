import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { startEmulators, type Emulators } from '../../lib/local/emulators.ts';
import { summarizeLedger } from './iam/ledger.ts';
import { IAM_DIR_ENV } from './iam/run-directory.ts';

export interface EmulatorEndpoints {
  sqsEndpoint: string;
  s3Endpoint: string;
  dynamoEndpoint: string;
  dynamoEngine: string;
  region: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    emulators: EmulatorEndpoints;
    /** The run's IAM directory (test/support/iam/run-directory.ts). */
    iam: { dir: string };
  }
}

let emulators: Emulators | undefined;
let iamDir: string | undefined;

export async function setup(project: TestProject): Promise<void> {
  // The IAM enforcement's policies: the stack synthesized once per run (a few seconds, while
  // DynamoDB Local's JVM starts; reused while lib/ and cdk.json are unchanged), read by every
  // worker and child process.
  iamDir = mkdtempSync(join(tmpdir(), 'taskq-iam-'));
  process.env[IAM_DIR_ENV] = iamDir;
  // Settled here so a failed synthesis is reported after the emulators started, not as an unhandled rejection.
  const synthesizing = import('./iam/synthesized-policies.ts')
    .then((m) => m.writePolicyModels())
    .then(
      () => undefined,
      (error: unknown) => error ?? new Error('synthesizing the IAM policies failed'),
    );
  emulators = await startEmulators({ dynamo: process.env.TASKQ_TEST_DYNAMO === 'dynalite' ? 'dynalite' : 'auto' });
  const failed = await synthesizing;
  if (failed !== undefined) throw failed;
  const { sqsEndpoint, s3Endpoint, dynamoEndpoint, dynamoEngine, region } = emulators;
  project.provide('emulators', { sqsEndpoint, s3Endpoint, dynamoEndpoint, dynamoEngine, region });
  project.provide('iam', { dir: iamDir });
}

export async function teardown(): Promise<void> {
  await emulators?.stop();
  if (iamDir) {
    const summary = summarizeLedger();
    const principals = Object.entries(summary.byPrincipal)
      .map(([principal, n]) => `${principal} ${n}`)
      .join(', ');
    const { policyModels } = await import('./iam/synthesized-policies.ts');
    let variants = 'not synthesized';
    try {
      variants = policyModels()
        .map((m) => `${m.variant}, operator by ${m.operatorGrant}`)
        .join('; ');
    } catch {
      /* the setup failed before writing them */
    }
    process.stdout.write(
      `\nIAM enforcement: ${summary.triples} distinct (principal, action, resource) triples checked against the synthesized policies [${variants}]` +
        `${principals ? ` (${principals})` : ''}; ${summary.denials} distinct refused calls failed tests\n`,
    );
    rmSync(iamDir, { recursive: true, force: true });
  }
}
