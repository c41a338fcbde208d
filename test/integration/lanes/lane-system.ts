/**
 * A stack with lanes on the emulators, for the lane tests: the TaskQueue synthesized with the
 * given props and its template provisioned (queues, table, routing item), and each lane's
 * consumer configured from its function's environment, as Lambda configures it.
 */
import type { Context, SQSEvent } from 'aws-lambda';
import { Template } from 'aws-cdk-lib/assertions';
import { TaskQueue } from '../../../lib/infra/task-queue.ts';
import type { TaskQueueProps } from '../../../lib/infra/props.ts';
import { provision, type ProvisionedSystem } from '../../../lib/local/provision.ts';
import { readTemplate, type CfnTemplate } from '../../../lib/local/template.ts';
import { LANE_ENV, laneOutputKey } from '../../../lib/protocol/lanes.ts';
import { defineTasks, type TaskDefinitions } from '../../../lib/runtime/index.ts';
import { emulatorEndpoints, testClients } from '../../support/aws.ts';
import { testStack } from '../../infra/helpers.ts';
import { fakeContext, receive, toRecord } from '../runtime/helpers.ts';

const clients = testClients();

/** Synthesizes a TaskQueue with these props and provisions its template on the emulators (again: an update). */
export async function deployLanes(stackName: string, props: TaskQueueProps): Promise<ProvisionedSystem> {
  const stack = testStack({}, stackName);
  new TaskQueue(stack, 'Tasks', props);
  const template = Template.fromStack(stack).toJSON() as CfnTemplate;
  return provision(readTemplate(template, stackName), clients, emulatorEndpoints().region);
}

/** A lane's queue, DLQ and its function's environment. */
export function laneOf(system: ProvisionedSystem, name: string) {
  const out = system.outputs;
  const queueUrl = out[laneOutputKey(name, 'queueUrl')]!;
  const queue = system.queues.find((q) => q.url === queueUrl)!;
  const fn = system.functions.find((f) => f.environment[LANE_ENV.lane] === name)!;
  return { queueUrl, queueArn: queue.arn, deadLetterQueueUrl: out[laneOutputKey(name, 'deadLetterQueueUrl')]!, environment: fn.environment };
}

/** The lane's consumer as deployed; each call takes one batch from its queue, returns how many records it ran. */
export function laneConsumer(system: ProvisionedSystem, name: string, tasks: TaskDefinitions) {
  const l = laneOf(system, name);
  const saved = { ...process.env };
  Object.assign(process.env, l.environment);
  try {
    const handler = defineTasks(tasks, { clients, backoff: { baseSeconds: 1, capSeconds: 60, jitter: 'none' }, logger: { debug() {}, info() {}, warn() {}, error() {} } });
    return async (max = 10): Promise<number> => {
      const messages = await receive(clients.sqs, l.queueUrl, max, 1);
      const event: SQSEvent = { Records: messages.map((m) => toRecord(m, l.queueArn)) };
      if (event.Records.length > 0) await handler(event, fakeContext() as Context);
      return event.Records.length;
    };
  } finally {
    process.env = saved;
  }
}
