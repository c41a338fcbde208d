/**
 * On-call is paged only if CloudWatch may deliver: for every alarm of the synthesized stack
 * (with and without encryptionKey), CloudWatch — as cloudwatch.amazonaws.com, with the
 * stack's account as aws:SourceAccount and the alarm's ARN as aws:SourceArn — must be
 * allowed sns:Publish on the alarm's action topic by the topic policy, and, when the topic
 * is encrypted, kms:GenerateDataKey and kms:Decrypt by the key policy. Evaluated like every
 * other call of the IAM harness (test/support/iam/), and counted in its ledger.
 */
import { describe, expect, it } from 'vitest';
import { alarmNotificationRequests } from '../support/iam/alarm-notifications.ts';
import { evaluate, principalKey, refusalMessage } from '../support/iam/evaluator.ts';
import { recordTriple, reportDenials } from '../support/iam/ledger.ts';
import { policyModels } from '../support/iam/synthesized-policies.ts';

describe.each(policyModels().map((model) => [model.variant, model] as const))('CloudWatch alarm notifications: %s', (_variant, model) => {
  const requests = alarmNotificationRequests(model);

  it('every alarm notifies the stack\'s alarm topic', () => {
    expect(model.alarms.length).toBeGreaterThan(0);
    for (const alarm of model.alarms) expect(alarm.actions, alarm.logicalId).toContain(model.resources.alarmTopic.arn);
  });

  it('CloudWatch may publish each alarm to its topic (and use the topic\'s key)', async () => {
    const refusals: string[] = [];
    for (const request of requests) {
      recordTriple({ principal: principalKey(request.principal), action: request.action, resource: request.counted });
      const decision = await evaluate(model, request);
      if (!decision.allowed) refusals.push(refusalMessage(model, decision));
    }
    reportDenials(refusals.map((message) => ({ session: 'in-process', message })));
    expect(refusals).toEqual([]);
  });

  it('only with the stack\'s account and one of its alarms as source: another account\'s alarm may not publish', async () => {
    const publish = requests.find((r) => r.action === 'sns:Publish')!;
    const foreign = { ...publish, context: { ...publish.context, 'aws:SourceAccount': '999999999999', 'aws:SourceArn': 'arn:aws:cloudwatch:us-east-1:999999999999:alarm:someone-else' } };
    expect((await evaluate(model, foreign)).allowed).toBe(false);
  });
});
