/**
 * The metric contract: every metric the TaskQueue construct reads — in its alarms, its
 * dashboard (metrics and SEARCH expressions) and its metric*() helpers — is one that exists
 * in a real deployment:
 *
 * - the consumer's own metrics (the metrics namespace) must be emitted by the real runtime:
 *   defineTasks runs over the emulators with tasks that succeed, fail and retry, are
 *   dead-lettered and arrive twice, and the EMF lines it writes to stdout are read back into
 *   the series CloudWatch would create (namespace, metric name, dimension set and values,
 *   unit). Each reference must match one of them, with a statistic that fits the unit.
 * - AWS/SQS and AWS/Lambda metrics are published by AWS: each reference must use the
 *   dimension those services publish (QueueName, FunctionName), pointing at a queue or
 *   function of the stack, and a metric name the service publishes.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { Template } from 'aws-cdk-lib/assertions';
import type { Metric } from 'aws-cdk-lib/aws-cloudwatch';
import type { Stack } from 'aws-cdk-lib';
import { TaskQueue } from '../../../lib/infra/task-queue.ts';
import { ENV } from '../../../lib/protocol/resources.ts';
import { TASK_METRICS } from '../../../lib/protocol/metrics.ts';
import { PermanentError } from '../../../lib/protocol/errors.ts';
import { defineTasks } from '../../../lib/runtime/index.ts';
import { createTestResources, testClients, type TestResources } from '../../support/aws.ts';
import { str, testStack, type Json } from '../../infra/helpers.ts';
import { envelope, fakeContext, invokeLikeLambda, receiveEvent, sendTask, sleep } from './helpers.ts';

const clients = testClients();

/** A series CloudWatch creates from the EMF documents. */
interface EmittedSeries {
  readonly namespace: string;
  readonly metricName: string;
  readonly unit: string;
  readonly dimensions: Readonly<Record<string, string>>;
}

/** A metric the template or a helper reads. `dimensions: undefined` = any (a SEARCH without a schema). */
interface MetricReference {
  readonly where: string;
  readonly namespace: string;
  readonly metricName: string;
  readonly dimensions: Readonly<Record<string, string | undefined>> | undefined;
  readonly statistic: string;
}

/** Metric names AWS publishes for the resources the construct uses (AWS/SQS, AWS/Lambda). */
const AWS_METRICS: Record<string, { dimension: string; resourceType: string; attribute: string | undefined; names: readonly string[] }> = {
  'AWS/SQS': {
    dimension: 'QueueName',
    resourceType: 'AWS::SQS::Queue',
    attribute: 'QueueName',
    names: [
      'ApproximateAgeOfOldestMessage',
      'ApproximateNumberOfMessagesDelayed',
      'ApproximateNumberOfMessagesNotVisible',
      'ApproximateNumberOfMessagesVisible',
      'NumberOfEmptyReceives',
      'NumberOfMessagesDeleted',
      'NumberOfMessagesReceived',
      'NumberOfMessagesSent',
      'SentMessageSize',
    ],
  },
  'AWS/Lambda': {
    dimension: 'FunctionName',
    resourceType: 'AWS::Lambda::Function',
    attribute: undefined, // Ref of a function is its name
    names: ['ConcurrentExecutions', 'Duration', 'Errors', 'Invocations', 'Throttles'],
  },
};

const DISTRIBUTION_STATISTIC = /^(p\d{1,2}(\.\d+)?|Average|Minimum|Maximum)$/;

/** Whether `statistic` means something for a metric published in `unit`. */
function statisticFits(statistic: string, unit: string): boolean {
  if (unit === 'Count') return statistic === 'Sum';
  if (unit === 'Milliseconds' || unit === 'Seconds') return DISTRIBUTION_STATISTIC.test(statistic);
  return false;
}

// ── reading the EMF lines ───────────────────────────────────────────────────────────────

