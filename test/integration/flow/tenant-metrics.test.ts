/**
 * The opt-in per-tenant metrics: with `metricsTenantDimension`, a standard queue's messages
 * sent with a tenant (message group id, which local mode keeps: lib/local/fair-queues.ts) are
 * also counted per TaskType + Tenant in EMF documents of their own; without it, none are written.
 */
import { describe, expect, it } from 'vitest';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { createTestResources, testClients } from '../../support/aws.ts';
import { EmfMetricsSink } from '../../../lib/runtime/telemetry.ts';
import { MESSAGE_ATTRIBUTES } from '../../../lib/protocol/attributes.ts';
import { TASK_METRICS } from '../../../lib/protocol/metrics.ts';
import { consumer, envelope, invokeLikeLambda, receiveEvent } from '../runtime/helpers.ts';

const clients = testClients();

async function run(tenantDimension: boolean): Promise<Record<string, any>[]> {
  const r = await createTestResources(clients);
  const lines: string[] = [];
  const { handler } = consumer(r, clients, { render: { handler: () => undefined } }, { metrics: new EmfMetricsSink((l) => lines.push(l)), ...(tenantDimension ? { metricsTenantDimension: true } : {}) });
  for (const group of ['tenant-a', 'tenant-a', 'tenant-b', undefined]) {
    await clients.sqs.send(
      new SendMessageCommand({
        QueueUrl: r.queueUrl,
        MessageBody: JSON.stringify(envelope('render', {})),
        MessageAttributes: { [MESSAGE_ATTRIBUTES.taskType]: { DataType: 'String', StringValue: 'render' } },
        ...(group ? { MessageGroupId: group } : {}),
      }),
    );
  }
  const event = await receiveEvent(clients.sqs, r, 4, 2);
  expect(event.Records).toHaveLength(4);
  await invokeLikeLambda(clients.sqs, r.queueUrl, handler, event);
  return lines.map((l) => JSON.parse(l));
}

describe('per-tenant EMF metrics (opt-in)', () => {
  it('counts each tenant under TaskType + Tenant when asked; the per-type documents stay as they were', async () => {
    const docs = await run(true);
    const tenantDocs = docs.filter((d) => d[TASK_METRICS.tenantDimension] !== undefined);
    expect(Object.fromEntries(tenantDocs.map((d) => [d.Tenant, d.TasksProcessed]))).toEqual({ 'tenant-a': 2, 'tenant-b': 1 });
    for (const d of tenantDocs) {
      expect(d._aws.CloudWatchMetrics[0].Dimensions).toEqual([['TaskType', 'Tenant']]);
      expect(d.TaskType).toBe('render');
      expect(d.EndToEndLatency).toBeDefined();
    }
    const typeDocs = docs.filter((d) => d[TASK_METRICS.tenantDimension] === undefined);
    expect(typeDocs).toHaveLength(1);
    expect(typeDocs[0]!.TasksProcessed).toBe(4);
    expect(typeDocs[0]!._aws.CloudWatchMetrics[0].Dimensions).toEqual([[], ['TaskType']]);
  }, 30_000);

  it('writes no per-tenant document by default', async () => {
    const docs = await run(false);
    expect(docs.some((d) => d[TASK_METRICS.tenantDimension] !== undefined)).toBe(false);
    expect(docs).toHaveLength(1);
  }, 30_000);
});
