/**
 * A small evaluator of CloudWatch metric math, for the expressions alarms use:
 * numbers, metric ids, + - * /, comparisons (> < >= <= == !=, giving 1 or 0), AND/&&, OR/||,
 * NOT/!, parentheses, and the functions IF(cond, a[, b]), FILL(series, number|REPEAT), ABS,
 * and MAX/MIN/SUM/AVG (of one series: a scalar; of [a, b, …]: point by point).
 *
 * Values are series aligned by period (oldest first) with `undefined` for a missing datapoint.
 * As in CloudWatch, a missing operand makes the result missing (FILL is the way around it).
 * Anything else fails with the expression and the position, so an alarm that cannot be
 * reproduced says so instead of showing a wrong state.
 */

export type Series = (number | undefined)[];
type Value = Series | number;

type Token = { kind: 'num'; value: number; at: number } | { kind: 'id'; value: string; at: number } | { kind: 'op'; value: string; at: number };

export class MetricMathError extends Error {
  constructor(message: string, expression: string, at?: number) {
    super(`${message} in metric math "${expression}"${at === undefined ? '' : ` at position ${at}`}`);
    this.name = 'MetricMathError';
  }
}

const SUPPORTED_FUNCTIONS = ['IF', 'FILL', 'ABS', 'MAX', 'MIN', 'SUM', 'AVG'];

function tokenize(expression: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < expression.length) {
    const c = expression[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const number = /^\d+(\.\d+)?([eE][+-]?\d+)?/.exec(expression.slice(i));
    if (number) {
      tokens.push({ kind: 'num', value: Number(number[0]), at: i });
      i += number[0].length;
      continue;
    }
    const ident = /^[A-Za-z_][A-Za-z0-9_]*/.exec(expression.slice(i));
    if (ident) {
      tokens.push({ kind: 'id', value: ident[0], at: i });
      i += ident[0].length;
      continue;
    }
    const op = /^(>=|<=|==|!=|&&|\|\||[-+*/()<>,![\]])/.exec(expression.slice(i));
    if (op) {
      tokens.push({ kind: 'op', value: op[0], at: i });
      i += op[0].length;
      continue;
    }
    throw new MetricMathError(`unexpected character ${JSON.stringify(c)}`, expression, i);
  }
  return tokens;
}

type Node =
  | { type: 'num'; value: number }
  | { type: 'ref'; id: string; at: number }
  | { type: 'keyword'; name: string }
  | { type: 'unary'; op: string; operand: Node }
  | { type: 'binary'; op: string; left: Node; right: Node }
  | { type: 'call'; name: string; args: Node[]; at: number }
  | { type: 'list'; items: Node[] };