function seriesOf(lines: readonly string[]): EmittedSeries[] {
  const out: EmittedSeries[] = [];
  for (const line of lines) {
    const doc = JSON.parse(line) as { _aws: { CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string; Unit: string }[] }[] } } & Record<string, unknown>;
    for (const directive of doc._aws.CloudWatchMetrics) {
      for (const set of directive.Dimensions) {
        const dimensions = Object.fromEntries(set.map((name) => [name, String(doc[name])]));
        for (const m of directive.Metrics) {
          if (doc[m.Name] === undefined) throw new Error(`EMF document declares ${m.Name} without a value: ${line}`);
          out.push({ namespace: directive.Namespace, metricName: m.Name, unit: m.Unit, dimensions });
        }
      }
    }
  }
  return out;
}

// ── reading the references ──────────────────────────────────────────────────────────────

function alarmReferences(template: Json): MetricReference[] {
  const refs: MetricReference[] = [];
  for (const [id, alarm] of Object.entries(template.Resources as Record<string, Json>)) {
    if (alarm.Type !== 'AWS::CloudWatch::Alarm') continue;
    const p = alarm.Properties;
    const where = `alarm ${p.AlarmName ?? id}`;
    if (p.MetricName) {
      refs.push({ where, namespace: p.Namespace, metricName: p.MetricName, dimensions: dimensionsOf(p.Dimensions), statistic: p.ExtendedStatistic ?? p.Statistic });
    }
    for (const m of (p.Metrics ?? []) as Json[]) {
      if (!m.MetricStat) continue;
      const metric = m.MetricStat.Metric;
      refs.push({ where: `${where} (${m.Id})`, namespace: metric.Namespace, metricName: metric.MetricName, dimensions: dimensionsOf(metric.Dimensions), statistic: m.MetricStat.Stat });
    }
  }
  return refs;
}

function dimensionsOf(dimensions: Json[] | undefined): Record<string, string> {
  return Object.fromEntries((dimensions ?? []).map((d: Json) => [d.Name, str(d.Value)]));
}

function dashboardReferences(template: Json): MetricReference[] {
  const refs: MetricReference[] = [];
  for (const [id, dashboard] of Object.entries(template.Resources as Record<string, Json>)) {
    if (dashboard.Type !== 'AWS::CloudWatch::Dashboard') continue;
    const body = JSON.parse(str(dashboard.Properties.DashboardBody)) as { widgets: Json[] };
    for (const widget of body.widgets) {
      for (const entry of (widget.properties?.metrics ?? []) as Json[][]) {
        const where = `dashboard ${id}, widget "${widget.properties.title}"`;
        const last = entry[entry.length - 1];
        const options = last && typeof last === 'object' ? (last as Json) : {};
        if (options.expression !== undefined) {
          refs.push(...searchReferences(options.expression, where));
          continue;
        }
        const [namespace, metricName, ...rest] = entry.filter((x) => typeof x === 'string') as string[];
        const dimensions: Record<string, string> = {};
        for (let i = 0; i + 1 < rest.length; i += 2) dimensions[rest[i]!] = rest[i + 1]!;
        refs.push({ where, namespace: namespace!, metricName: metricName!, dimensions, statistic: options.stat ?? 'Average' });
      }
    }
  }
  return refs;
}

/** SEARCH('{Namespace,Dim…} MetricName="X"' | 'Namespace="N" MetricName="X"', 'Stat', period) → references. */
function searchReferences(expression: string, where: string): MetricReference[] {
  const refs: MetricReference[] = [];
  for (const [, query, statistic] of expression.matchAll(/SEARCH\('((?:[^'\\]|\\.)*)',\s*'([^']+)'/g)) {
    const metricName = /MetricName="([^"]+)"/.exec(query!)?.[1];
    const schema = /\{([^}]*)\}/.exec(query!)?.[1];
    if (!metricName) throw new Error(`${where}: SEARCH without an exact MetricName: ${expression}`);
    if (schema !== undefined) {
      const [namespace, ...dimensionNames] = schema.split(',').map((s) => s.trim().replace(/^"(.*)"$/, '$1'));
      refs.push({ where: `${where}: ${expression}`, namespace: namespace!, metricName, dimensions: Object.fromEntries(dimensionNames.map((d) => [d, undefined])), statistic: statistic! });
    } else {
      const namespace = /Namespace="([^"]+)"/.exec(query!)?.[1];
      if (!namespace) throw new Error(`${where}: SEARCH without a namespace: ${expression}`);
      refs.push({ where: `${where}: ${expression}`, namespace, metricName, dimensions: undefined, statistic: statistic! });
    }
  }
  if (refs.length === 0) throw new Error(`${where}: an expression the contract test cannot read: ${expression}`);
  return refs;
}

