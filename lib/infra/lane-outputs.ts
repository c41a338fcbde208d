/**
 * Stack outputs of the named lanes: `<Lane>Lane<Key>` (`BulkLaneQueueUrl`, …; laneOutputKey),
 * so the CLI's `--lane bulk` and producers find a lane's resources by its name.
 */
import { CfnOutput } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { LANE_OUTPUT_KEYS, laneOutputKey, type LaneOutputKey } from '../protocol/lanes.ts';
import type { Lane } from './lane.ts';

const DESCRIPTIONS: Record<LaneOutputKey, string> = {
  queueUrl: 'URL of the queue',
  queueArn: 'ARN of the queue',
  deadLetterQueueUrl: 'URL of the dead-letter queue',
  deadLetterQueueArn: 'ARN of the dead-letter queue',
  consumerFunctionName: 'Consumer Lambda function',
  consumerLogGroupName: 'Log group of the consumer',
};

export function createLaneOutputs(scope: Construct, lanes: readonly Lane[]): void {
  for (const lane of lanes) {
    const values: Record<LaneOutputKey, string> = {
      queueUrl: lane.queue.queueUrl,
      queueArn: lane.queue.queueArn,
      deadLetterQueueUrl: lane.deadLetterQueue.queueUrl,
      deadLetterQueueArn: lane.deadLetterQueue.queueArn,
      consumerFunctionName: lane.consumer.functionName,
      consumerLogGroupName: lane.consumerLogGroup.logGroupName,
    };
    for (const key of LANE_OUTPUT_KEYS) {
      const id = laneOutputKey(lane.name, key);
      const output = new CfnOutput(scope, `Output${id}`, { value: values[key], description: `Lane ${lane.name}: ${DESCRIPTIONS[key]}` });
      output.overrideLogicalId(id);
    }
  }
}
