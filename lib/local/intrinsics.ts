/**
 * Resolves the CloudFormation intrinsic functions a synthesized template uses (Ref,
 * Fn::GetAtt, Fn::Join, Fn::Select, Fn::Split, Fn::Sub and the pseudo parameters) against the
 * resources the local system created. Anything else fails with the path where it was met, so
 * a template the local system cannot reproduce is reported, not half-provisioned.
 */

export interface IntrinsicContext {
  readonly region: string;
  readonly accountId: string;
  readonly stackName: string;
  /** The value of `Ref` on a resource, or undefined when the resource is not known locally. */
  ref(logicalId: string): string | undefined;
  /** The value of `Fn::GetAtt` on a resource attribute, or undefined when not known locally. */
  getAtt(logicalId: string, attribute: string): string | undefined;
}

/** Raised for an intrinsic the local system cannot resolve, with where it was found. */
export class UnresolvableIntrinsicError extends Error {
  constructor(
    message: string,
    readonly path: string,
  ) {
    super(`${message} (at ${path})`);
    this.name = 'UnresolvableIntrinsicError';
  }
}

/** Marks a value removed by `Ref: AWS::NoValue`. */
const NO_VALUE = Symbol('AWS::NoValue');

export function resolveIntrinsics(value: unknown, context: IntrinsicContext, path = '$'): unknown {
  const resolved = resolveValue(value, context, path);
  return resolved === NO_VALUE ? undefined : resolved;
}

/** Resolves and requires a string (names, ARNs, URLs). */
export function resolveString(value: unknown, context: IntrinsicContext, path: string): string {
  const resolved = resolveIntrinsics(value, context, path);
  if (typeof resolved === 'number' || typeof resolved === 'boolean') return String(resolved);
  if (typeof resolved !== 'string') throw new UnresolvableIntrinsicError(`expected a string, got ${JSON.stringify(resolved)}`, path);
  return resolved;
}

function resolveValue(value: unknown, context: IntrinsicContext, path: string): unknown {
  if (Array.isArray(value)) {
    return value.map((item, i) => resolveValue(item, context, `${path}[${i}]`)).filter((item) => item !== NO_VALUE);
  }
  if (typeof value !== 'object' || value === null) return value;
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length === 1) {
    const [key, argument] = entries[0]!;
    if (key === 'Ref' || key.startsWith('Fn::')) return resolveFunction(key, argument, context, `${path}.${key}`);
    if (key === 'Condition') throw new UnresolvableIntrinsicError('conditions are not supported locally', path);
  }
  const result: Record<string, unknown> = {};
  for (const [key, item] of entries) {
    const resolved = resolveValue(item, context, `${path}.${key}`);
    if (resolved !== NO_VALUE) result[key] = resolved;
  }
  return result;
}

