/** A local system's state (what `npm start` writes) pointing at the test run's emulators and a test's resources; pid = this (live) process. */
import type { LocalState } from '../../lib/local/state.ts';
import { STACK_OUTPUTS } from '../../lib/protocol/resources.ts';
import { emulatorEndpoints, type TestResources } from './aws.ts';

export function localStateFor(r: TestResources, stackName = 'TaskQueueStack'): LocalState {
  const e = emulatorEndpoints();
  return {
    pid: process.pid,
    startedAt: new Date().toISOString(),
    region: e.region,
    sqsEndpoint: e.sqsEndpoint,
    s3Endpoint: e.s3Endpoint,
    dynamoEndpoint: e.dynamoEndpoint,
    dynamoEngine: e.dynamoEngine,
    stackName,
    outputs: {
      [STACK_OUTPUTS.queueUrl]: r.queueUrl,
      [STACK_OUTPUTS.queueArn]: r.queueArn,
      [STACK_OUTPUTS.deadLetterQueueUrl]: r.deadLetterQueueUrl,
      [STACK_OUTPUTS.deadLetterQueueArn]: r.deadLetterQueueArn,
      [STACK_OUTPUTS.tableName]: r.tableName,
      [STACK_OUTPUTS.bucketName]: r.bucketName,
    },
  };
}
