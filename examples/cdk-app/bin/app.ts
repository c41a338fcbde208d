/**
 * The CDK app (cdk.json "app"): one stack with a task queue whose consumer runs the task
 * handlers of src/tasks.ts. `npx cdk deploy` deploys it; `npx taskq local` runs it locally.
 */
import { App, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { TaskQueue } from 'taskq/cdk';

const app = new App();
const stack = new Stack(app, 'ExampleTasksStack');

const tasks = new TaskQueue(stack, 'Tasks', {
  consumerEntry: 'src/tasks.ts', // relative to this folder, where cdk runs
  removalPolicy: RemovalPolicy.DESTROY, // a demo stack: delete its table and bucket with it
});

// Give your API's role what a producer needs:
//   tasks.grantSend(apiFunction);        // SendMessage, claim-check upload
//   tasks.grantStatusRead(apiFunction);  // getTaskStatus
void tasks;
