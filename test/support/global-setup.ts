import type { TestProject } from 'vitest/node';
import { startEmulators, type Emulators } from '../../lib/local/emulators.ts';

export interface EmulatorEndpoints {
  sqsEndpoint: string;
  s3Endpoint: string;
  dynamoEndpoint: string;
  dynamoEngine: string;
  region: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    emulators: EmulatorEndpoints;
  }
}

let emulators: Emulators | undefined;

export async function setup(project: TestProject): Promise<void> {
  emulators = await startEmulators({ dynamo: process.env.TASKQ_TEST_DYNAMO === 'dynalite' ? 'dynalite' : 'auto' });
  const { sqsEndpoint, s3Endpoint, dynamoEndpoint, dynamoEngine, region } = emulators;
  project.provide('emulators', { sqsEndpoint, s3Endpoint, dynamoEndpoint, dynamoEngine, region });
}

export async function teardown(): Promise<void> {
  await emulators?.stop();
}
