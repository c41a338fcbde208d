/**
 * Lambda entry of the completion-events function (TaskQueueProps.completionEvents): the task
 * table's stream → EventBridge. Configured by the construct through COMPLETION_EVENTS_ENV;
 * bundled by esbuild with its EventBridge client.
 */
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { COMPLETION_EVENTS_ENV, DEFAULT_COMPLETION_EVENT_SOURCE } from '../protocol/completion-events.ts';
import { createStreamHandler } from './stream-handler.ts';

const eventBusName = process.env[COMPLETION_EVENTS_ENV.eventBus];
if (!eventBusName) throw new Error(`${COMPLETION_EVENTS_ENV.eventBus} is not set: the completion-events function is configured by the TaskQueue construct`);

export const handler = createStreamHandler({
  eventBusName,
  source: process.env[COMPLETION_EVENTS_ENV.source] || DEFAULT_COMPLETION_EVENT_SOURCE,
  sender: () => new EventBridgeClient({}),
});