function helperReference(stack: Stack, where: string, metric: Metric): MetricReference {
  const dimensions = metric.dimensions ? Object.fromEntries(Object.entries(metric.dimensions).map(([k, v]) => [k, str(stack.resolve(v))])) : {};
  return { where, namespace: metric.namespace, metricName: metric.metricName, dimensions, statistic: metric.statistic };
}

// ── checking ────────────────────────────────────────────────────────────────────────────

/** Why a reference is not backed by a real series, or undefined when it is. */
function problem(ref: MetricReference, emitted: readonly EmittedSeries[], template: Json, namespace: string): string | undefined {
  const aws = AWS_METRICS[ref.namespace];
  if (aws) {
    if (!aws.names.includes(ref.metricName)) return `${ref.namespace} publishes no metric ${ref.metricName}`;
    const names = Object.keys(ref.dimensions ?? {});
    if (names.length !== 1 || names[0] !== aws.dimension) return `${ref.namespace} metrics carry exactly the dimension ${aws.dimension}, not [${names.join(', ')}]`;
    const value = ref.dimensions![aws.dimension];
    const resources = Object.entries(template.Resources as Record<string, Json>).filter(([, r]) => r.Type === aws.resourceType);
    const expected = resources.map(([id]) => (aws.attribute ? `\${${id}.${aws.attribute}}` : `\${${id}}`));
    if (!expected.includes(value!)) return `${aws.dimension}=${value} is not the ${aws.attribute ?? 'name'} of a ${aws.resourceType} of the stack (${expected.join(', ')})`;
    return undefined;
  }
  if (ref.namespace !== namespace) return `namespace ${ref.namespace} is neither the consumer's (${namespace}) nor AWS/SQS or AWS/Lambda`;
  const sameName = emitted.filter((s) => s.namespace === ref.namespace && s.metricName === ref.metricName);
  if (sameName.length === 0) return `the runtime never emitted ${ref.metricName} in ${ref.namespace}`;
  const candidates = ref.dimensions === undefined ? sameName : sameName.filter((s) => sameKeys(s.dimensions, ref.dimensions!));
  if (candidates.length === 0) {
    const sets = [...new Set(sameName.map((s) => `[${Object.keys(s.dimensions).sort().join(', ')}]`))];
    return `${ref.metricName} is emitted with the dimension sets ${sets.join(' ')}, never [${Object.keys(ref.dimensions!).sort().join(', ')}]`;
  }
  const matching = candidates.filter((s) => Object.entries(ref.dimensions ?? {}).every(([k, v]) => v === undefined || s.dimensions[k] === v));
  if (matching.length === 0) return `${ref.metricName} was never emitted with ${JSON.stringify(ref.dimensions)}`;
  if (!matching.some((s) => statisticFits(ref.statistic, s.unit))) return `statistic ${ref.statistic} does not fit ${ref.metricName} (unit ${matching[0]!.unit})`;
  return undefined;
}

function sameKeys(a: Readonly<Record<string, unknown>>, b: Readonly<Record<string, unknown>>): boolean {
  const ka = Object.keys(a).sort();
  const kb = Object.keys(b).sort();
  return ka.length === kb.length && ka.every((k, i) => k === kb[i]);
}

// ── the run ─────────────────────────────────────────────────────────────────────────────

