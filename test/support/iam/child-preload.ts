/**
 * Loaded into a child process the tests start (`tsx --import <this file> …`, see
 * child-process.ts): every AWS SDK client the process creates gets the IAM enforcement —
 * its clients are created by the code under test (the CLI, the consumer inside the local
 * system, a README script), so the middleware is added on each client's first send by
 * wrapping the SDK's base Client.send. Which calls are a principal's:
 * - TASKQ_IAM_PRINCIPAL: every call of the process (the CLI is the operator);
 * - TASKQ_IAM_POLLER_PRINCIPAL: the local system's event source poller and the consumer it
 *   invokes (Lambda's event source mapping runs with the function's role); the local
 *   system's own provisioning and metric reads stand for AWS itself and are not evaluated.
 * TASKQ_CONTROL_PLANE_STAND_IN=1 answers CloudFormation and CloudWatch calls from the
 * synthesized stack (no emulator exists for them), after the IAM check.
 */
import { createRequire } from 'node:module';
import { enforceIam } from './enforcement.ts';
import { asPrincipal, isPrincipalName } from './principals.ts';
import { answerControlPlane } from '../stand-ins/control-plane.ts';

interface SdkClient {
  middlewareStack: { add: (...args: unknown[]) => void };
  send(...args: unknown[]): unknown;
}

const require = createRequire(import.meta.url);
// The module instance the SDK clients extend (they require it from CommonJS).
const { Client } = require('@smithy/core/client') as { Client: { prototype: SdkClient } };
const send = Client.prototype.send;
const standIn = process.env.TASKQ_CONTROL_PLANE_STAND_IN === '1';
Client.prototype.send = function (this: SdkClient, ...args: unknown[]) {
  enforceIam(this);
  if (standIn) answerControlPlane(this);
  return send.apply(this, args);
};

const pollerPrincipal = process.env.TASKQ_IAM_POLLER_PRINCIPAL;
if (pollerPrincipal) {
  if (!isPrincipalName(pollerPrincipal)) throw new Error(`TASKQ_IAM_POLLER_PRINCIPAL=${pollerPrincipal} is not a principal`);
  const { EventSourcePoller } = await import('../../../lib/local/event-source-poller.ts');
  const prototype = EventSourcePoller.prototype as unknown as { work?: (...args: unknown[]) => Promise<void> };
  const work = prototype.work;
  if (typeof work !== 'function') throw new Error('IAM harness: EventSourcePoller has no work() loop to run as the consumer; update child-preload.ts');
  prototype.work = function (this: unknown, ...args: unknown[]) {
    return asPrincipal(pollerPrincipal, () => work.apply(this, args));
  };
}
