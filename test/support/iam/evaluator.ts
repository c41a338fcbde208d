/**
 * Decides whether the synthesized stack would let a principal make a request, with
 * @cloud-copilot/iam-simulate (AGPL-3.0: a devDependency for tests only — see
 * test/security/iam-harness-licence.test.ts). Same-account rules, as AWS applies them:
 * allowed when the principal's identity policies or the resource's policy allow it and no
 * statement denies it; a KMS key additionally requires its key policy to allow the request,
 * directly or by delegating to IAM with a statement for the account root.
 *
 * A refusal says which policy lacks a statement (or which statement denies), so a failing
 * test reads like the fix.
 */
import { getDenialReasons, runSimulation, type Simulation } from '@cloud-copilot/iam-simulate';
import type { ModelPrincipal, ModelResource, PolicyModel, ResourceRole, SourcedPolicy } from './policy-model.ts';
import { PRINCIPALS, type PrincipalName } from './principals.ts';
import type { ActionCheck, AwsService } from './sdk-call-actions.ts';

/** A principal of the stack, or an AWS service acting on the stack's behalf. */
export type RequestPrincipal = PrincipalName | { readonly service: string };

export interface IamRequest {
  readonly principal: RequestPrincipal;
  readonly action: string;
  /** The resource ARN in the model's account. */
  readonly resource: string;
  /** What the resource is, for messages ("queue TasksQueue…"). */
  readonly describe: string;
  /** The resource as counted in the ledger: an object's random key is reduced to its first segment (`…/claims/{key}`). */
  readonly counted: string;
  /** The resource's policy (queue/bucket/topic policy; for a key, its key policy). */
  readonly resourcePolicy?: SourcedPolicy;
  readonly context: Readonly<Record<string, string | string[]>>;
}

export interface Decision {
  readonly allowed: boolean;
  readonly request: IamRequest;
  /** Why it was refused, naming the policies. */
  readonly reason?: string;
}

const SESSION = 'taskq-test';

/** A principal of the model; a variant without it (a lane's consumer in a stack without lanes) is an error here. */
export function modelPrincipal(model: PolicyModel, principal: PrincipalName): ModelPrincipal {
  const found = model.principals[principal];
  if (!found) throw new Error(`IAM harness: the variant "${model.variant}" has no ${PRINCIPALS[principal]}`);
  return found;
}

/** A resource of the model by role; a variant without it is an error here. */
export function modelResource(model: PolicyModel, role: ResourceRole): ModelResource {
  const found = model.resources[role];
  if (!found) throw new Error(`IAM harness: the variant "${model.variant}" has no ${role}`);
  return found;
}

/**
 * Whether a variant can answer a check made as `principal`: it has the principal and the
 * resource. A lane's queue exists only in the variant with lanes; there the call is evaluated,
 * and a variant without lanes has nothing to say about it.
 */
export function variantApplies(model: PolicyModel, principal: PrincipalName, check: ActionCheck): boolean {
  if (!model.principals[principal]) return false;
  return check.target.kind !== 'resource' || model.resources[check.target.role] !== undefined;
}

export function principalLabel(model: PolicyModel, principal: RequestPrincipal): string {
  return typeof principal === 'string' ? `${principal} (${modelPrincipal(model, principal).logicalId})` : principal.service;
}

export function principalKey(principal: RequestPrincipal): string {
  return typeof principal === 'string' ? principal : principal.service;
}

/** The role session ARN a principal's SDK calls are signed with. */
function callerArn(model: PolicyModel, principal: RequestPrincipal): string {
  if (typeof principal !== 'string') return principal.service;
  const roleName = modelPrincipal(model, principal).arn.split('/').pop()!;
  return `arn:aws:sts::${model.account}:assumed-role/${roleName}/${SESSION}`;
}

function baseContext(model: PolicyModel, principal: RequestPrincipal): Record<string, string> {
  const context: Record<string, string> = { 'aws:SecureTransport': 'true' };
  if (typeof principal === 'string') {
    context['aws:PrincipalAccount'] = model.account;
    context['aws:PrincipalArn'] = modelPrincipal(model, principal).arn;
    context['aws:PrincipalType'] = 'AssumedRole';
  }
  return context;
}

