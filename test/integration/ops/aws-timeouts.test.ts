/**
 * A silent connection under the operations clients (lib/ops/clients.ts, used by the CLI and
 * the console): a call the network never answers fails at its bound and the SDK retries it on
 * a new connection, while a DLQ long poll keeps its whole wait. The clients reach fauxqs
 * through a proxy that leaves chosen requests unanswered (test/support/silent-proxy.ts).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createClients } from '../../../lib/ops/clients.ts';
import type { OpsTarget } from '../../../lib/ops/resolve-target.ts';
import { DEFAULT_AWS_TIMEOUTS } from '../../../lib/protocol/aws-timeouts.ts';
import { LOCAL_CREDENTIALS } from '../../../lib/local/emulators.ts';
import { createTestResources, emulatorEndpoints, testClients } from '../../support/aws.ts';
import { enforceIam } from '../../support/iam/enforcement.ts';
import { silentProxy, type SilentProxy } from '../../support/silent-proxy.ts';
import { settledWithin } from '../../support/until.ts';
import { operator, putDeadLetter } from './helpers.ts';

const clients = testClients();

describe('a silent connection under the operations clients', () => {
  let proxy: SilentProxy | undefined;
  afterEach(async () => {
    await proxy?.close();
    proxy = undefined;
  });

  async function opsSqsThroughProxy(silence: (target: string, n: number) => boolean) {
    const e = emulatorEndpoints();
    proxy = await silentProxy(e.sqsEndpoint, silence);
    const target: OpsTarget = { mode: 'local', region: e.region, endpoints: { sqs: proxy.url }, credentials: LOCAL_CREDENTIALS, resources: {} };
    const ops = createClients(target);
    return { sqs: enforceIam(ops.sqs), ops, proxy };
  }

  it('dlq peek: a receive left unanswered fails at its bound (wait + 5 s) and is retried; both dead letters are listed and released', async () => {
    const r = await createTestResources(clients);
    const a = await putDeadLetter(clients.sqs, r.deadLetterQueueUrl, { type: 'charge' });
    const b = await putDeadLetter(clients.sqs, r.deadLetterQueueUrl, { type: 'charge' });
    const { sqs, ops, proxy: p } = await opsSqsThroughProxy((target, n) => target === 'AmazonSQS.ReceiveMessage' && n === 1);
    const peek = await settledWithin(operator.peekDeadLetters({ sqs, deadLetterQueueUrl: r.deadLetterQueueUrl, waitSeconds: 1 }), 30_000);
    expect(peek, 'peek was still waiting on the unanswered receive after 30 s').toBeDefined();
    expect(peek!.ms).toBeGreaterThanOrEqual(1000 + DEFAULT_AWS_TIMEOUTS.requestMs - 100);
    expect(peek!.value.messages.map((m) => m.taskId).sort()).toEqual([a.taskId, b.taskId].sort());
    expect(peek!.value.notReleased).toEqual([]);
    expect(p.seen[0]).toEqual({ target: 'AmazonSQS.ReceiveMessage', silenced: true });
    ops.destroy();
  }, 60_000);

  it('dlq peek: a long poll longer than the per-call bound keeps its whole wait on an empty DLQ', async () => {
    const r = await createTestResources(clients);
    const waitSeconds = Math.ceil(DEFAULT_AWS_TIMEOUTS.requestMs / 1000) + 2;
    const { sqs, ops, proxy: p } = await opsSqsThroughProxy(() => false);
    const peek = await settledWithin(operator.peekDeadLetters({ sqs, deadLetterQueueUrl: r.deadLetterQueueUrl, waitSeconds }), 40_000);
    expect(peek, 'peek had not answered after 40 s').toBeDefined();
    expect(peek!.value.messages).toEqual([]);
    expect(peek!.ms).toBeGreaterThanOrEqual(waitSeconds * 1000 - 200);
    // One receive, never cut at the per-call bound and tried again.
    expect(p.seen.filter((s) => s.target === 'AmazonSQS.ReceiveMessage')).toHaveLength(1);
    ops.destroy();
  }, 60_000);
});
