/**
 * What IAM would evaluate in the deployed stack, read from a synthesized template: the
 * identity policies of each principal's role, the resource policies (queue policies, the
 * bucket policy, the topic policy, the KMS key policy) and which KMS key encrypts which
 * resource — every intrinsic resolved to concrete ARNs in the fake account (template-values.ts).
 * Plain JSON, so it is synthesized once per run and read by every worker and child process.
 */
import type { CfnTemplate } from '../../../lib/local/template.ts';
import type { CorePrincipal, PrincipalName } from './principals.ts';
import { TemplateValues } from './template-values.ts';

export type Statement = Record<string, unknown>;

export interface PolicyDocument {
  readonly Version?: string;
  readonly Statement: Statement[];
}

/** A policy as evaluated: its document, and the template resource(s) it came from. */
export interface SourcedPolicy {
  /** Logical id(s) of the template resources that hold the statements. */
  readonly source: string;
  readonly document: PolicyDocument;
}

/** The template resources every variant has. */
export type CoreRole = 'queue' | 'deadLetterQueue' | 'table' | 'bucket' | 'alarmTopic';
/** A named lane's queue or DLQ (variants with lanes): `lanes.critical.queue`. */
export type LaneRole = `lanes.${string}.queue` | `lanes.${string}.deadLetterQueue`;
/** The completion-events function's on-failure queue, and the task table's stream it reads (variants with completionEvents). */
export type CompletionEventsRole = 'completionEventsFailureQueue' | 'tableStream';
/** The template resources a test resource stands for. */
export type ResourceRole = CoreRole | LaneRole | CompletionEventsRole;

export function laneRole(lane: string, which: 'queue' | 'deadLetterQueue'): LaneRole {
  return `lanes.${lane}.${which}`;
}

export interface ModelResource {
  readonly logicalId: string;
  readonly arn: string;
  readonly name: string;
  /** The resource policy (every policy resource attached to it, merged), if it has one. */
  readonly policy?: SourcedPolicy;
  /** The template's customer-managed KMS key that encrypts it. */
  readonly keyArn?: string;
}

export interface ModelPrincipal {
  readonly logicalId: string;
  readonly arn: string;
  readonly policies: SourcedPolicy[];
  /** Managed policies from outside the template (AWS managed…): their statements are unknown here. */
  readonly externalManagedPolicies: string[];
}

export interface ModelAlarm {
  readonly logicalId: string;
  readonly name: string;
  readonly arn: string;
  /** ARNs of every alarm, OK and insufficient-data action. */
  readonly actions: string[];
}

export interface PolicyModel {
  /** Which synthesized stack this is (e.g. "TaskQueueStack", "… with encryptionKey"). */
  readonly variant: string;
  readonly stackName: string;
  readonly stackArn: string;
  readonly account: string;
  readonly region: string;
  /** The method that granted the operator role (grantOperate). */
  readonly operatorGrant: string;
  /** The core principals in every variant; a lane's consumer and the completion-events function where the variant has them. */
  readonly principals: Record<CorePrincipal, ModelPrincipal> & Partial<Record<PrincipalName, ModelPrincipal>>;
  /** The core resources in every variant; lane and completion-events resources where the variant has them. */
  readonly resources: Record<CoreRole, ModelResource> & Partial<Record<ResourceRole, ModelResource>>;
  /** Key policies by key ARN. */
  readonly keys: Record<string, ModelResource>;
  readonly alarms: ModelAlarm[];
}

/** Logical ids of what the model is built around, taken from the constructs (not guessed from names). */
export interface ModelAnchors {
  readonly variant: string;
  readonly operatorGrant: string;
  readonly principals: Record<CorePrincipal, string> & Partial<Record<PrincipalName, string>>;
  readonly resources: Record<CoreRole, string> & Partial<Record<ResourceRole, string>>;
}

type Json = Record<string, unknown>;

