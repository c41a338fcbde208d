/**
 * The on-call SNS topic: the one passed in, or a new one with a TLS-only publish policy,
 * encrypted with the task queue's KMS key when one is given.
 *
 * Without a customer-managed key the new topic is not encrypted: CloudWatch alarms cannot
 * publish to a topic encrypted with the AWS-managed key (alias/aws/sns), whose key policy
 * cannot grant CloudWatch. Alarm notifications carry alarm names and states, no task data.
 */
import { Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type { Construct } from 'constructs';

export function createAlarmTopic(scope: Construct, existing: sns.ITopic | undefined, key: kms.IKey | undefined, email: string | undefined): sns.ITopic {
  let topic: sns.ITopic;
  if (existing) {
    topic = existing;
  } else {
    topic = new sns.Topic(scope, 'AlarmTopic', {
      displayName: 'Task queue alarms',
      enforceSSL: true,
      ...(key ? { masterKey: key } : {}),
    });
    if (key) {
      // CloudWatch publishes alarm notifications to the encrypted topic. For a key defined
      // in this app this adds the key-policy statement; an imported key's policy must
      // already allow it (addToResourcePolicy is then a no-op).
      key.addToResourcePolicy(
        new iam.PolicyStatement({
          sid: 'AllowCloudWatchAlarmsToPublishToEncryptedTopic',
          principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
          actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
          resources: ['*'], // in a key policy, "*" means this key
        }),
        /* allowNoOp */ true,
      );
    }
  }
  if (email !== undefined) {
    const subscription = topic.addSubscription(new subscriptions.EmailSubscription(email));
    Validations.of(subscription).acknowledge({
      id: 'Serverless-SNSRedrivePolicy',
      reason:
        'E-mail subscription of the on-call topic: SNS retries failed e-mail deliveries, and the alarm state stays visible in CloudWatch and on the dashboard; a dead-letter queue for alarm e-mails would itself need an alarm.',
    });
  }
  return topic;
}
