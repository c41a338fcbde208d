/**
 * Runs the local emulators (fauxqs for SQS + S3, DynamoDB Local) in a child process of its
 * own, so the CPU the emulators burn is not counted in the benchmark process's
 * process.cpuUsage() — a real Lambda does not host SQS either.
 *
 * Protocol: prints one JSON line {sqsEndpoint, s3Endpoint, dynamoEndpoint, dynamoEngine,
 * region} on stdout when ready; stops the emulators on SIGTERM / SIGINT or when stdin closes.
 */
import { startEmulators } from '../../lib/local/emulators.ts';

const emulators = await startEmulators({ dynamo: process.env.TASKQ_BENCH_DYNAMO === 'dynalite' ? 'dynalite' : 'auto' });
const { sqsEndpoint, s3Endpoint, dynamoEndpoint, dynamoEngine, region } = emulators;
process.stdout.write(JSON.stringify({ sqsEndpoint, s3Endpoint, dynamoEndpoint, dynamoEngine, region }) + '\n');

let stopping = false;
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  await emulators.stop();
  process.exit(0);
}
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
process.stdin.on('end', () => void stop());
process.stdin.on('close', () => void stop());
process.stdin.resume();
