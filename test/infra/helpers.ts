/**
 * Helpers for the CDK tests: apps with the project's cdk.json feature flags, templates, and
 * a small IAM evaluator over the synthesized policies (which principal may do which action
 * on which resource), so least-privilege tests ask questions instead of comparing JSON.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';

const CDK_JSON = fileURLToPath(new URL('../../cdk.json', import.meta.url));

/** The feature flags and settings of cdk.json, so tests synthesize what `cdk synth` does. */
export function cdkJsonContext(): Record<string, unknown> {
  return (JSON.parse(readFileSync(CDK_JSON, 'utf8')) as { context: Record<string, unknown> }).context;
}

export interface AppOptions {
  /** Really bundle the consumer with esbuild. @default false (fast tests) */
  readonly bundle?: boolean;
  readonly context?: Record<string, unknown>;
  readonly outdir?: string;
}

export function testApp(options: AppOptions = {}): App {
  return new App({
    context: {
      ...cdkJsonContext(),
      ...(options.bundle ? {} : { 'aws:cdk:bundling-stacks': [] }),
      ...options.context,
    },
    ...(options.outdir ? { outdir: options.outdir } : {}),
  });
}

export function testStack(options: AppOptions = {}, id = 'TestStack'): Stack {
  return new Stack(testApp(options), id);
}

export type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

/** The logical id of the only resource of `type` whose id starts with `prefix`. */
export function logicalId(template: Template, type: string, prefix = ''): string {
  const ids = Object.keys(template.findResources(type)).filter((id) => id.startsWith(prefix));
  if (ids.length !== 1) throw new Error(`expected one ${type} starting with ${prefix}, found ${ids.join(', ') || 'none'}`);
  return ids[0]!;
}

export function resource(template: Template, id: string): Json {
  const all = template.toJSON().Resources as Record<string, Json>;
  if (!all[id]) throw new Error(`no resource ${id}`);
  return all[id];
}

/**
 * A CloudFormation value as a readable string: {"Fn::GetAtt":["Q","Arn"]} → "${Q.Arn}",
 * {"Ref":"X"} → "${X}", Fn::Join concatenated.
 */
export function str(value: Json): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return value.map(str).join(',');
  if (value && typeof value === 'object') {
    if ('Ref' in value) return `\${${value.Ref}}`;
    if ('Fn::GetAtt' in value) return `\${${value['Fn::GetAtt'].join('.')}}`;
    if ('Fn::Join' in value) return (value['Fn::Join'][1] as Json[]).map(str).join(value['Fn::Join'][0]);
  }
  return JSON.stringify(value);
}

export interface Statement {
  readonly effect: string;
  readonly actions: string[];
  readonly resources: string[];
  readonly raw: Json;
}

function toList(v: Json): Json[] {
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

/** Every identity-policy statement attached to the role with this logical id. */
export function roleStatements(template: Template, roleLogicalId: string): Statement[] {
  const policies = Object.values(template.findResources('AWS::IAM::Policy')) as Json[];
  const statements: Statement[] = [];
  for (const policy of policies) {
    const roles = toList(policy.Properties.Roles).map(str);
    if (!roles.includes(`\${${roleLogicalId}}`)) continue;
    for (const s of toList(policy.Properties.PolicyDocument.Statement)) {
      statements.push({
        effect: s.Effect,
        actions: toList(s.Action) as string[],
        resources: toList(s.Resource).map(str),
        raw: s,
      });
    }
  }
  const role = resource(template, roleLogicalId);
  for (const p of toList(role.Properties.Policies)) {
    for (const s of toList(p.PolicyDocument.Statement)) {
      statements.push({ effect: s.Effect, actions: toList(s.Action), resources: toList(s.Resource).map(str), raw: s });
    }
  }
  return statements;
}

function glob(pattern: string, value: string): boolean {
  const re = new RegExp(`^${pattern.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`, 'i');
  return re.test(value);
}

/** Whether the statements allow `action` on `resourceArn` (wildcards honoured both ways). */
export function allows(statements: Statement[], action: string, resourceArn: string): boolean {
  return statements.some(
    (s) =>
      s.effect === 'Allow' &&
      s.actions.some((a) => glob(a, action)) &&
      s.resources.some((r) => glob(r, resourceArn)),
  );
}

/** All actions allowed on exactly this resource string. */
export function actionsOn(statements: Statement[], resourceString: string): string[] {
  return [
    ...new Set(statements.filter((s) => s.effect === 'Allow' && s.resources.includes(resourceString)).flatMap((s) => s.actions)),
  ].sort();
}

/** Every Allow action of the statements. */
export function allActions(statements: Statement[]): string[] {
  return [...new Set(statements.filter((s) => s.effect === 'Allow').flatMap((s) => s.actions))].sort();
}

/** Every Allow statement in every policy of the template (identity and resource policies). */
export function allAllowStatements(template: Template): Statement[] {
  const out: Statement[] = [];
  const resources = template.toJSON().Resources as Record<string, Json>;
  for (const r of Object.values(resources)) {
    const docs: Json[] = [];
    if (r.Type === 'AWS::IAM::Policy') docs.push(r.Properties.PolicyDocument);
    if (r.Type === 'AWS::IAM::Role') for (const p of toList(r.Properties.Policies)) docs.push(p.PolicyDocument);
    if (r.Type === 'AWS::KMS::Key') docs.push(r.Properties.KeyPolicy);
    for (const k of ['AWS::SQS::QueuePolicy', 'AWS::S3::BucketPolicy', 'AWS::SNS::TopicPolicy']) {
      if (r.Type === k) docs.push(r.Properties.PolicyDocument);
    }
    for (const d of docs) {
      for (const s of toList(d.Statement)) {
        if (s.Effect === 'Allow') out.push({ effect: s.Effect, actions: toList(s.Action), resources: toList(s.Resource).map(str), raw: s });
      }
    }
  }
  return out;
}
