/**
 * Alarm notifications reach the on-call topic: CloudWatch publishes as the service principal
 * cloudwatch.amazonaws.com, on behalf of an alarm (aws:SourceArn) of this account
 * (aws:SourceAccount). A topic policy replaces SNS's default policy, so the created topic's
 * policy (written by enforceSSL) must allow that publish itself — and, with a customer key,
 * the key policy must let CloudWatch use the key. A topic the user passes in is not changed:
 * the synth warns that its policy (and key) must allow CloudWatch.
 *
 * Policies are evaluated here for the request CloudWatch makes — principal, action, topic,
 * and the two condition keys — with the template's values rendered as strings.
 */
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { Annotations as CoreAnnotations, NestedStack } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import { describe, expect, it } from 'vitest';
import { ALARM_NAME_SUFFIXES } from '../../lib/infra/alarms.ts';
import { ALARM_TOPIC_WARNING_ID } from '../../lib/infra/alarm-topic.ts';
import { TaskQueue } from '../../lib/infra/task-queue.ts';
import { logicalId, resource, str, testStack, type Json } from './helpers.ts';

const ACCOUNT = '${AWS::AccountId}';
const alarmArn = (name: string, account = ACCOUNT) => `arn:\${AWS::Partition}:cloudwatch:\${AWS::Region}:${account}:alarm:${name}`;

interface Request {
  readonly service: string;
  readonly action: string;
  readonly resource: string;
  readonly sourceAccount: string;
  readonly sourceArn: string;
}