/** Runs `action` with stdout captured: EMF lines are kept, every other write goes through. */
async function captureEmf<T>(lines: string[], action: () => Promise<T>): Promise<T> {
  const original = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    const others = text.split('\n').filter((line) => {
      if (line.startsWith('{"_aws"')) {
        lines.push(line);
        return false;
      }
      return line.length > 0;
    });
    return others.length > 0 ? (original as (...a: unknown[]) => boolean)(others.join('\n') + '\n', ...rest) : true;
  }) as typeof process.stdout.write;
  try {
    return await action();
  } finally {
    process.stdout.write = original;
  }
}

const quiet = { debug() {}, info() {}, warn() {}, error() {} };

let template: Json;
let namespace: string;
let emitted: EmittedSeries[];
let helpers: MetricReference[];
/** A task type that emitted each metric in the run (the per-type helpers are called with it). */
const TYPE_OF: Record<keyof typeof TASK_METRICS.names, string> = {
  tasksProcessed: 'ok',
  tasksFailed: 'flaky',
  tasksRetried: 'flaky',
  tasksDeadLettered: 'poison',
  duplicatesSkipped: 'ok',
  handlerDuration: 'flaky',
  endToEndLatency: 'ok',
  unfinishedTaskAge: 'flaky',
};

beforeAll(async () => {
  const stack = testStack({}, 'MetricContract');
  const tq = new TaskQueue(stack, 'Tasks');
  template = Template.fromStack(stack).toJSON();
  const fn = Object.values(template.Resources as Record<string, Json>).find((r) => r.Type === 'AWS::Lambda::Function' && r.Properties.Environment?.Variables?.[ENV.metricsNamespace]);
  namespace = fn.Properties.Environment.Variables[ENV.metricsNamespace];

  const r: TestResources = await createTestResources(clients);
  const lines: string[] = [];
  const previous = process.env[ENV.metricsNamespace];
  process.env[ENV.metricsNamespace] = namespace; // the consumer's environment, as the construct sets it
  try {
    const handler = defineTasks(
      {
        ok: { handler: () => ({ done: true }) },
        flaky: {
          handler: (_p, ctx) => {
            if (ctx.attempt === 1) throw new Error('transient');
          },
        },
        poison: {
          handler: () => {
            throw new PermanentError('rejected');
          },
        },
      },
      {
        clients,
        tableName: r.tableName,
        queueUrl: r.queueUrl,
        deadLetterQueueUrl: r.deadLetterQueueUrl,
        bucketName: r.bucketName,
        backoff: { baseSeconds: 1, capSeconds: 1, jitter: 'none' },
        logger: quiet,
      },
    );
    const ok = envelope('ok', {});
    await sendTask(clients.sqs, r.queueUrl, ok);
    await sendTask(clients.sqs, r.queueUrl, envelope('flaky', {}));
    await sendTask(clients.sqs, r.queueUrl, envelope('poison', {}));
    const invoke = async (count: number) => {
      const event = await receiveEvent(clients.sqs, r, count, 5);
      await captureEmf(lines, () => invokeLikeLambda(clients.sqs, r.queueUrl, handler, event, fakeContext()));
      return event.Records.length;
    };
    // ok succeeds, flaky fails and is put back for 1 s, poison is dead-lettered.
    expect(await invoke(3)).toBe(3);
    // A second copy of the succeeded task: acknowledged as a duplicate.
    await sendTask(clients.sqs, r.queueUrl, ok);
    await sleep(1200);
    // The duplicate, and flaky's second attempt (succeeds).
    let handled = 0;
    for (let i = 0; i < 5 && handled < 2; i++) handled += await invoke(2 - handled);
    expect(handled).toBe(2);
  } finally {
    if (previous === undefined) delete process.env[ENV.metricsNamespace];
    else process.env[ENV.metricsNamespace] = previous;
  }
  emitted = seriesOf(lines);

  helpers = [];
  for (const [method, key] of [
    ['metricTasksProcessed', 'tasksProcessed'],
    ['metricTasksFailed', 'tasksFailed'],
    ['metricTasksRetried', 'tasksRetried'],
    ['metricTasksDeadLettered', 'tasksDeadLettered'],
    ['metricDuplicatesSkipped', 'duplicatesSkipped'],
    ['metricHandlerDuration', 'handlerDuration'],
    ['metricEndToEndLatency', 'endToEndLatency'],
    ['metricUnfinishedTaskAge', 'unfinishedTaskAge'],
  ] as const) {
    helpers.push(helperReference(stack, `${method}()`, tq[method]()));
    helpers.push(helperReference(stack, `${method}({ taskType: '${TYPE_OF[key]}' })`, tq[method]({ taskType: TYPE_OF[key] })));
  }
  for (const method of ['metricQueueDepth', 'metricOldestMessageAge', 'metricMessagesInFlight', 'metricDeadLetterQueueDepth', 'metricMessagesSent', 'metricMessagesDeleted'] as const) {
    helpers.push(helperReference(stack, `${method}()`, tq[method]()));
  }
}, 120_000);

