#!/usr/bin/env node
/**
 * CDK app entry (cdk.json "app"): the default TaskQueueStack, checked by cdk-nag's
 * AwsSolutions and Serverless packs — any unacknowledged finding (error or warning) fails
 * the synth. The TaskQueue construct acknowledges, with reasons, the findings it
 * deliberately accepts (lib/infra/nag-acknowledgments.ts).
 *
 * An invalid prop or context value is a message for the person running `cdk synth`, not a
 * bug: it is printed alone (no stack trace) and the app exits 1.
 */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { TaskQueueStack } from '../lib/infra/task-queue-stack.ts';
import { TaskQueueContextError } from '../lib/infra/stack-context.ts';
import { TaskQueueValidationError } from '../lib/infra/validation.ts';
import { DEFAULTS } from '../lib/protocol/resources.ts';

try {
  const app = new App();
  new TaskQueueStack(app, DEFAULTS.stackName);
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }), new ServerlessChecks(app, { verbose: true }));
  app.synth();
} catch (error) {
  if (!(error instanceof TaskQueueValidationError || error instanceof TaskQueueContextError)) throw error;
  console.error(error.message);
  // exit now: a CDK App would otherwise synthesize its half-built stacks on beforeExit.
  process.exit(1);
}
