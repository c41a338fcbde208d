/**
 * The template's CloudWatch alarms, evaluated on the local observations (./metrics.ts):
 * statistic per period, threshold and comparison, evaluation periods and datapoints to
 * alarm, treatMissingData, and metric math (./metric-math.ts) → OK / ALARM / INSUFFICIENT_DATA.
 *
 * Time is scaled down so an alarm can fire while you watch: a period of P seconds lasts
 * P / periodScale seconds locally (default scale 60: one minute becomes one second, five
 * minutes five seconds), with a floor of one second. Thresholds are not scaled — an age
 * threshold of 900 s still needs a 900-second-old message. Periods slide with the clock
 * (the last N periods before now) where CloudWatch aligns them to the minute.
 */
import { evaluateMetricMath, type Series } from './metric-math.ts';
import type { MetricId, MetricStore } from './metrics.ts';
import type { LocalAlarmDefinition } from './provision.ts';

export type AlarmState = 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';

export type ComparisonOperator =
  | 'GreaterThanThreshold'
  | 'GreaterThanOrEqualToThreshold'
  | 'LessThanThreshold'
  | 'LessThanOrEqualToThreshold';

export type TreatMissingData = 'missing' | 'notBreaching' | 'breaching' | 'ignore';

interface MetricStatQuery {
  readonly id: string;
  readonly metric: MetricId;
  readonly period: number;
  readonly stat: string;
  readonly returnData: boolean;
}

interface ExpressionQuery {
  readonly id: string;
  readonly expression: string;
  readonly returnData: boolean;
}

export interface AlarmDefinition {
  readonly logicalId: string;
  readonly name: string;
  readonly description?: string;
  readonly comparison: ComparisonOperator;
  readonly threshold: number;
  readonly evaluationPeriods: number;
  readonly datapointsToAlarm: number;
  readonly treatMissingData: TreatMissingData;
  /** Seconds, as in the template (the longest period of the alarm's metrics). */
  readonly period: number;
  readonly metricStats: readonly MetricStatQuery[];
  readonly expressions: readonly ExpressionQuery[];
  /** The id whose datapoints are compared with the threshold. */
  readonly returnId: string;
}

export interface AlarmStatus {
  readonly name: string;
  readonly logicalId: string;
  readonly state: AlarmState;
  /** Why, in CloudWatch's words where possible. */
  readonly reason: string;
  /** The most recent datapoint evaluated, when there is one. */
  readonly value?: number;
  readonly threshold: number;
  readonly comparison: ComparisonOperator;
  /** When the state last changed (epoch ms). */
  readonly since: number;
}

const COMPARISONS: Record<ComparisonOperator, { test: (v: number, t: number) => boolean; symbol: string }> = {
  GreaterThanThreshold: { test: (v, t) => v > t, symbol: '>' },
  GreaterThanOrEqualToThreshold: { test: (v, t) => v >= t, symbol: '≥' },
  LessThanThreshold: { test: (v, t) => v < t, symbol: '<' },
  LessThanOrEqualToThreshold: { test: (v, t) => v <= t, symbol: '≤' },
};

export function comparisonSymbol(comparison: ComparisonOperator): string {
  return COMPARISONS[comparison].symbol;
}

/** Reads an AWS::CloudWatch::Alarm's (resolved) properties; fails clearly on what is not supported. */
export function readAlarmDefinition(definition: LocalAlarmDefinition): AlarmDefinition {
  const p = definition.properties;
  const name = typeof p.AlarmName === 'string' ? p.AlarmName : definition.logicalId;
  const fail = (message: string): never => {
    throw new Error(`alarm ${name}: ${message}`);
  };
  const comparison = p.ComparisonOperator as ComparisonOperator;
  if (!(comparison in COMPARISONS)) fail(`ComparisonOperator ${String(p.ComparisonOperator)} is not supported locally (anomaly detection needs CloudWatch)`);
  if (p.Threshold === undefined) fail('no Threshold (threshold metric ids are not supported locally)');
  const evaluationPeriods = Number(p.EvaluationPeriods);
  const treatMissingData = (p.TreatMissingData as TreatMissingData | undefined) ?? 'missing';
  if (!['missing', 'notBreaching', 'breaching', 'ignore'].includes(treatMissingData)) fail(`TreatMissingData ${treatMissingData} is unknown`);

  const metricStats: MetricStatQuery[] = [];
  const expressions: ExpressionQuery[] = [];
  let returnId: string;
  if (Array.isArray(p.Metrics)) {
    for (const m of p.Metrics as Record<string, unknown>[]) {
      const id = String(m.Id);
      const returnData = m.ReturnData === undefined ? true : m.ReturnData === true || m.ReturnData === 'true';
      if (typeof m.Expression === 'string') expressions.push({ id, expression: m.Expression, returnData });
      else if (m.MetricStat) {
        const stat = m.MetricStat as { Metric: Record<string, unknown>; Period: unknown; Stat: string };
        metricStats.push({ id, metric: metricIdOf(stat.Metric), period: Number(stat.Period), stat: stat.Stat, returnData });
      } else fail(`metric ${id} has neither Expression nor MetricStat`);
    }
    const returned = [...metricStats, ...expressions].filter((q) => q.returnData);
    if (returned.length !== 1) fail(`exactly one metric must have ReturnData true (found ${returned.length})`);
    returnId = returned[0]!.id;
  } else {
    const stat = (p.ExtendedStatistic as string | undefined) ?? (p.Statistic as string | undefined);
    if (!stat) fail('no Statistic or ExtendedStatistic');
    metricStats.push({ id: 'm', metric: metricIdOf(p), period: Number(p.Period), stat: stat!, returnData: true });
    returnId = 'm';
  }
  const periods = metricStats.map((m) => m.period);
  return {
    logicalId: definition.logicalId,
    name,
    ...(typeof p.AlarmDescription === 'string' ? { description: p.AlarmDescription } : {}),
    comparison,
    threshold: Number(p.Threshold),
    evaluationPeriods,
    datapointsToAlarm: p.DatapointsToAlarm === undefined ? evaluationPeriods : Number(p.DatapointsToAlarm),
    treatMissingData,
    period: periods.length > 0 ? Math.max(...periods) : 60,
    metricStats,
    expressions,
    returnId,
  };
}

