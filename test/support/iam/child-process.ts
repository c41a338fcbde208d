/**
 * Starting a child process under IAM enforcement: the node flags that load child-preload.ts
 * and the environment naming its principal and session; after it exits, the refusals it
 * recorded (its own code may have caught and reported them as something else).
 */
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { childDenials } from './ledger.ts';
import type { PrincipalName } from './principals.ts';

export const CHILD_PRELOAD = fileURLToPath(new URL('./child-preload.ts', import.meta.url));

export interface ChildEnforcement {
  /** Put before the script: `tsx ...importArgs script.ts`. */
  readonly importArgs: string[];
  readonly env: Record<string, string>;
  readonly session: string;
  /** Throws when the child's calls were refused, listing the refusals. */
  assertNoDenials(): void;
}

export function childEnforcement(options: { principal?: PrincipalName; pollerPrincipal?: PrincipalName; controlPlaneStandIn?: boolean }): ChildEnforcement {
  const session = `child-${randomUUID().slice(0, 8)}`;
  const env: Record<string, string> = { TASKQ_IAM_SESSION: session };
  if (options.principal) env.TASKQ_IAM_PRINCIPAL = options.principal;
  if (options.pollerPrincipal) env.TASKQ_IAM_POLLER_PRINCIPAL = options.pollerPrincipal;
  if (options.controlPlaneStandIn) env.TASKQ_CONTROL_PLANE_STAND_IN = '1';
  return {
    importArgs: ['--import', CHILD_PRELOAD],
    env,
    session,
    assertNoDenials() {
      const messages = [...new Set(childDenials(session).map((d) => d.message))];
      if (messages.length > 0) throw new Error(`the synthesized template refuses ${messages.length} call(s) of the child process:\n- ${messages.join('\n- ')}`);
    },
  };
}
