// Sends one welcome_email task per address given on the command line, then waits until each
// has finished and prints its status. The queue, table and bucket come from the stack
// outputs of the CDK app (see README.md); the AWS SDK's own variables say where AWS is
// (AWS_REGION, credentials, and AWS_ENDPOINT_URL_* for the local system).
import { TaskProducer, TaskValidationError } from 'taskq/client';

const producer = new TaskProducer({
  queueUrl: required('TASKQ_QUEUE_URL'), // stack output QueueUrl
  bucketName: process.env.TASKQ_BUCKET_NAME, // stack output BucketName: claim checks for large payloads
  tableName: process.env.TASKQ_TABLE_NAME, // stack output TableName: getTaskStatus
});

const addresses = process.argv.slice(2);
if (addresses.length === 0) addresses.push('ada@example.com');

try {
  const sent = await producer.sendBatch(addresses.map((to) => ({ type: 'welcome_email', payload: { to, name: to.split('@')[0] } })));
  for (const result of sent) {
    if (!result.ok) {
      console.error(`not sent: ${result.error.code} ${result.error.message}`);
      process.exitCode = 1;
      continue;
    }
    console.log(`accepted ${result.taskId}`);
  }
  for (const result of sent.filter((r) => r.ok)) {
    const status = await waitUntilFinished(result.taskId);
    console.log(`${result.taskId} ${status.status}${status.result ? ` ${JSON.stringify(status.result)}` : ''}${status.deadLetterReason ? ` (${status.deadLetterReason}: ${status.lastError})` : ''}`);
  }
} catch (error) {
  if (error instanceof TaskValidationError) console.error(`invalid task: ${error.code} ${error.message}`);
  else throw error;
  process.exitCode = 1;
} finally {
  producer.destroy();
}

async function waitUntilFinished(taskId, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const status = await producer.getTaskStatus(taskId);
    if (status.status === 'SUCCEEDED' || status.status === 'DEAD_LETTERED' || Date.now() > deadline) return status;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

function required(name) {
  const value = process.env[name];
  if (!value) {
    console.error(`set ${name} (a stack output of the CDK app; locally: npx taskq local prints it)`);
    process.exit(1);
  }
  return value;
}