/** Parses an expression; throws MetricMathError on syntax it does not support. */
export function parseMetricMath(expression: string): Node {
  const tokens = tokenize(expression);
  let pos = 0;
  const peek = () => tokens[pos];
  const isOp = (...ops: string[]) => {
    const t = peek();
    return t !== undefined && ((t.kind === 'op' && ops.includes(t.value)) || (t.kind === 'id' && ops.includes(t.value.toUpperCase())));
  };
  const expect = (op: string) => {
    const t = peek();
    if (!t || t.kind !== 'op' || t.value !== op) throw new MetricMathError(`expected "${op}"`, expression, t?.at ?? expression.length);
    pos++;
  };
  const or = (): Node => {
    let left = and();
    while (isOp('OR', '||')) {
      pos++;
      left = { type: 'binary', op: 'OR', left, right: and() };
    }
    return left;
  };
  const and = (): Node => {
    let left = not();
    while (isOp('AND', '&&')) {
      pos++;
      left = { type: 'binary', op: 'AND', left, right: not() };
    }
    return left;
  };
  const not = (): Node => {
    if (isOp('NOT', '!')) {
      pos++;
      return { type: 'unary', op: 'NOT', operand: not() };
    }
    return comparison();
  };
  const comparison = (): Node => {
    const left = additive();
    if (isOp('>', '<', '>=', '<=', '==', '!=')) {
      const op = (tokens[pos++] as Token).value as string;
      return { type: 'binary', op, left, right: additive() };
    }
    return left;
  };
  const additive = (): Node => {
    let left = multiplicative();
    while (isOp('+', '-')) {
      const op = (tokens[pos++] as Token).value as string;
      left = { type: 'binary', op, left, right: multiplicative() };
    }
    return left;
  };
  const multiplicative = (): Node => {
    let left = unary();
    while (isOp('*', '/')) {
      const op = (tokens[pos++] as Token).value as string;
      left = { type: 'binary', op, left, right: unary() };
    }
    return left;
  };
  const unary = (): Node => {
    if (isOp('-')) {
      pos++;
      return { type: 'unary', op: '-', operand: unary() };
    }
    return primary();
  };
  const primary = (): Node => {
    const t = peek();
    if (!t) throw new MetricMathError('unexpected end', expression, expression.length);
    pos++;
    if (t.kind === 'num') return { type: 'num', value: t.value };
    if (t.kind === 'op' && t.value === '(') {
      const inner = or();
      expect(')');
      return inner;
    }
    if (t.kind === 'op' && t.value === '[') {
      const items: Node[] = [or()];
      while (isOp(',')) {
        pos++;
        items.push(or());
      }
      expect(']');
      return { type: 'list', items };
    }
    if (t.kind === 'id') {
      if (isOp('(')) {
        const name = t.value.toUpperCase();
        if (!SUPPORTED_FUNCTIONS.includes(name)) {
          throw new MetricMathError(`function ${t.value} is not supported locally (supported: ${SUPPORTED_FUNCTIONS.join(', ')})`, expression, t.at);
        }
        pos++;
        const args: Node[] = [];
        if (!isOp(')')) {
          args.push(or());
          while (isOp(',')) {
            pos++;
            args.push(or());
          }
        }
        expect(')');
        return { type: 'call', name, args, at: t.at };
      }
      if (['REPEAT', 'LINEAR'].includes(t.value.toUpperCase())) return { type: 'keyword', name: t.value.toUpperCase() };
      return { type: 'ref', id: t.value, at: t.at };
    }
    throw new MetricMathError(`unexpected "${t.value}"`, expression, t.at);
  };
  const tree = or();
  if (pos < tokens.length) throw new MetricMathError(`unexpected "${String(tokens[pos]!.value)}"`, expression, tokens[pos]!.at);
  return tree;
}

/** The metric ids an expression reads. */
export function referencedIds(expression: string): string[] {
  const ids = new Set<string>();
  const walk = (node: Node): void => {
    if (node.type === 'ref') ids.add(node.id);
    else if (node.type === 'unary') walk(node.operand);
    else if (node.type === 'binary') {
      walk(node.left);
      walk(node.right);
    } else if (node.type === 'call') node.args.forEach(walk);
    else if (node.type === 'list') node.items.forEach(walk);
  };
  walk(parseMetricMath(expression));
  return [...ids];
}

/**
 * Evaluates an expression over series of `length` periods. `series(id)` gives a metric's
 * (or another expression's) datapoints. The result is a series (scalars are broadcast).
 */