function describeResource(role: string, r: ModelResource): string {
  return `${role} ${r.logicalId}`;
}

/** The concrete requests one mapped check makes in a model: the action on its resource, and the KMS actions on the resource's key. */
export function requestsFor(model: PolicyModel, principal: PrincipalName, check: ActionCheck, service: AwsService, models: readonly PolicyModel[] = []): IamRequest[] {
  const context = baseContext(model, principal);
  const target = check.target;
  let resource: string;
  let counted: string | undefined;
  let describe: string;
  let policy: SourcedPolicy | undefined;
  let keyArn: string | undefined;
  switch (target.kind) {
    case 'resource': {
      const r = modelResource(model, target.role);
      resource = target.objectKey !== undefined ? `${r.arn}/${target.objectKey}` : r.arn;
      if (target.objectKey !== undefined) counted = `${r.arn}/${target.objectKey.includes('/') ? `${target.objectKey.split('/')[0]}/` : ''}{key}`;
      describe = describeResource(target.role, r);
      policy = r.policy;
      keyArn = r.keyArn;
      break;
    }
    case 'stack':
      resource = model.stackArn;
      describe = `stack ${model.stackName}`;
      break;
    case 'alarm': {
      const alarm = target.name === undefined ? undefined : alarmByName(model, target.name, models);
      resource = alarm?.arn ?? `arn:aws:cloudwatch:${model.region}:${model.account}:alarm:${target.name ?? '*'}`;
      describe = alarm ? `alarm ${alarm.logicalId}` : `alarm ${target.name ?? '*'}`;
      break;
    }
    case 'eventBus':
      resource = target.name.startsWith('arn:') ? target.name : `arn:aws:events:${model.region}:${model.account}:event-bus/${target.name}`;
      describe = `event bus ${target.name}`;
      break;
    case 'any':
      resource = '*';
      describe = '"*" (no resource-level permissions)';
      break;
  }
  if (service === 's3') context['s3:TlsVersion'] = '1.3';
  const requests: IamRequest[] = [
    { principal, action: check.action, resource, counted: counted ?? resource, describe, ...(policy ? { resourcePolicy: policy } : {}), context: { ...context, ...check.context } },
  ];
  if (keyArn && check.kms) {
    const key = model.keys[keyArn]!;
    const via: Record<string, string> = {
      ...baseContext(model, principal),
      'kms:ViaService': `${service}.${model.region}.amazonaws.com`,
      'kms:CallerAccount': model.account,
    };
    if (service === 'sqs') via['kms:EncryptionContext:aws:sqs:arn'] = resource;
    if (service === 's3') via['kms:EncryptionContext:aws:s3:arn'] = model.resources.bucket.arn;
    if (service === 'dynamodb') via['kms:EncryptionContext:aws:dynamodb:tableName'] = model.resources.table.name;
    for (const action of check.kms) {
      requests.push({ principal, action, resource: key.arn, counted: key.arn, describe: `key ${key.logicalId} (encrypts ${describe})`, resourcePolicy: key.policy!, context: via });
    }
  }
  return requests;
}

/**
 * The alarm of a model with this name — or, for a name from another variant (the stand-in
 * hands out the default stack's names), the alarm with the same logical id.
 */
export function alarmByName(model: PolicyModel, name: string, all: readonly PolicyModel[] = []): PolicyModel['alarms'][number] | undefined {
  const own = model.alarms.find((a) => a.name === name);
  if (own) return own;
  for (const other of all) {
    const match = other.alarms.find((a) => a.name === name);
    if (match) return model.alarms.find((a) => a.logicalId === match.logicalId);
  }
  return undefined;
}

const cache = new Map<string, Promise<Decision>>();

export function evaluate(model: PolicyModel, request: IamRequest): Promise<Decision> {
  const key = JSON.stringify([model.variant, principalKey(request.principal), request.action, request.resource, request.context, request.resourcePolicy?.source]);
  let decision = cache.get(key);
  if (!decision) {
    decision = simulate(model, request);
    cache.set(key, decision);
  }
  return decision;
}

