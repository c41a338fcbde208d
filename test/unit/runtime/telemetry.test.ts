/**
 * The runtime's EMF documents: the shape CloudWatch Logs turns into metrics, with the
 * dimension sets the construct's helpers read (lib/protocol/metrics.ts). The end-to-end
 * check against the synthesized template is test/integration/runtime/metric-contract.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { TASK_METRICS } from '../../../lib/protocol/metrics.ts';
import { EmfMetricsSink, MetricsCollector } from '../../../lib/runtime/telemetry.ts';

type Doc = {
  _aws: { Timestamp: number; CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string; Unit: string }[] }[] };
  [key: string]: unknown;
};

function flush(fill: (c: MetricsCollector) => void, namespace = 'Tasks/Test'): Doc[] {
  const lines: string[] = [];
  const collector = new MetricsCollector();
  fill(collector);
  new EmfMetricsSink((line) => lines.push(line)).flush(namespace, collector.byTaskType, 1_700_000_000_000);
  return lines.map((l) => JSON.parse(l) as Doc);
}

describe('EMF documents', () => {
  it('one document per task type, published both without dimensions (all types) and per TaskType', () => {
    const docs = flush((c) => {
      c.of('send_email').processed = 2;
      c.of('send_email').handlerDuration.push(12, 30);
      c.of('send_email').endToEndLatency.push(100, 200);
      c.of('charge').deadLettered = 1;
    });
    expect(docs).toHaveLength(2);
    const email = docs.find((d) => d[TASK_METRICS.taskTypeDimension] === 'send_email')!;
    expect(email._aws).toEqual({
      Timestamp: 1_700_000_000_000,
      CloudWatchMetrics: [
        {
          Namespace: 'Tasks/Test',
          Dimensions: [[], ['TaskType']],
          Metrics: [
            { Name: 'TasksProcessed', Unit: 'Count' },
            { Name: 'HandlerDuration', Unit: 'Milliseconds' },
            { Name: 'EndToEndLatency', Unit: 'Milliseconds' },
          ],
        },
      ],
    });
    expect(email).toMatchObject({ TaskType: 'send_email', TasksProcessed: 2, HandlerDuration: [12, 30], EndToEndLatency: [100, 200] });
    const charge = docs.find((d) => d.TaskType === 'charge')!;
    expect(charge._aws.CloudWatchMetrics[0]!.Dimensions).toEqual(TASK_METRICS.dimensionSets);
    expect(charge._aws.CloudWatchMetrics[0]!.Metrics).toEqual([{ Name: 'TasksDeadLettered', Unit: 'Count' }]);
    expect(charge.TasksDeadLettered).toBe(1);
  });

  it('has no lower-case taskType member (a dimension name is case-sensitive: the helpers read TaskType)', () => {
    const [doc] = flush((c) => void (c.of('t').failed = 1));
    expect(Object.keys(doc!)).not.toContain('taskType');
  });

  it('uses the metric names and units of the shared contract, and writes nothing for a type with no values', () => {
    const docs = flush((c) => {
      const m = c.of('t');
      m.processed = 1;
      m.failed = 2;
      m.retried = 3;
      m.deadLettered = 4;
      m.duplicatesSkipped = 5;
      m.handlerDuration.push(1);
      m.endToEndLatency.push(2);
      m.unfinishedTaskAge.push(3600);
      c.of('idle');
    });
    expect(docs).toHaveLength(1);
    const names = TASK_METRICS.names;
    expect(docs[0]!._aws.CloudWatchMetrics[0]!.Metrics).toEqual(
      (Object.keys(names) as (keyof typeof names)[]).map((k) => ({ Name: names[k], Unit: TASK_METRICS.units[k] })),
    );
    expect(docs[0]).toMatchObject({ TasksProcessed: 1, TasksFailed: 2, TasksRetried: 3, TasksDeadLettered: 4, DuplicatesSkipped: 5, HandlerDuration: 1, EndToEndLatency: 2, UnfinishedTaskAge: 3600 });
  });

  it('splits a type with more than 100 values per metric into several documents with the same dimension sets', () => {
    const docs = flush((c) => {
      const m = c.of('bulk');
      m.processed = 150;
      for (let i = 0; i < 150; i++) m.handlerDuration.push(i);
    });
    expect(docs).toHaveLength(2);
    expect((docs[0]!.HandlerDuration as number[]).length).toBe(100);
    expect((docs[1]!.HandlerDuration as number[]).length).toBe(50);
    expect(docs[1]!.TasksProcessed).toBeUndefined(); // counts only once
    for (const d of docs) expect(d._aws.CloudWatchMetrics[0]!.Dimensions).toEqual([[], ['TaskType']]);
  });
});
