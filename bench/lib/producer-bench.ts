/**
 * Section 4: the producer side alone. The same 1 KB tasks sent by
 * - TaskProducer.sendBatch (one call with every task; its defaults: ≤ 10 entries and ≤ 1 MiB
 *   per SendMessageBatch, 8 requests in flight);
 * - sqs-producer as its README shows it: one `producer.send(messages)` call (it sends the
 *   batches of 10 one after another), and — the best a user can do with it — 8 concurrent
 *   send() calls of 10 messages;
 * - one SendMessage per task (the naive seed), 8 in flight.
 * Rounds are interleaved; tasks/s and SQS requests per 1,000 tasks come from the meter.
 */
import { randomUUID } from 'node:crypto';
import { Producer } from 'sqs-producer';
import { TaskProducer } from '../../lib/client/index.ts';
import { naiveSend } from '../anchors/naive.ts';
import { createResources, makeClients, type Clients, type Endpoints } from './env.ts';
import { Meter } from './meter.ts';
import { anchorBody } from './pipelines.ts';
import { spread, type Spread } from './throughput.ts';
import { makeUniformWorkload, payloadOf } from './workload.ts';

export type ProducerId = 'taskq-sendBatch' | 'sqs-producer' | 'sqs-producer-parallel' | 'sendMessage-each';

export const PRODUCERS: Record<ProducerId, string> = {
  'taskq-sendBatch': 'TaskProducer.sendBatch',
  'sqs-producer': 'sqs-producer, one send() of all tasks',
  'sqs-producer-parallel': 'sqs-producer, 8 concurrent send() of 10',
  'sendMessage-each': 'SendMessage per task, 8 in flight',
};

export interface ProducerResult {
  id: ProducerId;
  label: string;
  tasksPerSecond: Spread;
  samples: number[];
  sqsRequestsPer1000: number;
  sqsBilledPer1000: number;
  failed: number;
}

async function once(id: ProducerId, tasks: number, round: number, e: Endpoints, admin: Clients): Promise<{ tps: number; requests: number; billed: number; failed: number }> {
  const meter = new Meter(id);
  const clients = makeClients(e, meter);
  const r = await createResources(admin, `pr${round}`, { visibilityTimeoutSeconds: 30, maxReceiveCount: 5 });
  const w = makeUniformWorkload(tasks, `p${round}${id}`);
  let failed = 0;
  const start = performance.now();
  if (id === 'taskq-sendBatch') {
    const producer = new TaskProducer({ queueUrl: r.queueUrl, sqs: clients.sqs });
    const results = await producer.sendBatch(w.tasks.map((t) => ({ type: t.type, payload: payloadOf(t), taskId: t.key })));
    failed = results.filter((x) => !x.ok).length;
  } else if (id === 'sqs-producer') {
    const producer = Producer.create({ queueUrl: r.queueUrl, sqs: clients.sqs, batchSize: 10 });
    await producer.send(w.tasks.map((t) => ({ id: randomUUID(), body: anchorBody(t) })));
  } else if (id === 'sqs-producer-parallel') {
    const producer = Producer.create({ queueUrl: r.queueUrl, sqs: clients.sqs, batchSize: 10 });
    let next = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < w.tasks.length) {
          const slice = w.tasks.slice(next, next + 10);
          next += 10;
          await producer.send(slice.map((t) => ({ id: randomUUID(), body: anchorBody(t) })));
        }
      }),
    );
  } else {
    let next = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < w.tasks.length) await naiveSend(clients.sqs, r.queueUrl, anchorBody(w.tasks[next++]!));
      }),
    );
  }
  const ms = performance.now() - start;
  const sqs = meter.services().sqs ?? { requests: 0, billed: 0 };
  clients.destroy();
  return { tps: (tasks / ms) * 1000, requests: sqs.requests, billed: sqs.billed, failed };
}

export async function runProducers(tasks: number, rounds: number, e: Endpoints, admin: Clients, log: (line: string) => void): Promise<ProducerResult[]> {
  const ids = Object.keys(PRODUCERS) as ProducerId[];
  const samples = new Map<ProducerId, { tps: number[]; requests: number; billed: number; failed: number; n: number }>();
  for (let round = 0; round < rounds; round += 1) {
    const order = round % 2 === 0 ? ids : [...ids].reverse();
    for (const id of order) {
      const r = await once(id, tasks, round, e, admin);
      const s = samples.get(id) ?? { tps: [], requests: 0, billed: 0, failed: 0, n: 0 };
      s.tps.push(r.tps);
      s.requests += r.requests;
      s.billed += r.billed;
      s.failed += r.failed;
      s.n += tasks;
      samples.set(id, s);
      log(`  round ${round + 1} ${id}: ${r.tps.toFixed(0)} tasks/s, ${r.requests} SQS requests`);
    }
  }
  return ids.map((id) => {
    const s = samples.get(id)!;
    return {
      id,
      label: PRODUCERS[id],
      tasksPerSecond: spread(s.tps),
      samples: s.tps,
      sqsRequestsPer1000: (s.requests / s.n) * 1000,
      sqsBilledPer1000: (s.billed / s.n) * 1000,
      failed: s.failed,
    };
  });
}
