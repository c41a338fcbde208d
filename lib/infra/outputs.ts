/**
 * The stack outputs producers and the CLI resolve resources from. Their logical ids are
 * exactly the STACK_OUTPUTS keys (`QueueUrl`, …), whatever the construct's path, so
 * `describe-stacks` shows them under those names.
 */
import { CfnOutput, Stack } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { OPTIONAL_STACK_OUTPUTS, STACK_OUTPUTS } from '../protocol/resources.ts';

export type TaskQueueOutputValues = Record<keyof typeof STACK_OUTPUTS, string>;

const DESCRIPTIONS: Record<keyof typeof STACK_OUTPUTS, string> = {
  queueUrl: 'URL of the task queue (producers send here)',
  queueArn: 'ARN of the task queue',
  deadLetterQueueUrl: 'URL of the dead-letter queue',
  deadLetterQueueArn: 'ARN of the dead-letter queue',
  tableName: 'Task table (idempotency + status)',
  bucketName: 'Claim-check bucket (large payloads)',
  claimPrefix: 'Key prefix of claim-check objects',
  alarmTopicArn: 'SNS topic of the alarms',
  dashboardName: 'CloudWatch dashboard',
  consumerFunctionName: 'Consumer Lambda function',
  consumerLogGroupName: 'Log group of the consumer (its own, not /aws/lambda/<function>)',
};

const stacksWithOutputs = new WeakSet<Stack>();

export function createOutputs(scope: Construct, values: TaskQueueOutputValues): Record<keyof typeof STACK_OUTPUTS, CfnOutput> {
  const stack = Stack.of(scope);
  if (stacksWithOutputs.has(stack)) {
    throw new Error(
      `TaskQueue: invalid outputs (true) at ${scope.node.path}: stack ${stack.stackName} already has the task queue outputs of another TaskQueue (the logical ids ${Object.values(STACK_OUTPUTS).join(', ')} must be unique); set outputs: false on all but one`,
    );
  }
  stacksWithOutputs.add(stack);
  const outputs = {} as Record<keyof typeof STACK_OUTPUTS, CfnOutput>;
  for (const key of Object.keys(STACK_OUTPUTS) as (keyof typeof STACK_OUTPUTS)[]) {
    const output = new CfnOutput(scope, `Output${STACK_OUTPUTS[key]}`, {
      value: values[key],
      description: DESCRIPTIONS[key],
    });
    output.overrideLogicalId(STACK_OUTPUTS[key]);
    outputs[key] = output;
  }
  return outputs;
}

/** The output naming the recent-tasks index, when the table has one (`recentTasksIndex`). */
export function createRecentTasksIndexOutput(scope: Construct, indexName: string): CfnOutput {
  const output = new CfnOutput(scope, `Output${OPTIONAL_STACK_OUTPUTS.recentTasksIndexName}`, {
    value: indexName,
    description: 'Index of recent tasks on the task table (taskq console lists recent tasks from it)',
  });
  output.overrideLogicalId(OPTIONAL_STACK_OUTPUTS.recentTasksIndexName);
  return output;
}