function list(value: unknown): unknown[] {
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

export function buildPolicyModel(template: CfnTemplate, stackName: string, anchors: ModelAnchors): PolicyModel {
  const values = new TemplateValues(template, stackName);
  const resources = Object.entries(template.Resources);
  const ofType = (type: string) => resources.filter(([, r]) => r.Type === type);
  const resolved = <T>(logicalId: string, value: unknown, what: string): T => values.resolve<T>(value, `${logicalId}.${what}`);

  const keys: Record<string, ModelResource> = {};
  for (const [logicalId, key] of ofType('AWS::KMS::Key')) {
    keys[values.arn(logicalId)!] = {
      logicalId,
      arn: values.arn(logicalId)!,
      name: values.physicalName(logicalId),
      policy: { source: logicalId, document: resolved<PolicyDocument>(logicalId, key.Properties?.KeyPolicy, 'KeyPolicy') },
    };
  }
  const keyArnOf = (reference: unknown): string | undefined => {
    if (typeof reference !== 'string') return undefined;
    return Object.values(keys).find((k) => k.arn === reference || k.name === reference)?.arn;
  };

  /** Resource policies attached to a resource, through the policy types' own properties. */
  const attachedPolicy = (logicalId: string): SourcedPolicy | undefined => {
    const ref = values.ref(logicalId);
    const attachments: [string, string][] = [
      ['AWS::SQS::QueuePolicy', 'Queues'],
      ['AWS::S3::BucketPolicy', 'Bucket'],
      ['AWS::SNS::TopicPolicy', 'Topics'],
    ];
    const sources: string[] = [];
    const statements: Statement[] = [];
    for (const [type, property] of attachments) {
      for (const [policyId, policy] of ofType(type)) {
        const targets = list(resolved(policyId, policy.Properties?.[property], property));
        if (!targets.includes(ref)) continue;
        sources.push(policyId);
        const document = resolved<PolicyDocument>(policyId, policy.Properties?.PolicyDocument, 'PolicyDocument');
        statements.push(...(list(document.Statement) as Statement[]));
      }
    }
    return sources.length === 0 ? undefined : { source: sources.join(' + '), document: { Version: '2012-10-17', Statement: statements } };
  };

  const encryptionKeyOf = (logicalId: string): string | undefined => {
    const p = (template.Resources[logicalId]?.Properties ?? {}) as Json;
    const r = (value: unknown, what: string) => resolved<unknown>(logicalId, value, what);
    switch (template.Resources[logicalId]?.Type) {
      case 'AWS::SQS::Queue':
      case 'AWS::SNS::Topic':
        return keyArnOf(r(p.KmsMasterKeyId, 'KmsMasterKeyId'));
      case 'AWS::DynamoDB::Table':
        return keyArnOf(r((p.SSESpecification as Json | undefined)?.KMSMasterKeyId, 'SSESpecification.KMSMasterKeyId'));
      case 'AWS::S3::Bucket': {
        const rules = list(((p.BucketEncryption as Json | undefined)?.ServerSideEncryptionConfiguration as unknown) ?? []) as Json[];
        const ids = rules.map((rule) => r((rule.ServerSideEncryptionByDefault as Json | undefined)?.KMSMasterKeyID, 'BucketEncryption'));
        return ids.map(keyArnOf).find((arn) => arn !== undefined);
      }
      default:
        return undefined;
    }
  };

  const resource = (logicalId: string): ModelResource => {
    const arn = values.arn(logicalId);
    if (!arn) throw new Error(`${logicalId} (${values.type(logicalId)}) has no ARN the IAM harness knows how to form`);
    const policy = attachedPolicy(logicalId);
    const keyArn = encryptionKeyOf(logicalId);
    return { logicalId, arn, name: values.physicalName(logicalId), ...(policy ? { policy } : {}), ...(keyArn ? { keyArn } : {}) };
  };

  const principal = (roleId: string): ModelPrincipal => {
    const roleName = values.physicalName(roleId);
    const role = template.Resources[roleId]!;
    const policies: SourcedPolicy[] = [];
    for (const [index, inline] of (list(role.Properties?.Policies) as Json[]).entries()) {
      policies.push({ source: `${roleId}.Policies[${index}]`, document: resolved(roleId, inline.PolicyDocument, `Policies[${index}]`) });
    }
    for (const [policyId, policy] of [...ofType('AWS::IAM::Policy'), ...ofType('AWS::IAM::ManagedPolicy')]) {
      if (!list(resolved(policyId, policy.Properties?.Roles, 'Roles')).includes(roleName)) continue;
      policies.push({ source: policyId, document: resolved(policyId, policy.Properties?.PolicyDocument, 'PolicyDocument') });
    }
    const externalManagedPolicies: string[] = [];
    for (const arn of list(resolved(roleId, role.Properties?.ManagedPolicyArns, 'ManagedPolicyArns')) as string[]) {
      const local = ofType('AWS::IAM::ManagedPolicy').find(([id]) => values.arn(id) === arn);
      if (!local) externalManagedPolicies.push(arn);
      else if (!policies.some((p) => p.source === local[0])) {
        policies.push({ source: local[0], document: resolved(local[0], local[1].Properties?.PolicyDocument, 'PolicyDocument') });
      }
    }
    return { logicalId: roleId, arn: values.arn(roleId)!, policies, externalManagedPolicies };
  };

  const alarms: ModelAlarm[] = ofType('AWS::CloudWatch::Alarm').map(([logicalId, alarm]) => {
    const p = alarm.Properties ?? {};
    const actions = ['AlarmActions', 'OKActions', 'InsufficientDataActions'].flatMap((k) => list(resolved(logicalId, p[k], k)) as string[]);
    return { logicalId, name: values.physicalName(logicalId), arn: values.arn(logicalId)!, actions: [...new Set(actions)] };
  });

  const byRole = (ids: Record<string, string | undefined>, make: (id: string, role: string) => unknown) =>
    Object.fromEntries(Object.entries(ids).flatMap(([role, id]) => (id === undefined ? [] : [[role, make(id, role)]])));
  /** The table's stream: anchored on the table, its ARN the table's StreamArn. */
  const resourceOrStream = (logicalId: string, role: string): ModelResource =>
    role === 'tableStream' ? { logicalId, arn: values.getAtt(logicalId, 'StreamArn')!, name: `${values.physicalName(logicalId)} stream` } : resource(logicalId);

  return {
    variant: anchors.variant,
    stackName,
    stackArn: values.stackArn,
    account: values.accountId,
    region: values.region,
    operatorGrant: anchors.operatorGrant,
    principals: byRole(anchors.principals, principal) as PolicyModel['principals'],
    resources: byRole(anchors.resources, resourceOrStream) as PolicyModel['resources'],
    keys,
    alarms,
  };
}
