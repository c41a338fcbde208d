import { describe, expect, it } from 'vitest';
import { LocalAlarms, readAlarmDefinition } from '../../../lib/local/local-alarms.ts';
import { aggregate, MetricStore, percentile, type MetricId } from '../../../lib/local/metrics.ts';
import type { LocalAlarmDefinition } from '../../../lib/local/provision.ts';
import { NO_CONSUMERS_EXPRESSION } from '../../../lib/infra/alarms.ts';
import { TaskQueue } from '../../../lib/infra/task-queue.ts';
import { Template } from 'aws-cdk-lib/assertions';
import { testStack } from '../../infra/helpers.ts';

const dlqVisible: MetricId = { namespace: 'AWS/SQS', metricName: 'ApproximateNumberOfMessagesVisible', dimensions: { QueueName: 'dlq' } };
const dlqInFlight: MetricId = { namespace: 'AWS/SQS', metricName: 'ApproximateNumberOfMessagesNotVisible', dimensions: { QueueName: 'dlq' } };
const visible: MetricId = { namespace: 'AWS/SQS', metricName: 'ApproximateNumberOfMessagesVisible', dimensions: { QueueName: 'q' } };
const deleted: MetricId = { namespace: 'AWS/SQS', metricName: 'NumberOfMessagesDeleted', dimensions: { QueueName: 'q' } };
const invocations: MetricId = { namespace: 'AWS/Lambda', metricName: 'Invocations', dimensions: { FunctionName: 'fn' } };
const errors: MetricId = { namespace: 'AWS/Lambda', metricName: 'Errors', dimensions: { FunctionName: 'fn' } };

const stat = (id: MetricId, period: number, s: string) => ({
  MetricStat: { Metric: { Namespace: id.namespace, MetricName: id.metricName, Dimensions: Object.entries(id.dimensions).map(([Name, Value]) => ({ Name, Value })) }, Period: period, Stat: s },
});

function dlqAlarm(treatMissingData = 'ignore'): LocalAlarmDefinition {
  return {
    logicalId: 'Dlq',
    properties: {
      AlarmName: 'S-Tasks-DeadLetterQueueNotEmpty',
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      Threshold: 1,
      EvaluationPeriods: 1,
      TreatMissingData: treatMissingData,
      Metrics: [{ Id: 'm1', ReturnData: true, ...stat(dlqVisible, 60, 'Maximum') }],
    },
  };
}

const errorsAlarm = (extra: Record<string, unknown> = {}): LocalAlarmDefinition => ({
  logicalId: 'Errors',
  properties: {
    AlarmName: 'S-Tasks-ConsumerErrors',
    ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    Threshold: 2,
    EvaluationPeriods: 3,
    Namespace: 'AWS/Lambda',
    MetricName: 'Errors',
    Dimensions: [{ Name: 'FunctionName', Value: 'fn' }],
    Period: 60,
    Statistic: 'Sum',
    TreatMissingData: 'notBreaching',
    ...extra,
  },
});

const noConsumers: LocalAlarmDefinition = {
  logicalId: 'NoConsumers',
  properties: {
    AlarmName: 'S-Tasks-NoConsumers',
    ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    Threshold: 1,
    EvaluationPeriods: 3,
    TreatMissingData: 'notBreaching',
    Metrics: [
      { Id: 'expr_1', Expression: NO_CONSUMERS_EXPRESSION, ReturnData: true },
      { Id: 'visible', ReturnData: false, ...stat(visible, 300, 'Maximum') },
      { Id: 'deleted', ReturnData: false, ...stat(deleted, 300, 'Sum') },
      { Id: 'invocations', ReturnData: false, ...stat(invocations, 300, 'Sum') },
    ],
  },
};

const T = 1_000_000;