function metricIdOf(m: Record<string, unknown>): MetricId {
  const dimensions: Record<string, string> = {};
  for (const d of (m.Dimensions as { Name: string; Value: string }[] | undefined) ?? []) dimensions[d.Name] = String(d.Value);
  return { namespace: String(m.Namespace), metricName: String(m.MetricName), dimensions };
}

export interface LocalAlarmsOptions {
  /** A template period of P seconds lasts P / periodScale seconds locally (floor 1 s). @default 60 */
  readonly periodScale?: number;
  readonly onChange?: (status: AlarmStatus, previous: AlarmState) => void;
}

export class LocalAlarms {
  readonly definitions: readonly AlarmDefinition[];
  private readonly states = new Map<string, { state: AlarmState; since: number }>();
  private latest: AlarmStatus[] = [];
  private readonly periodScale: number;

  constructor(
    definitions: readonly LocalAlarmDefinition[],
    private readonly store: MetricStore,
    private readonly options: LocalAlarmsOptions = {},
  ) {
    this.definitions = definitions.map(readAlarmDefinition);
    this.periodScale = options.periodScale ?? 60;
    // Fail at start, not at the first evaluation, on an expression that cannot be evaluated.
    for (const d of this.definitions) this.evaluateOne(d, Date.now(), true);
  }

  /** Local length of a template period, ms. */
  localPeriodMs(periodSeconds: number): number {
    return Math.max(1, periodSeconds / this.periodScale) * 1000;
  }

  get statuses(): readonly AlarmStatus[] {
    return this.latest;
  }

  evaluate(now = Date.now()): readonly AlarmStatus[] {
    this.latest = this.definitions.map((d) => this.evaluateOne(d, now, false));
    return this.latest;
  }

  private evaluateOne(d: AlarmDefinition, now: number, dryRun: boolean): AlarmStatus {
    const n = d.evaluationPeriods;
    // Each query over the last n periods of its own length (oldest first).
    const cache = new Map<string, Series>();
    const seriesOf = (id: string): Series | undefined => {
      if (cache.has(id)) return cache.get(id);
      const stat = d.metricStats.find((m) => m.id === id);
      if (stat) {
        const p = this.localPeriodMs(stat.period);
        const s = Array.from({ length: n }, (_, i) => this.store.statistic(stat.metric, stat.stat, now - (n - i) * p, now - (n - i - 1) * p));
        cache.set(id, s);
        return s;
      }
      const expression = d.expressions.find((e) => e.id === id);
      if (!expression) return undefined;
      const s = evaluateMetricMath(expression.expression, n, seriesOf);
      cache.set(id, s);
      return s;
    };
    const datapoints = seriesOf(d.returnId)!;
    const previous = this.states.get(d.logicalId) ?? { state: 'INSUFFICIENT_DATA' as AlarmState, since: now };
    const { test, symbol } = COMPARISONS[d.comparison];
    const present = datapoints.filter((x): x is number => x !== undefined);
    const latestValue = [...datapoints].reverse().find((x) => x !== undefined);
    let state: AlarmState;
    let reason: string;
    const missing = n - present.length;
    let breaching = present.filter((x) => test(x, d.threshold)).length;
    if (present.length === 0 && d.treatMissingData === 'ignore') {
      state = previous.state;
      reason = 'no datapoints: state kept (treatMissingData ignore)';
    } else if (present.length === 0 && d.treatMissingData === 'missing') {
      state = 'INSUFFICIENT_DATA';
      reason = 'no datapoints';
    } else {
      if (d.treatMissingData === 'breaching') breaching += missing;
      state = breaching >= d.datapointsToAlarm ? 'ALARM' : 'OK';
      reason = `${breaching} of ${n} datapoints ${symbol} ${d.threshold} (${d.datapointsToAlarm} needed)`;
    }
    const since = state === previous.state ? previous.since : now;
    const status: AlarmStatus = {
      name: d.name,
      logicalId: d.logicalId,
      state,
      reason,
      ...(latestValue !== undefined ? { value: latestValue } : {}),
      threshold: d.threshold,
      comparison: d.comparison,
      since,
    };
    if (!dryRun) {
      this.states.set(d.logicalId, { state, since });
      if (state !== previous.state) this.options.onChange?.(status, previous.state);
    }
    return status;
  }
}
