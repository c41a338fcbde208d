// Sends one welcome_email task per address as one group, with a callback task — a welcome_email
// to ops — that runs once every member has finished, and prints the group's counts when it did.
// Configured like send-welcome-emails.js (stack outputs and the AWS SDK's own variables).
import { TaskProducer } from 'taskq/client';

const producer = new TaskProducer({
  queueUrl: process.env.TASKQ_QUEUE_URL, // stack output QueueUrl
  tableName: process.env.TASKQ_TABLE_NAME, // stack output TableName: the group's counts
});

const addresses = process.argv.slice(2);
try {
  const group = await producer.sendGroup(
    addresses.map((to) => ({ type: 'welcome_email', payload: { to, name: to.split('@')[0] } })),
    { onComplete: { type: 'welcome_email', payload: { to: 'ops@example.com', name: 'ops' } } },
  );
  console.log(`group ${group.groupId}: ${group.total} members sent, ${group.unsent} unsent`);
  const deadline = Date.now() + 60_000;
  for (;;) {
    const status = await producer.getGroupStatus(group.groupId);
    if ((status?.callbackSentAt && status.callback) || Date.now() > deadline) {
      const callback = status?.callback && (await producer.getTaskStatus(status.callback.taskId, { idempotencyKey: status.callback.idempotencyKey }));
      console.log(`group ${status?.status}: ${status?.succeeded} succeeded, ${status?.deadLettered} dead-lettered, callback ${callback?.status ?? 'not sent'}`);
      if (callback?.status === 'SUCCEEDED' || Date.now() > deadline) break;
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
} finally {
  producer.destroy();
}