/** Evaluates without the cache (tests that change a model's policies). */
export async function simulate(model: PolicyModel, request: IamRequest): Promise<Decision> {
  const identityPolicies =
    typeof request.principal === 'string'
      ? modelPrincipal(model, request.principal).policies.map((p) => ({ name: p.source, policy: p.document }))
      : [];
  const simulation: Simulation = {
    request: {
      principal: callerArn(model, request.principal),
      action: request.action,
      resource: { resource: request.resource, accountId: model.account },
      contextVariables: { ...request.context },
    },
    identityPolicies,
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    ...(request.resourcePolicy ? { resourcePolicy: request.resourcePolicy.document } : {}),
  };
  const result = await runSimulation(simulation, {});
  if (result.resultType === 'error') {
    throw new Error(`IAM harness: iam-simulate rejected the simulation of ${request.action} on ${request.resource}: ${JSON.stringify(result.errors)}`);
  }
  if (result.overallResult === 'Allowed') return { allowed: true, request };
  const analysis = result.resultType === 'single' ? result.result.analysis : undefined;
  return { allowed: false, request, reason: explain(model, request, analysis ? getDenialReasons(analysis) : []) };
}

function explain(model: PolicyModel, request: IamRequest, denials: ReturnType<typeof getDenialReasons>): string {
  const isKey = request.action.startsWith('kms:');
  const identitySources =
    typeof request.principal === 'string' ? modelPrincipal(model, request.principal).policies.map((p) => p.source).join(', ') || 'none' : undefined;
  const resourcePolicy = request.resourcePolicy ? `${isKey ? 'key policy' : 'resource policy'} ${request.resourcePolicy.source}` : 'resource policy (it has none)';
  const parts: string[] = [];
  for (const d of denials) {
    if (d.denialType === 'Explicit') {
      const statement = d.statementId ? `statement "${d.statementId}"` : `statement #${d.statementIndex}`;
      const where = d.policyType === 'resource' ? resourcePolicy : `identity policy ${d.policyIdentifier ?? ''}`.trim();
      parts.push(`explicitly denied by ${statement} of the ${where}`);
    }
  }
  if (parts.length === 0) {
    const types = new Set(denials.map((d) => d.policyType));
    if (isKey && types.has('resource')) {
      parts.push(`the ${resourcePolicy} neither allows it nor delegates to IAM (no statement for the account root)`);
      if (types.has('identity')) parts.push(`and no identity policy of the role allows it (${identitySources})`);
    } else if (isKey) {
      parts.push(`the key policy delegates to IAM, but no identity policy of the role allows it (${identitySources})`);
    } else if (typeof request.principal !== 'string') {
      parts.push(`no statement of the ${resourcePolicy} allows the service principal ${request.principal.service} (with its aws:SourceAccount / aws:SourceArn)`);
    } else if (!request.resourcePolicy) {
      parts.push(`no identity policy of the role allows it (${identitySources}), and the resource has no resource policy`);
    } else {
      parts.push(`no statement allows it — neither the role's identity policies (${identitySources}) nor the ${resourcePolicy} (either one would do)`);
    }
    const grantee = typeof request.principal === 'string' ? '' : ` to Principal {"Service": "${request.principal.service}"}`;
    parts.push(`missing statement: Allow ${request.action} on ${isKey && request.resourcePolicy ? `${request.resource} (Resource "*" in the key policy)` : request.resource}${grantee}`);
  }
  return parts.join('; ');
}

/** The message of a refused request, as the test sees it. */
export function refusalMessage(model: PolicyModel, decision: Decision, call?: string): string {
  const r = decision.request;
  const who = typeof r.principal === 'string' ? `${PRINCIPALS[r.principal]} ${modelPrincipal(model, r.principal).logicalId}` : r.principal.service;
  const keys = r.context['dynamodb:LeadingKeys'];
  return (
    `IAM (${model.variant}): ${who} is not authorized to perform ${r.action} on ${r.describe} (${r.resource})` +
    `${keys ? ` (dynamodb:LeadingKeys ${JSON.stringify(keys)})` : ''}` +
    `${call ? ` (SDK call ${call})` : ''}: ${decision.reason}`
  );
}