const list = (v: Json): Json[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
const glob = (pattern: string, value: string) =>
  new RegExp(`^${pattern.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`).test(value);

/** Whether one Allow statement of a resource policy matches the request (conditions included). */
function statementAllows(s: Json, req: Request): boolean {
  if (s.Effect !== 'Allow') return false;
  if (!list(s.Principal?.Service).includes(req.service)) return false;
  if (!list(s.Action).some((a: string) => glob(a.toLowerCase(), req.action.toLowerCase()))) return false;
  if (!list(s.Resource).map(str).some((r) => glob(r, req.resource))) return false;
  const context: Record<string, string> = { 'aws:SourceAccount': req.sourceAccount, 'aws:SourceArn': req.sourceArn };
  for (const [operator, block] of Object.entries((s.Condition ?? {}) as Record<string, Record<string, Json>>)) {
    for (const [key, expected] of Object.entries(block)) {
      const actual = context[key];
      if (actual === undefined) return false;
      const values = list(expected).map(str);
      if (operator === 'StringEquals' && !values.includes(actual)) return false;
      else if (operator === 'ArnLike' && !values.some((v) => glob(v, actual))) return false;
      else if (operator !== 'StringEquals' && operator !== 'ArnLike') throw new Error(`condition operator ${operator} not evaluated by this test`);
    }
  }
  return true;
}

/** No explicit Deny matches (the TLS deny only applies without TLS; CloudWatch uses TLS). */
function policyAllows(document: Json, req: Request): boolean {
  const statements = list(document.Statement);
  const denied = statements.some(
    (s) => s.Effect === 'Deny' && !(s.Condition?.Bool?.['aws:SecureTransport'] === 'false') && list(s.Action).some((a: string) => glob(a.toLowerCase(), req.action.toLowerCase())),
  );
  return !denied && statements.some((s) => statementAllows(s, req));
}

function topicPolicy(t: Template): Json {
  const policies = Object.values(t.findResources('AWS::SNS::TopicPolicy')) as Json[];
  expect(policies).toHaveLength(1);
  return policies[0].Properties.PolicyDocument;
}

function alarmNames(t: Template): string[] {
  return (Object.values(t.findResources('AWS::CloudWatch::Alarm')) as Json[]).map((a) => a.Properties.AlarmName);
}

describe('the created alarm topic', () => {
  const stack = testStack();
  const tq = new TaskQueue(stack, 'Tasks');
  const t = Template.fromStack(stack);
  const topic = `\${${logicalId(t, 'AWS::SNS::Topic')}}`;
  const publish = (sourceArn: string, sourceAccount = ACCOUNT): Request => ({ service: 'cloudwatch.amazonaws.com', action: 'sns:Publish', resource: topic, sourceAccount, sourceArn });

  it('lets CloudWatch publish for each of the construct\'s seven alarms', () => {
    const names = alarmNames(t);
    expect(names.sort()).toEqual(Object.values(ALARM_NAME_SUFFIXES).map((s) => `TestStack-Tasks-${s}`).sort());
    for (const name of names) expect(policyAllows(topicPolicy(t), publish(alarmArn(name))), name).toBe(true);
  });

  it('only for alarms of this account named with the alarm prefix (no confused deputy)', () => {
    expect(policyAllows(topicPolicy(t), publish(alarmArn('SomeoneElses-QueueDepth')))).toBe(false);
    expect(policyAllows(topicPolicy(t), publish(alarmArn('TestStack-Tasks-QueueDepth', '999999999999'), '999999999999'))).toBe(false);
    expect(policyAllows(topicPolicy(t), { ...publish(alarmArn('TestStack-Tasks-QueueDepth')), service: 'events.amazonaws.com' })).toBe(false);
  });

  it('keeps the TLS-only deny', () => {
    expect(list(topicPolicy(t).Statement)).toContainEqual(
      expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
    );
  });

  it('is the topic the alarms notify', () => {
    for (const a of Object.values(t.findResources('AWS::CloudWatch::Alarm')) as Json[]) expect(str(a.Properties.AlarmActions)).toBe(topic);
    expect(stack.resolve(tq.alarmTopic.topicArn)).toEqual({ Ref: logicalId(t, 'AWS::SNS::Topic') });
  });

  it('with a custom alarm name prefix, the condition follows it', () => {
    const s = testStack();
    new TaskQueue(s, 'Tasks', { alarmNamePrefix: 'orders' });
    const custom = Template.fromStack(s);
    const req = { service: 'cloudwatch.amazonaws.com', action: 'sns:Publish', resource: `\${${logicalId(custom, 'AWS::SNS::Topic')}}`, sourceAccount: ACCOUNT };
    expect(policyAllows(topicPolicy(custom), { ...req, sourceArn: alarmArn('orders-DeadLetterQueueNotEmpty') })).toBe(true);
    expect(policyAllows(topicPolicy(custom), { ...req, sourceArn: alarmArn('TestStack-Tasks-DeadLetterQueueNotEmpty') })).toBe(false);
  });

  it('when the stack name is unknown at synth (a nested stack: no alarm names), names the seven alarms by their ARNs', () => {
    const s = new NestedStack(testStack(), 'Nested');
    new TaskQueue(s, 'Tasks');
    const lazy = Template.fromStack(s);
    const alarms = Object.keys(lazy.findResources('AWS::CloudWatch::Alarm'));
    expect(alarms).toHaveLength(7);
    const allow = list(topicPolicy(lazy).Statement).find((st: Json) => st.Principal?.Service === 'cloudwatch.amazonaws.com');
    expect(allow.Condition.ArnLike['aws:SourceArn'].map(str).sort()).toEqual(alarms.map((id) => `\${${id}.Arn}`).sort());
    expect(allow.Condition.StringEquals['aws:SourceAccount']).toEqual({ Ref: 'AWS::AccountId' });
  });
});

describe('a created topic with a customer-managed key', () => {
  const stack = testStack();
  const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
  new TaskQueue(stack, 'Tasks', { encryptionKey: key });
  const t = Template.fromStack(stack);
  const keyId = logicalId(t, 'AWS::KMS::Key');
  const keyPolicy = resource(t, keyId).Properties.KeyPolicy;

  it('encrypts the topic with the key', () => {
    t.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] } });
  });

  it('the key policy lets CloudWatch generate a data key and decrypt for the construct\'s alarms only', () => {
    for (const action of ['kms:GenerateDataKey', 'kms:Decrypt']) {
      for (const name of alarmNames(t)) {
        const req: Request = { service: 'cloudwatch.amazonaws.com', action, resource: '*', sourceAccount: ACCOUNT, sourceArn: alarmArn(name) };
        expect(policyAllows(keyPolicy, req), `${action} for ${name}`).toBe(true);
      }
      const other: Request = { service: 'cloudwatch.amazonaws.com', action, resource: '*', sourceAccount: ACCOUNT, sourceArn: alarmArn('Other-Alarm') };
      expect(policyAllows(keyPolicy, other)).toBe(false);
    }
    expect(policyAllows(keyPolicy, { service: 'cloudwatch.amazonaws.com', action: 'kms:ReEncryptFrom', resource: '*', sourceAccount: ACCOUNT, sourceArn: alarmArn('TestStack-Tasks-QueueDepth') })).toBe(false);
  });

  it('the topic policy still lets CloudWatch publish', () => {
    const req: Request = { service: 'cloudwatch.amazonaws.com', action: 'sns:Publish', resource: `\${${logicalId(t, 'AWS::SNS::Topic')}}`, sourceAccount: ACCOUNT, sourceArn: alarmArn('TestStack-Tasks-ConsumerErrors') };
    expect(policyAllows(topicPolicy(t), req)).toBe(true);
  });

  it('an imported key cannot be changed: the synth warns that its policy must allow CloudWatch', () => {
    const s = testStack();
    new TaskQueue(s, 'Tasks', { encryptionKey: kms.Key.fromKeyArn(s, 'Imported', 'arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555') });
    Annotations.fromStack(s).hasWarning('/TestStack/Tasks', Match.stringLikeRegexp(`key .*must allow cloudwatch\\.amazonaws\\.com.*kms:GenerateDataKey.*\\[ack: ${ALARM_TOPIC_WARNING_ID}\\]`));
  });
});

