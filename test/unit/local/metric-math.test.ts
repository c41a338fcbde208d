import { describe, expect, it } from 'vitest';
import { evaluateMetricMath, MetricMathError, referencedIds } from '../../../lib/local/metric-math.ts';
import { NO_CONSUMERS_EXPRESSION } from '../../../lib/infra/alarms.ts';

const evaluate = (expression: string, series: Record<string, (number | undefined)[]>, length = 3) =>
  evaluateMetricMath(expression, length, (id) => series[id]);

describe('metric math', () => {
  it('evaluates the template’s "no consumers" expression point by point', () => {
    expect(referencedIds(NO_CONSUMERS_EXPRESSION).sort()).toEqual(['deleted', 'invocations', 'visible']);
    const result = evaluate(NO_CONSUMERS_EXPRESSION, {
      // backlog, nothing consumed (Lambda publishes no Invocations when not invoked) → 1
      // backlog, deletes happening → 0 ; no backlog → 0
      visible: [5, 5, 0],
      deleted: [0, 3, 0],
      invocations: [undefined, 2, undefined],
    });
    expect(result).toEqual([1, 0, 0]);
  });

  it('propagates missing datapoints unless FILL replaces them', () => {
    expect(evaluate('a + b', { a: [1, undefined, 3], b: [1, 1, undefined] })).toEqual([2, undefined, undefined]);
    expect(evaluate('FILL(a, 0) + FILL(b, 10)', { a: [1, undefined, 3], b: [1, 1, undefined] })).toEqual([2, 1, 13]);
    expect(evaluate('FILL(a, REPEAT)', { a: [4, undefined, undefined] })).toEqual([4, 4, 4]);
    expect(evaluate('IF(a > 1, 7, 8)', { a: [1, undefined, 3] })).toEqual([8, undefined, 7]);
    expect(evaluate('IF(a > 1, 7)', { a: [1, 2, 3] })).toEqual([undefined, 7, 7]);
  });

  it('supports arithmetic precedence, comparisons, logic and the listed functions', () => {
    expect(evaluate('1 + 2 * 3 - -1', {}, 1)).toEqual([8]);
    expect(evaluate('(1 + 2) * 3 / 0', {}, 1)).toEqual([undefined]);
    expect(evaluate('a >= 2 && !(a == 3) || a < 0', { a: [2, 3, -1] })).toEqual([1, 0, 1]);
    expect(evaluate('a != 2 OR NOT a', { a: [2, 0, 5] })).toEqual([0, 1, 1]);
    expect(evaluate('ABS(a)', { a: [-1, 2, -3] })).toEqual([1, 2, 3]);
    expect(evaluate('MAX(a)', { a: [1, 5, undefined] })).toEqual([5, 5, 5]);
    expect(evaluate('SUM([a, b])', { a: [1, undefined, 3], b: [1, 2, undefined] })).toEqual([2, 2, 3]);
  });

  it('fails clearly on what it does not support', () => {
    expect(() => evaluate('RATE(a)', { a: [1, 2, 3] })).toThrow(MetricMathError);
    expect(() => evaluate('RATE(a)', { a: [1, 2, 3] })).toThrow('function RATE is not supported locally');
    expect(() => evaluate('a +', { a: [1, 2, 3] })).toThrow('unexpected end');
    expect(() => evaluate('nope * 2', {})).toThrow('unknown metric id "nope"');
    expect(() => evaluate('a $ b', { a: [1], b: [1] })).toThrow('unexpected character');
  });
});
