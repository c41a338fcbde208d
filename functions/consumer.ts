/**
 * The deployed consumer: the example task definitions → the Lambda handler. Configuration
 * (table, queues, bucket, claim prefix, metrics namespace) comes from the environment the
 * TaskQueue construct sets (lib/protocol/resources.ts ENV). Bundled by esbuild.
 */
import { defineTasks } from '../lib/runtime/index.ts';
import { tasks } from './tasks/index.ts';

export const handler = defineTasks(tasks);