export function evaluateMetricMath(expression: string, length: number, series: (id: string) => Series | undefined): Series {
  const tree = parseMetricMath(expression);
  const broadcast = (v: Value): Series => (typeof v === 'number' ? Array.from({ length }, () => v) : v);
  const pointwise = (values: Value[], f: (xs: number[]) => number | undefined): Value => {
    if (values.every((v) => typeof v === 'number')) return f(values as number[]) ?? Number.NaN;
    const all = values.map(broadcast);
    return Array.from({ length }, (_, i) => {
      const xs = all.map((s) => s[i]);
      return xs.some((x) => x === undefined) ? undefined : f(xs as number[]);
    });
  };
  const truth = (x: number) => x !== 0;
  const evaluate = (node: Node): Value => {
    switch (node.type) {
      case 'num':
        return node.value;
      case 'ref': {
        const s = series(node.id);
        if (!s) throw new MetricMathError(`unknown metric id "${node.id}"`, expression, node.at);
        return s;
      }
      case 'keyword':
        throw new MetricMathError(`${node.name} is only valid as FILL's second argument`, expression);
      case 'list':
        throw new MetricMathError('a list is only valid as the argument of MAX, MIN, SUM or AVG', expression);
      case 'unary': {
        const v = evaluate(node.operand);
        return node.op === '-' ? pointwise([v], ([x]) => -x!) : pointwise([v], ([x]) => (truth(x!) ? 0 : 1));
      }
      case 'binary': {
        const l = evaluate(node.left);
        const r = evaluate(node.right);
        const op: Record<string, (a: number, b: number) => number | undefined> = {
          '+': (a, b) => a + b,
          '-': (a, b) => a - b,
          '*': (a, b) => a * b,
          '/': (a, b) => (b === 0 ? undefined : a / b),
          '>': (a, b) => Number(a > b),
          '<': (a, b) => Number(a < b),
          '>=': (a, b) => Number(a >= b),
          '<=': (a, b) => Number(a <= b),
          '==': (a, b) => Number(a === b),
          '!=': (a, b) => Number(a !== b),
          AND: (a, b) => Number(truth(a) && truth(b)),
          OR: (a, b) => Number(truth(a) || truth(b)),
        };
        const f = op[node.op]!;
        return pointwise([l, r], ([a, b]) => f(a!, b!));
      }
      case 'call':
        return call(node);
    }
  };
  const call = (node: Extract<Node, { type: 'call' }>): Value => {
    const arity = (min: number, max: number) => {
      if (node.args.length < min || node.args.length > max) throw new MetricMathError(`${node.name} takes ${min === max ? min : `${min}–${max}`} arguments`, expression, node.at);
    };
    switch (node.name) {
      case 'IF': {
        arity(2, 3);
        const cond = evaluate(node.args[0]!);
        const a = evaluate(node.args[1]!);
        const b = node.args[2] ? evaluate(node.args[2]) : undefined;
        const c = broadcast(cond);
        const as = broadcast(a);
        const bs = b === undefined ? undefined : broadcast(b);
        // IF(cond, a) without a false branch leaves those datapoints out (missing).
        return Array.from({ length }, (_, i) => (c[i] === undefined ? undefined : truth(c[i]!) ? as[i] : bs?.[i]));
      }
      case 'FILL': {
        arity(2, 2);
        const s = broadcast(evaluate(node.args[0]!));
        const with_ = node.args[1]!;
        if (with_.type === 'keyword') {
          if (with_.name !== 'REPEAT') throw new MetricMathError(`FILL(…, ${with_.name}) is not supported locally`, expression, node.at);
          let last: number | undefined;
          return s.map((x) => (x === undefined ? last : (last = x)));
        }
        const fill = broadcast(evaluate(with_));
        return s.map((x, i) => x ?? fill[i]);
      }
      case 'ABS':
        arity(1, 1);
        return pointwise([evaluate(node.args[0]!)], ([x]) => Math.abs(x!));
      default: {
        arity(1, 1);
        const arg = node.args[0]!;
        const reduce = (xs: number[]) =>
          node.name === 'MAX' ? Math.max(...xs) : node.name === 'MIN' ? Math.min(...xs) : node.name === 'SUM' ? xs.reduce((a, b) => a + b, 0) : xs.reduce((a, b) => a + b, 0) / xs.length;
        if (arg.type === 'list') {
          // Point by point across the series, over the datapoints present.
          const all = arg.items.map((item) => broadcast(evaluate(item)));
          return Array.from({ length }, (_, i) => {
            const xs = all.map((s) => s[i]).filter((x): x is number => x !== undefined);
            return xs.length === 0 ? undefined : reduce(xs);
          });
        }
        const xs = broadcast(evaluate(arg)).filter((x): x is number => x !== undefined);
        return xs.length === 0 ? Number.NaN : reduce(xs);
      }
    }
  };
  const result = broadcast(evaluate(tree));
  return result.map((x) => (x === undefined || Number.isNaN(x) ? undefined : x));
}
