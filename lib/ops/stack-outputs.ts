/**
 * The deployed stack, read through CloudFormation: its outputs (where the queues, table
 * and bucket are) and the names of its CloudWatch alarms.
 */
import {
  CloudFormationClient,
  DescribeStacksCommand,
  paginateListStackResources,
} from '@aws-sdk/client-cloudformation';
import { clientConfig } from './clients.ts';
import { OpsError, toOpsError } from './errors.ts';
import type { OpsTarget, StackOutputsSource } from './resolve-target.ts';

type Reach = Pick<OpsTarget, 'region' | 'endpoints' | 'credentials'>;

function client(target: Reach): CloudFormationClient {
  return new CloudFormationClient(clientConfig(target, target.endpoints.other));
}

/** The stack's outputs as {OutputKey: OutputValue}. */
export const describeStackOutputs: StackOutputsSource = async (stackName, target) => {
  const cfn = client(target);
  try {
    const result = await cfn.send(new DescribeStacksCommand({ StackName: stackName }));
    const stack = result.Stacks?.[0];
    if (!stack) throw new OpsError('STACK_NOT_FOUND', `no stack named ${stackName}${target.region ? ` in ${target.region}` : ''}`);
    const outputs: Record<string, string> = {};
    for (const output of stack.Outputs ?? []) {
      if (output.OutputKey && output.OutputValue !== undefined) outputs[output.OutputKey] = output.OutputValue;
    }
    return outputs;
  } catch (error) {
    throw toOpsError(error, { resource: `stack ${stackName}`, ...(target.region ? { region: target.region } : {}) });
  } finally {
    cfn.destroy();
  }
};

/** Physical names of the stack's AWS::CloudWatch::Alarm resources. */
export async function listStackAlarmNames(cfn: CloudFormationClient, stackName: string): Promise<string[]> {
  const names: string[] = [];
  for await (const page of paginateListStackResources({ client: cfn }, { StackName: stackName })) {
    for (const resource of page.StackResourceSummaries ?? []) {
      if (resource.ResourceType === 'AWS::CloudWatch::Alarm' && resource.PhysicalResourceId) names.push(resource.PhysicalResourceId);
    }
  }
  return names;
}
