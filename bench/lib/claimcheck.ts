/**
 * Section 5b: the claim-check curve. For each payload size, the same tasks go through this
 * project's pipeline (idempotency off, so only the transport is compared) twice: forced
 * inline (the largest threshold the producer accepts: 1 MiB − DEAD_LETTER_HEADROOM_BYTES) and
 * forced through S3 (threshold 0). S3 storage of the claim objects for their lifetime is
 * included (nothing deletes them before the bucket's expiration rule). Every request is
 * counted and priced per million tasks; the default threshold is marked on the curve.
 */
import { Ledger } from './ledger.ts';
import { Meter } from './meter.ts';
import { createResources, makeClients, queueDepth, sleep, type Clients, type Endpoints } from './env.ts';
import { makeConsumer, produce } from './pipelines.ts';
import { perMillion, price, quantities } from './pricing.ts';
import { makeUniformWorkload } from './workload.ts';
import { DEAD_LETTER_HEADROOM_BYTES, SQS_MAX_MESSAGE_BYTES } from '../../lib/protocol/limits.ts';

export interface CurvePoint {
  payloadBytes: number;
  transport: 'inline' | 's3';
  tasks: number;
  sent: number;
  sqsBilledPerTask: number;
  s3RequestsPerTask: number;
  /** USD per million tasks, all counted components (GB-s included). */
  usdPerMillion: number;
  /** Same, without Lambda compute: the transport alone. */
  usdPerMillionExclCompute: number;
  error?: string;
}

export async function runClaimCheckCurve(sizes: readonly number[], tasks: number, e: Endpoints, admin: Clients, memoryMb: number, claimLifetimeDays: number, log: (line: string) => void): Promise<CurvePoint[]> {
  const points: CurvePoint[] = [];
  for (const payloadBytes of sizes) {
    for (const transport of ['inline', 's3'] as const) {
      const meter = new Meter(`curve-${payloadBytes}-${transport}`);
      const clients = makeClients(e, meter);
      const r = await createResources(admin, 'cc', { visibilityTimeoutSeconds: 30, maxReceiveCount: 5 });
      const w = makeUniformWorkload(tasks, `cc${payloadBytes}${transport}`, payloadBytes);
      const produced = await produce('a-off', clients, r, w.tasks, { claimCheckThresholdBytes: transport === 'inline' ? SQS_MAX_MESSAGE_BYTES - DEAD_LETTER_HEADROOM_BYTES : 0 });
      const ledger = new Ledger();
      const consumer = makeConsumer('a-off', clients, r, ledger, meter, { concurrency: 2, memoryMb, timeoutSeconds: 30, visibilityTimeoutSeconds: 30, waitTimeSeconds: 1 }, e.region);
      consumer.start();
      const start = performance.now();
      while (performance.now() - start < 60_000) {
        await sleep(100);
        if (w.tasks.every((t) => ledger.succeeded(t.key)) || produced.sent === 0) {
          const d = await queueDepth(admin, r.queueUrl);
          if (d.visible + d.inFlight + d.delayed === 0) break;
        }
      }
      await consumer.stop();
      const q = quantities(meter, memoryMb, claimLifetimeDays);
      const cost = perMillion(price(q), tasks);
      points.push({
        payloadBytes,
        transport,
        tasks,
        sent: produced.sent,
        sqsBilledPerTask: q.sqsBilledRequests / tasks,
        s3RequestsPerTask: (q.s3Put + q.s3Get) / tasks,
        usdPerMillion: cost.total,
        usdPerMillionExclCompute: cost.total - cost.lambdaCompute,
        ...(produced.failed > 0 ? { error: produced.errors[0] ?? 'send failed' } : {}),
      });
      log(`  ${(payloadBytes / 1024).toFixed(0)} KiB ${transport}: $${cost.total.toFixed(2)}/M (transport $${(cost.total - cost.lambdaCompute).toFixed(2)}/M)${produced.failed ? ' — ' + produced.errors[0] : ''}`);
      clients.destroy();
    }
  }
  return points;
}
