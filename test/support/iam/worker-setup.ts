/**
 * Runs in every test worker (vitest setupFiles): points the IAM enforcement at the run's
 * directory (children inherit it), and fails a test in which the synthesized template
 * refused a call — even one the code under test caught and recovered from, as it would
 * recover in AWS while the task took the wrong path.
 */
import { afterEach, inject } from 'vitest';
import { reportDenials, takeDenials } from './ledger.ts';
import { IAM_DIR_ENV } from './run-directory.ts';

process.env[IAM_DIR_ENV] = inject('iam').dir;

afterEach(() => {
  const denials = takeDenials();
  if (denials.length === 0) return;
  reportDenials(denials);
  const messages = [...new Set(denials.map((d) => d.message))];
  throw new Error(`the synthesized template refuses ${messages.length} call(s) this test made:\n- ${messages.join('\n- ')}`);
});