function resolveFunction(name: string, argument: unknown, context: IntrinsicContext, path: string): unknown {
  switch (name) {
    case 'Ref':
      return resolveRef(argument, context, path);
    case 'Fn::GetAtt': {
      const [logicalId, attribute] = Array.isArray(argument) ? argument : typeof argument === 'string' ? splitOnce(argument, '.') : [];
      if (typeof logicalId !== 'string' || typeof attribute !== 'string') {
        throw new UnresolvableIntrinsicError(`malformed Fn::GetAtt ${JSON.stringify(argument)}`, path);
      }
      const value = context.getAtt(logicalId, attribute);
      if (value === undefined) throw new UnresolvableIntrinsicError(`Fn::GetAtt ${logicalId}.${attribute} has no local value`, path);
      return value;
    }
    case 'Fn::Join': {
      if (!Array.isArray(argument) || argument.length !== 2 || typeof argument[0] !== 'string') {
        throw new UnresolvableIntrinsicError('malformed Fn::Join', path);
      }
      const parts = resolveValue(argument[1], context, `${path}[1]`);
      if (!Array.isArray(parts)) throw new UnresolvableIntrinsicError('Fn::Join needs a list', path);
      return parts.map((p, i) => scalar(p, `${path}[1][${i}]`)).join(argument[0]);
    }
    case 'Fn::Select': {
      if (!Array.isArray(argument) || argument.length !== 2) throw new UnresolvableIntrinsicError('malformed Fn::Select', path);
      const index = Number(resolveValue(argument[0], context, `${path}[0]`));
      const list = resolveValue(argument[1], context, `${path}[1]`);
      if (!Array.isArray(list) || !Number.isInteger(index) || index < 0 || index >= list.length) {
        throw new UnresolvableIntrinsicError(`Fn::Select index ${index} out of range`, path);
      }
      return list[index];
    }
    case 'Fn::Split': {
      if (!Array.isArray(argument) || argument.length !== 2 || typeof argument[0] !== 'string') {
        throw new UnresolvableIntrinsicError('malformed Fn::Split', path);
      }
      return scalar(resolveValue(argument[1], context, `${path}[1]`), path).split(argument[0]);
    }
    case 'Fn::Sub': {
      const [template, variables] = Array.isArray(argument) ? argument : [argument, {}];
      if (typeof template !== 'string') throw new UnresolvableIntrinsicError('malformed Fn::Sub', path);
      const vars = (resolveValue(variables ?? {}, context, `${path}[1]`) ?? {}) as Record<string, unknown>;
      return template.replace(/\$\{(!?)([^}]+)\}/g, (_all, literal: string, expression: string) => {
        if (literal) return `\${${expression}}`;
        if (expression in vars) return scalar(vars[expression], path);
        if (expression.includes('.')) {
          const [logicalId, attribute] = splitOnce(expression, '.');
          return scalar(resolveFunction('Fn::GetAtt', [logicalId, attribute], context, path), path);
        }
        return scalar(resolveRef(expression, context, path), path);
      });
    }
    default:
      throw new UnresolvableIntrinsicError(`${name} is not supported by the local system`, path);
  }
}

function resolveRef(argument: unknown, context: IntrinsicContext, path: string): unknown {
  if (typeof argument !== 'string') throw new UnresolvableIntrinsicError(`malformed Ref ${JSON.stringify(argument)}`, path);
  switch (argument) {
    case 'AWS::Region':
      return context.region;
    case 'AWS::AccountId':
      return context.accountId;
    case 'AWS::Partition':
      return 'aws';
    case 'AWS::URLSuffix':
      return 'amazonaws.com';
    case 'AWS::StackName':
      return context.stackName;
    case 'AWS::StackId':
      return `arn:aws:cloudformation:${context.region}:${context.accountId}:stack/${context.stackName}/local`;
    case 'AWS::NoValue':
      return NO_VALUE;
    default: {
      const value = context.ref(argument);
      if (value === undefined) throw new UnresolvableIntrinsicError(`Ref ${argument} has no local value`, path);
      return value;
    }
  }
}

function scalar(value: unknown, path: string): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw new UnresolvableIntrinsicError(`expected a string, got ${JSON.stringify(value)}`, path);
}

function splitOnce(text: string, separator: string): [string, string] {
  const at = text.indexOf(separator);
  return at < 0 ? [text, ''] : [text.slice(0, at), text.slice(at + 1)];
}

/** Logical ids referenced (Ref, Fn::GetAtt, Fn::Sub) anywhere inside a value. */
export function referencedLogicalIds(value: unknown, found = new Set<string>()): Set<string> {
  if (Array.isArray(value)) {
    for (const item of value) referencedLogicalIds(item, found);
  } else if (typeof value === 'object' && value !== null) {
    for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
      if (key === 'Ref' && typeof item === 'string' && !item.startsWith('AWS::')) found.add(item);
      else if (key === 'Fn::GetAtt') {
        const id = Array.isArray(item) ? item[0] : typeof item === 'string' ? item.split('.')[0] : undefined;
        if (typeof id === 'string') found.add(id);
      } else if (key === 'Fn::Sub') {
        const template = Array.isArray(item) ? item[0] : item;
        if (typeof template === 'string') {
          for (const match of template.matchAll(/\$\{([^!}][^}.]*)(?:\.[^}]*)?\}/g)) if (!match[1]!.startsWith('AWS::')) found.add(match[1]!);
        }
        if (Array.isArray(item)) referencedLogicalIds(item[1], found);
      } else referencedLogicalIds(item, found);
    }
  }
  return found;
}
