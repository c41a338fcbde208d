/**
 * CloudWatch delivering an alarm: when an alarm changes state, CloudWatch itself — the
 * service principal cloudwatch.amazonaws.com, with aws:SourceAccount = the alarm's account
 * and aws:SourceArn = the alarm's ARN — publishes to each action topic, and, for a topic
 * encrypted with a customer-managed key, asks KMS for a data key with the same identity.
 * No identity policy is involved: the topic policy and the key policy decide.
 *
 * A topic without a topic policy has SNS's default policy: the topic owner's account may
 * publish (any principal, condition AWS:SourceOwner = the owner), which admits CloudWatch
 * publishing on the account's behalf.
 */
import type { IamRequest } from './evaluator.ts';
import type { PolicyDocument, PolicyModel, SourcedPolicy } from './policy-model.ts';

export const CLOUDWATCH = { service: 'cloudwatch.amazonaws.com' } as const;

function defaultTopicPolicy(topicArn: string, account: string): SourcedPolicy {
  const document: PolicyDocument = {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: '__default_statement_ID',
        Effect: 'Allow',
        Principal: { AWS: '*' },
        Action: ['SNS:Publish', 'SNS:Subscribe', 'SNS:Receive', 'SNS:GetTopicAttributes'],
        Resource: topicArn,
        Condition: { StringEquals: { 'AWS:SourceOwner': account } },
      },
    ],
  };
  return { source: 'SNS default topic policy', document };
}

/** Every request CloudWatch makes to deliver each alarm of the model to each of its actions. */
export function alarmNotificationRequests(model: PolicyModel): IamRequest[] {
  const topics = [model.resources.alarmTopic];
  const requests: IamRequest[] = [];
  for (const alarm of model.alarms) {
    const context = { 'aws:SecureTransport': 'true', 'aws:SourceAccount': model.account, 'aws:SourceArn': alarm.arn };
    for (const action of alarm.actions) {
      const topic = topics.find((t) => t.arn === action);
      if (!topic) throw new Error(`${model.variant}: alarm ${alarm.logicalId} notifies ${action}, which is not the stack's alarm topic`);
      const describe = `topic ${topic.logicalId} (action of alarm ${alarm.logicalId})`;
      requests.push({
        principal: CLOUDWATCH,
        action: 'sns:Publish',
        resource: topic.arn,
        counted: topic.arn,
        describe,
        resourcePolicy: topic.policy ?? defaultTopicPolicy(topic.arn, model.account),
        context,
      });
      if (topic.keyArn) {
        const key = model.keys[topic.keyArn]!;
        for (const kms of ['kms:GenerateDataKey', 'kms:Decrypt']) {
          requests.push({ principal: CLOUDWATCH, action: kms, resource: key.arn, counted: key.arn, describe: `key ${key.logicalId} (encrypts ${describe})`, resourcePolicy: key.policy!, context });
        }
      }
    }
  }
  return requests;
}