describe('local alarms', () => {
  it('starts INSUFFICIENT_DATA, then OK, then ALARM when the DLQ holds a message (periods scaled 60 → 1 s)', () => {
    const store = new MetricStore();
    const alarms = new LocalAlarms([dlqAlarm('missing')], store);
    expect(alarms.evaluate(T)[0]).toMatchObject({ state: 'INSUFFICIENT_DATA', reason: 'no datapoints' });
    store.record(dlqVisible, 0, T + 500);
    expect(alarms.evaluate(T + 900)[0]!.state).toBe('OK');
    store.record(dlqVisible, 1, T + 1500);
    const status = alarms.evaluate(T + 1900)[0]!;
    expect(status).toMatchObject({ name: 'S-Tasks-DeadLetterQueueNotEmpty', state: 'ALARM', value: 1, since: T + 1900 });
    expect(status.reason).toBe('1 of 1 datapoints ≥ 1 (1 needed)');
  });

  it('treatMissingData ignore keeps the state when there is no data; notBreaching counts missing as OK; breaching as ALARM', () => {
    const store = new MetricStore();
    const ignore = new LocalAlarms([dlqAlarm('ignore')], store);
    store.record(dlqVisible, 3, T);
    expect(ignore.evaluate(T + 100)[0]!.state).toBe('ALARM');
    expect(ignore.evaluate(T + 10_000)[0]).toMatchObject({ state: 'ALARM', reason: 'no datapoints: state kept (treatMissingData ignore)' });
    expect(new LocalAlarms([dlqAlarm('notBreaching')], store).evaluate(T + 10_000)[0]!.state).toBe('OK');
    expect(new LocalAlarms([dlqAlarm('breaching')], store).evaluate(T + 10_000)[0]!.state).toBe('ALARM');
  });

  it('needs DatapointsToAlarm breaching periods out of EvaluationPeriods (Sum per period)', () => {
    const store = new MetricStore();
    const alarm = new LocalAlarms([errorsAlarm({ DatapointsToAlarm: 2 })], store);
    // periods of 1 s ending at T+3000: [T, T+1000) [T+1000, T+2000) [T+2000, T+3000)
    store.record(errors, 1, T + 100);
    store.record(errors, 1, T + 200); // Sum 2: breaching
    store.record(errors, 1, T + 1100); // Sum 1: not breaching
    expect(alarm.evaluate(T + 3000)[0]).toMatchObject({ state: 'OK', reason: '1 of 3 datapoints ≥ 2 (2 needed)' });
    store.record(errors, 5, T + 2500);
    expect(alarm.evaluate(T + 3000)[0]).toMatchObject({ state: 'ALARM', reason: '2 of 3 datapoints ≥ 2 (2 needed)' });
  });

  it('evaluates the "no consumers" metric math: a backlog with no deletes and no invocations for 3 periods', () => {
    const store = new MetricStore();
    const alarm = new LocalAlarms([noConsumers], store);
    // Local period of a 300 s period: 5 s. Backlog visible in all three, nothing consumed.
    for (const t of [T + 1000, T + 6000, T + 11000]) {
      store.record(visible, 4, t);
      store.record(deleted, 0, t);
    }
    expect(alarm.evaluate(T + 15_000)[0]!.state).toBe('ALARM');
    // An invocation in the last period: that datapoint is 0, so only 2 of 3 breach.
    store.record(invocations, 1, T + 12_000);
    expect(alarm.evaluate(T + 15_000)[0]).toMatchObject({ state: 'OK', reason: '2 of 3 datapoints ≥ 1 (3 needed)' });
  });

  it('reports state changes once each', () => {
    const store = new MetricStore();
    const changes: string[] = [];
    const alarms = new LocalAlarms([dlqAlarm('notBreaching')], store, { onChange: (s, previous) => changes.push(`${previous}→${s.state}`) });
    alarms.evaluate(T);
    alarms.evaluate(T + 10);
    store.record(dlqVisible, 1, T + 20);
    alarms.evaluate(T + 30);
    alarms.evaluate(T + 40);
    expect(changes).toEqual(['INSUFFICIENT_DATA→OK', 'OK→ALARM']);
  });

  it('fails clearly on alarms it cannot evaluate', () => {
    expect(() => readAlarmDefinition({ logicalId: 'A', properties: { ...errorsAlarm().properties, ComparisonOperator: 'LessThanLowerOrGreaterThanUpperThreshold' } })).toThrow(
      'alarm S-Tasks-ConsumerErrors: ComparisonOperator LessThanLowerOrGreaterThanUpperThreshold is not supported locally',
    );
    const rate: LocalAlarmDefinition = {
      logicalId: 'R',
      properties: { ...noConsumers.properties, AlarmName: 'R', Metrics: [{ Id: 'e', Expression: 'RATE(visible)', ReturnData: true }, { Id: 'visible', ReturnData: false, ...stat(visible, 60, 'Sum') }] },
    };
    expect(() => new LocalAlarms([rate], new MetricStore())).toThrow('function RATE is not supported locally');
  });
});