describe('a topic passed in as alarmTopic', () => {
  it('is not changed (no policy added), and the synth warns that its policy must allow CloudWatch to publish, with a stable id', () => {
    const stack = testStack();
    new TaskQueue(stack, 'Tasks', { alarmTopic: sns.Topic.fromTopicArn(stack, 'OnCall', 'arn:aws:sns:eu-west-1:123456789012:oncall') });
    const t = Template.fromStack(stack);
    t.resourceCountIs('AWS::SNS::TopicPolicy', 0);
    t.resourceCountIs('AWS::SNS::Topic', 0);
    const warnings = Annotations.fromStack(stack).findWarning('/TestStack/Tasks', Match.stringLikeRegexp('alarmTopic'));
    expect(warnings).toHaveLength(1);
    const message = String(warnings[0]!.entry.data);
    expect(message).toContain('arn:aws:sns:eu-west-1:123456789012:oncall');
    expect(message).toMatch(/cloudwatch\.amazonaws\.com/);
    expect(message).toMatch(/sns:Publish/);
    expect(message).toContain('TestStack-Tasks-*');
    expect(message).toMatch(/kms:Decrypt/); // and its key, if encrypted
    expect(message).toContain(`[ack: ${ALARM_TOPIC_WARNING_ID}]`);
  });

  it('the warning can be acknowledged by its id', () => {
    const stack = testStack();
    const tq = new TaskQueue(stack, 'Tasks', { alarmTopic: sns.Topic.fromTopicArn(stack, 'OnCall', 'arn:aws:sns:eu-west-1:123456789012:oncall') });
    CoreAnnotations.of(tq).acknowledgeWarning(ALARM_TOPIC_WARNING_ID, 'our topic policy allows CloudWatch');
    Annotations.fromStack(stack).hasNoWarning('/TestStack/Tasks', Match.anyValue());
  });

  it('a created topic gets no such warning', () => {
    const stack = testStack();
    new TaskQueue(stack, 'Tasks');
    Annotations.fromStack(stack).hasNoWarning('*', Match.stringLikeRegexp(ALARM_TOPIC_WARNING_ID));
  });
});
