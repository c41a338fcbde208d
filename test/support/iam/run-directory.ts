/**
 * The test run's IAM directory, shared by the vitest workers and the child processes they
 * start: the synthesized policies (policies.json, written once by the global setup), the
 * registry of emulator resources by role, and the ledger of evaluated calls. Its path
 * travels in TASKQ_IAM_DIR (set in each worker by worker-setup.ts, inherited by children).
 */
import { join } from 'node:path';

export const IAM_DIR_ENV = 'TASKQ_IAM_DIR';

export function iamDirectory(): string {
  const dir = process.env[IAM_DIR_ENV];
  if (!dir) {
    throw new Error(`${IAM_DIR_ENV} is not set: IAM enforcement runs under vitest (test/support/global-setup.ts provides the directory)`);
  }
  return dir;
}

export const iamFiles = {
  policies: () => join(iamDirectory(), 'policies.json'),
  registry: () => join(iamDirectory(), 'resources.jsonl'),
  ledger: () => join(iamDirectory(), 'ledger'),
};
