/**
 * A stand-in for the two AWS services the CLI reads that have no emulator: CloudFormation
 * (DescribeStacks, ListStackResources) and CloudWatch (DescribeAlarms, GetMetricData).
 * Added to an SDK client as a middleware that runs after the IAM check and answers instead
 * of the network — from the synthesized default stack (its alarms) and the outputs a test
 * registered for a stack name (registerStack), so the CLI's AWS path runs end to end.
 * Alarm states are OK and the oldest-message age is STAND_IN_OLDEST_AGE_SECONDS: they
 * show that the CLI reports what CloudWatch answered, nothing about a real account.
 */
import { stackOutputs } from '../iam/resource-roles.ts';
import { addInitializeMiddlewareOnce, type CallInput, type MiddlewareClient } from '../sdk-middleware.ts';
import { VARIANTS, policyModels } from '../iam/synthesized-policies.ts';

export const STAND_IN_OLDEST_AGE_SECONDS = 42;

class StandInError extends Error {
  readonly $fault = 'client';
  readonly $metadata = { httpStatusCode: 400 };

  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}

function defaultStack() {
  const model = policyModels().find((m) => m.variant === VARIANTS.plain);
  if (!model) throw new Error('no synthesized default stack');
  return model;
}

function stackOrThrow(name: string): Record<string, string> {
  const outputs = stackOutputs(name);
  if (!outputs) throw new StandInError('ValidationError', `Stack with id ${name} does not exist`);
  return outputs;
}

/** The answer to a call, or undefined when the stand-in does not serve it (it goes to the network). */
export function standInAnswer(clientName: string, command: string, input: CallInput): Record<string, unknown> | undefined {
  const now = new Date();
  if (clientName === 'CloudFormationClient') {
    switch (command) {
      case 'DescribeStacksCommand': {
        const outputs = stackOrThrow(input.StackName);
        return {
          Stacks: [
            {
              StackName: input.StackName,
              StackId: `arn:aws:cloudformation:us-east-1:000000000000:stack/${input.StackName}/stand-in`,
              StackStatus: 'CREATE_COMPLETE',
              CreationTime: now,
              Outputs: Object.entries(outputs).map(([OutputKey, OutputValue]) => ({ OutputKey, OutputValue })),
            },
          ],
        };
      }
      case 'ListStackResourcesCommand':
        stackOrThrow(input.StackName);
        return {
          StackResourceSummaries: defaultStack().alarms.map((a) => ({
            LogicalResourceId: a.logicalId,
            PhysicalResourceId: a.name,
            ResourceType: 'AWS::CloudWatch::Alarm',
            ResourceStatus: 'CREATE_COMPLETE',
            LastUpdatedTimestamp: now,
          })),
        };
      default:
        return undefined;
    }
  }
  if (clientName === 'CloudWatchClient') {
    switch (command) {
      case 'DescribeAlarmsCommand': {
        const known = new Set(defaultStack().alarms.map((a) => a.name));
        const names: string[] = (input.AlarmNames ?? [...known]).filter((n: string) => known.has(n));
        return {
          MetricAlarms: names.map((AlarmName) => ({ AlarmName, StateValue: 'OK', StateReason: 'stand-in: no datapoints breach the threshold', StateUpdatedTimestamp: now })),
          CompositeAlarms: [],
        };
      }
      case 'GetMetricDataCommand':
        return {
          MetricDataResults: (input.MetricDataQueries ?? []).map((q: { Id: string }) => ({
            Id: q.Id,
            StatusCode: 'Complete',
            Timestamps: [now],
            Values: [STAND_IN_OLDEST_AGE_SECONDS],
          })),
        };
      default:
        return undefined;
    }
  }
  return undefined;
}

/** Makes a client's CloudFormation / CloudWatch calls answered by the stand-in (after the IAM check). */
export function answerControlPlane<C extends MiddlewareClient>(client: C): C {
  return addInitializeMiddlewareOnce(client, 'taskqControlPlaneStandIn', 'low', (next, context) => async (args) => {
    const answer = standInAnswer(context.clientName ?? '', context.commandName ?? '', args.input);
    if (answer === undefined) return next(args);
    return { output: { $metadata: { httpStatusCode: 200 }, ...answer }, response: {} };
  });
}
