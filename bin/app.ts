#!/usr/bin/env node
/**
 * CDK app entry (cdk.json "app"): the default TaskQueueStack, checked by cdk-nag's
 * AwsSolutions and Serverless packs — any unacknowledged finding (error or warning) fails
 * the synth. The TaskQueue construct acknowledges, with reasons, the findings it
 * deliberately accepts (lib/infra/nag-acknowledgments.ts).
 */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { TaskQueueStack } from '../lib/infra/task-queue-stack.ts';
import { DEFAULTS } from '../lib/protocol/resources.ts';

const app = new App();
new TaskQueueStack(app, DEFAULTS.stackName);
Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }), new ServerlessChecks(app, { verbose: true }));
app.synth();