describe('metric contract: the runtime emits what the construct reads', () => {
  it('the run emitted every metric of the contract under both dimension sets', () => {
    for (const name of Object.values(TASK_METRICS.names)) {
      const sets = new Set(emitted.filter((s) => s.metricName === name).map((s) => Object.keys(s.dimensions).join(',')));
      expect([...sets].sort(), name).toEqual(['', TASK_METRICS.taskTypeDimension]);
    }
    expect(new Set(emitted.map((s) => s.namespace))).toEqual(new Set([namespace]));
  });

  it('finds the references it checks (alarms, dashboard metrics and SEARCH expressions, helpers)', () => {
    const alarms = alarmReferences(template);
    const dashboard = dashboardReferences(template);
    expect(alarms.length).toBeGreaterThanOrEqual(8);
    expect(dashboard.filter((r) => r.namespace === namespace).length).toBeGreaterThanOrEqual(Object.keys(TASK_METRICS.names).length);
    expect(dashboard.filter((r) => r.namespace in AWS_METRICS).length).toBeGreaterThanOrEqual(10);
    expect(helpers).toHaveLength(22);
  });

  it('every alarm reads a metric that exists', () => {
    const failures = alarmReferences(template)
      .map((ref) => [ref.where, problem(ref, emitted, template, namespace)] as const)
      .filter(([, p]) => p !== undefined);
    expect(failures).toEqual([]);
  });

  it('every dashboard graph reads a metric that exists', () => {
    const failures = dashboardReferences(template)
      .map((ref) => [ref.where, ref.metricName, problem(ref, emitted, template, namespace)] as const)
      .filter(([, , p]) => p !== undefined);
    expect(failures).toEqual([]);
  });

  it('every metric*() helper of TaskQueue, for all task types and for one, reads a metric that exists', () => {
    const failures = helpers.map((ref) => [ref.where, problem(ref, emitted, template, namespace)] as const).filter(([, p]) => p !== undefined);
    expect(failures).toEqual([]);
  });

  it('detects a reference to a metric that does not exist (the check can fail)', () => {
    const base = { where: 'probe', namespace, statistic: 'Sum' };
    expect(problem({ ...base, metricName: 'TasksProcessed', dimensions: { taskType: 'ok' } }, emitted, template, namespace)).toMatch(/never \[taskType\]/);
    expect(problem({ ...base, metricName: 'TasksProcesed', dimensions: {} }, emitted, template, namespace)).toMatch(/never emitted/);
    expect(problem({ ...base, metricName: 'TasksProcessed', dimensions: { TaskType: 'nope' } }, emitted, template, namespace)).toMatch(/never emitted with/);
    expect(problem({ ...base, metricName: 'HandlerDuration', dimensions: {} }, emitted, template, namespace)).toMatch(/statistic Sum/);
    expect(problem({ ...base, namespace: 'AWS/SQS', metricName: 'ApproximateNumberOfMessagesVisible', dimensions: { QueueUrl: 'x' } }, emitted, template, namespace)).toMatch(/QueueName/);
    expect(problem({ ...base, namespace: 'AWS/Lambda', metricName: 'Errors', dimensions: { FunctionName: 'someone-elses' } }, emitted, template, namespace)).toMatch(/not the name/);
  });
});
