/**
 * Where `stats` gets what SQS's GetQueueAttributes cannot tell: the age of the oldest
 * message and the alarm states, chosen by how the target was resolved.
 */
import type { OpsClients } from './clients.ts';
import { cloudWatchAlarms, localAlarms, unavailableAlarms, type AlarmsSource } from './alarms.ts';
import { cloudWatchOldestAge, emulatorOldestAge, type OldestAgeSource } from './oldest-age.ts';
import type { OpsTarget } from './resolve-target.ts';

export function oldestAgeSourceFor(target: OpsTarget, clients: OpsClients): OldestAgeSource {
  if (target.mode === 'local' && target.endpoints.sqs) return emulatorOldestAge(target.endpoints.sqs);
  const cloudWatch = cloudWatchOldestAge(() => clients.cloudWatch());
  if (target.endpoints.sqs) {
    // A custom endpoint: an emulator that can be inspected, else whatever CloudWatch the endpoint serves.
    const emulator = emulatorOldestAge(target.endpoints.sqs);
    return async (queueUrl) => {
      const fromEmulator = await emulator(queueUrl);
      return fromEmulator.source === 'emulator' ? fromEmulator : cloudWatch(queueUrl);
    };
  }
  return cloudWatch;
}

export function alarmsSourceFor(target: OpsTarget, clients: OpsClients, stackName: string | undefined): AlarmsSource {
  if (target.mode === 'local') return localAlarms(target.localAlarms);
  const stack = stackName ?? target.stackName;
  if (!stack) return unavailableAlarms('resources were given by flags: pass --stack to read the stack\'s alarms');
  return cloudWatchAlarms(() => clients.cloudFormation(), () => clients.cloudWatch(), stack);
}
