/** Example task handlers the default stack deploys, by task type. */
import type { TaskDefinitions } from '../../lib/runtime/index.ts';
import { charge } from './charge.ts';
import { logEvent } from './log_event.ts';
import { sendEmail } from './send_email.ts';
import { webhook } from './webhook.ts';

export const tasks = {
  send_email: sendEmail,
  webhook,
  charge,
  log_event: logEvent,
} satisfies TaskDefinitions;
