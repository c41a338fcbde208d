/**
 * The default stack of `npx cdk deploy`: one TaskQueue configured from cdk.json context
 * (`taskq:*` keys, see ./stack-context.ts and docs/CONFIGURATION.md).
 * Environment-agnostic: synthesizes with no AWS account, credentials or region.
 */
import { Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { TaskQueueAlarmOptions, TaskQueueProps } from './props.ts';
import { contextProps } from './stack-context.ts';
import { TaskQueue } from './task-queue.ts';

export interface TaskQueueStackProps extends StackProps {
  /** Props of the task queue; context keys override them. @default {} */
  readonly taskQueue?: TaskQueueProps;
}

export class TaskQueueStack extends Stack {
  readonly taskQueue: TaskQueue;

  constructor(scope: Construct, id: string, props: TaskQueueStackProps = {}) {
    super(scope, id, {
      description: 'taskq: serverless task queue (SQS + Lambda + DynamoDB + S3)',
      ...props,
    });
    const fromContext = contextProps(this.node);
    this.taskQueue = new TaskQueue(this, 'Tasks', {
      ...props.taskQueue,
      ...fromContext,
      alarmOptions: mergeAlarmOptions(props.taskQueue?.alarmOptions, fromContext.alarmOptions),
    });
  }
}

/** Per-alarm merge: a context threshold keeps the period/evaluation periods given in code. */
function mergeAlarmOptions(a: TaskQueueAlarmOptions = {}, b: TaskQueueAlarmOptions = {}): TaskQueueAlarmOptions {
  const merged: Record<string, object> = { ...a };
  for (const [key, value] of Object.entries(b)) {
    merged[key] = { ...(a as Record<string, object | undefined>)[key], ...(value as object) };
  }
  return merged as TaskQueueAlarmOptions;
}