/** The DeadLetterQueueNotEmpty alarm as the construct synthesizes it, its DLQ named 'dlq'. */
let synthesizedDlqAlarm: LocalAlarmDefinition | undefined;
function templateDlqAlarm(): LocalAlarmDefinition {
  return (synthesizedDlqAlarm ??= synthesizeDlqAlarm());
}
function synthesizeDlqAlarm(): LocalAlarmDefinition {
  const stack = testStack();
  new TaskQueue(stack, 'Tasks');
  const resources = Template.fromStack(stack).toJSON().Resources as Record<string, { Type: string; Properties: Record<string, unknown> }>;
  const dlqId = Object.keys(resources).find((id) => id.startsWith('TasksDeadLetterQueue') && resources[id]!.Type === 'AWS::SQS::Queue')!;
  const [logicalId, alarm] = Object.entries(resources).find(([, r]) => String(r.Properties.AlarmName).endsWith('-DeadLetterQueueNotEmpty'))!;
  const properties = JSON.parse(JSON.stringify(alarm.Properties).replaceAll(JSON.stringify({ 'Fn::GetAtt': [dlqId, 'QueueName'] }), '"dlq"'));
  return { logicalId, properties };
}

describe('the template\'s DeadLetterQueueNotEmpty alarm, locally', () => {
  it('stays in ALARM while a peek or a redrive scan hides the dead letters (visible 0, in flight 2)', () => {
    const store = new MetricStore();
    const changes: string[] = [];
    const alarms = new LocalAlarms([templateDlqAlarm()], store, { onChange: (s, previous) => changes.push(`${previous}→${s.state}`) });
    store.record(dlqVisible, 2, T);
    store.record(dlqInFlight, 0, T);
    expect(alarms.evaluate(T + 500)[0]).toMatchObject({ state: 'ALARM', value: 2 });
    // A whole (scaled) period in which every message is received and hidden.
    for (const t of [T + 1000, T + 1500, T + 2000, T + 2500]) {
      store.record(dlqVisible, 0, t);
      store.record(dlqInFlight, 2, t);
    }
    expect(alarms.evaluate(T + 2900)[0]).toMatchObject({ state: 'ALARM', value: 2 });
    expect(changes).toEqual(['INSUFFICIENT_DATA→ALARM']);
  });

  it('goes to OK once the DLQ is empty (nothing visible, nothing in flight), and keeps its state without data', () => {
    const store = new MetricStore();
    const alarms = new LocalAlarms([templateDlqAlarm()], store);
    store.record(dlqVisible, 1, T);
    store.record(dlqInFlight, 0, T);
    expect(alarms.evaluate(T + 500)[0]!.state).toBe('ALARM');
    expect(alarms.evaluate(T + 60_000)[0]).toMatchObject({ state: 'ALARM', reason: 'no datapoints: state kept (treatMissingData ignore)' });
    store.record(dlqVisible, 0, T + 61_000);
    store.record(dlqInFlight, 0, T + 61_000);
    expect(alarms.evaluate(T + 61_500)[0]!.state).toBe('OK');
  });
});

describe('metric statistics', () => {
  it('aggregates like CloudWatch statistics', () => {
    const values = [4, 1, 3, 2];
    expect(aggregate(values, 'Sum')).toBe(10);
    expect(aggregate(values, 'Average')).toBe(2.5);
    expect(aggregate(values, 'Minimum')).toBe(1);
    expect(aggregate(values, 'Maximum')).toBe(4);
    expect(aggregate(values, 'SampleCount')).toBe(4);
    expect(aggregate(values, 'p50')).toBe(2);
    expect(aggregate([], 'Sum')).toBeUndefined();
    expect(() => aggregate(values, 'TM(10%:90%)')).toThrow('not supported locally');
    expect(percentile(Array.from({ length: 100 }, (_, i) => i + 1), 99)).toBe(99);
  });
});
