/**
 * The on-call SNS topic: the one passed in, or a new one with a TLS-only publish policy,
 * encrypted with the task queue's KMS key when one is given.
 *
 * CloudWatch publishes alarm notifications as the service principal cloudwatch.amazonaws.com,
 * on behalf of an alarm (aws:SourceArn = the alarm's ARN) of the account (aws:SourceAccount).
 * A topic policy replaces SNS's default policy, and `enforceSSL` writes one: so the created
 * topic's policy allows that publish itself, for this account's alarms named with the alarm
 * prefix (`<prefix>-*`, which also covers alarms a user adds with that prefix) — or, when the
 * names are not known at synth, for the construct's alarms by ARN. With a customer-managed key
 * the key policy lets CloudWatch use the key for the same alarms.
 *
 * Without a customer-managed key the new topic is not encrypted: CloudWatch alarms cannot
 * publish to a topic encrypted with the AWS-managed key (alias/aws/sns), whose key policy
 * cannot grant CloudWatch. Alarm notifications carry alarm names and states, no task data.
 *
 * A topic passed in is not changed (adding a policy statement would replace its default
 * policy): the synth warns that its policy — and its key, if encrypted — must allow CloudWatch.
 */
import { Annotations, ArnFormat, Stack, Validations } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type { Construct } from 'constructs';

/** Id of the synth-time warning about a topic or key the construct cannot change (acknowledge it with this id). */
export const ALARM_TOPIC_WARNING_ID = 'taskq:alarm-topic-must-allow-cloudwatch';

const CLOUDWATCH = 'cloudwatch.amazonaws.com';

export interface AlarmTopic {
  readonly topic: sns.ITopic;
  /** Whether the construct created it (and so owns its policy). */
  readonly created: boolean;
}

export function createAlarmTopic(scope: Construct, existing: sns.ITopic | undefined, key: kms.IKey | undefined, email: string | undefined): AlarmTopic {
  const topic =
    existing ??
    new sns.Topic(scope, 'AlarmTopic', {
      displayName: 'Task queue alarms',
      enforceSSL: true,
      ...(key ? { masterKey: key } : {}),
    });
  if (email !== undefined) {
    const subscription = topic.addSubscription(new subscriptions.EmailSubscription(email));
    Validations.of(subscription).acknowledge({
      id: 'Serverless-SNSRedrivePolicy',
      reason:
        'E-mail subscription of the on-call topic: SNS retries failed e-mail deliveries, and the alarm state stays visible in CloudWatch and on the dashboard; a dead-letter queue for alarm e-mails would itself need an alarm.',
    });
  }
  return { topic, created: existing === undefined };
}

/**
 * Lets CloudWatch deliver the alarms' notifications to the topic: the topic-policy statement
 * (and key-policy statement) for a created topic, a synth-time warning for a topic passed in
 * or a key the construct cannot change.
 */
export function allowAlarmsToPublish(
  scope: Construct,
  alarmTopic: AlarmTopic,
  key: kms.IKey | undefined,
  alarms: readonly cloudwatch.IAlarm[],
  namePrefix: string | undefined,
): void {
  const stack = Stack.of(scope);
  const pattern = namePrefix !== undefined ? alarmArnPattern(stack, `${namePrefix}-*`) : undefined;
  const conditions = (sourceArns: string[]) => ({
    StringEquals: { 'aws:SourceAccount': stack.account },
    ArnLike: { 'aws:SourceArn': sourceArns.length === 1 ? sourceArns[0] : sourceArns },
  });

  if (!alarmTopic.created) {
    const who = pattern ?? `the ARNs of the alarms ${alarms.map((a) => a.node.path).join(', ')}`;
    Annotations.of(scope).addWarningV2(
      ALARM_TOPIC_WARNING_ID,
      `alarmTopic ${alarmTopic.topic.topicArn} was passed in, so its policy is not changed here: it must allow ${CLOUDWATCH} to sns:Publish ` +
        `(conditions aws:SourceAccount = this account, aws:SourceArn like ${who}), and if the topic is encrypted with a customer-managed key, ` +
        `that key's policy must allow ${CLOUDWATCH} kms:GenerateDataKey and kms:Decrypt — otherwise no alarm notification is delivered.`,
    );
    return;
  }

  // Exact alarm ARNs when the names are unknown: the topic policy may reference the alarms
  // (they reference the topic, not its policy), so there is no cycle.
  const topicSources = pattern !== undefined ? [pattern] : alarms.map((a) => a.alarmArn);
  alarmTopic.topic.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: 'AllowCloudWatchAlarmsToPublish',
      principals: [new iam.ServicePrincipal(CLOUDWATCH)],
      actions: ['sns:Publish'],
      resources: [alarmTopic.topic.topicArn],
      conditions: conditions(topicSources),
    }),
  );

  if (key) {
    // The key may live in another stack: name the alarms by pattern there (any alarm of the
    // account and region when the prefix is unknown — the topic policy is the narrow gate).
    const keySources = [pattern ?? alarmArnPattern(stack, '*')];
    const { statementAdded } = key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudWatchAlarmsToPublishToEncryptedTopic',
        principals: [new iam.ServicePrincipal(CLOUDWATCH)],
        actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
        resources: ['*'], // in a key policy, "*" means this key
        conditions: conditions(keySources),
      }),
      /* allowNoOp */ true,
    );
    if (!statementAdded) {
      Annotations.of(scope).addWarningV2(
        ALARM_TOPIC_WARNING_ID,
        `encryptionKey ${key.keyArn} is imported, so its policy is not changed here: the alarm topic is encrypted with it, and the key must allow ${CLOUDWATCH} ` +
          `kms:GenerateDataKey and kms:Decrypt (conditions aws:SourceAccount = this account, aws:SourceArn like ${keySources[0]}) — otherwise no alarm notification is delivered.`,
      );
    }
  }
}

function alarmArnPattern(stack: Stack, resourceName: string): string {
  return stack.formatArn({ service: 'cloudwatch', resource: 'alarm', resourceName, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
}
