/**
 * The stack's alarm states. On AWS: the stack's AWS::CloudWatch::Alarm resources
 * (CloudFormation ListStackResources) and their states (CloudWatch DescribeAlarms), so
 * only this stack's alarms are shown, whatever they are named. Locally: what the local
 * system evaluates and publishes in its state file.
 */
import type { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import type { AlarmState, AlarmValue } from './alarm-state.ts';
import { listStackAlarmNames } from './stack-outputs.ts';

export interface AlarmsView {
  readonly source: 'cloudwatch' | 'local-state' | 'unavailable';
  /** null when unavailable. */
  readonly alarms: readonly AlarmState[] | null;
  readonly note?: string;
}

export type AlarmsSource = () => Promise<AlarmsView>;

export function cloudWatchAlarms(
  cloudFormation: () => Promise<CloudFormationClient>,
  cloudWatch: () => Promise<CloudWatchClient>,
  stackName: string,
): AlarmsSource {
  return async () => {
    const names = await listStackAlarmNames(await cloudFormation(), stackName);
    if (names.length === 0) return { source: 'cloudwatch', alarms: [], note: `stack ${stackName} has no CloudWatch alarms` };
    const { DescribeAlarmsCommand } = await import('@aws-sdk/client-cloudwatch');
    const cw = await cloudWatch();
    const alarms: AlarmState[] = [];
    for (let i = 0; i < names.length; i += 100) {
      const result = await cw.send(new DescribeAlarmsCommand({ AlarmNames: names.slice(i, i + 100), AlarmTypes: ['MetricAlarm', 'CompositeAlarm'] }));
      for (const a of [...(result.MetricAlarms ?? []), ...(result.CompositeAlarms ?? [])]) {
        if (!a.AlarmName || !a.StateValue) continue;
        alarms.push({
          name: a.AlarmName,
          state: a.StateValue as AlarmValue,
          ...(a.StateReason ? { reason: a.StateReason } : {}),
          ...(a.StateUpdatedTimestamp ? { updatedAt: a.StateUpdatedTimestamp.toISOString() } : {}),
        });
      }
    }
    alarms.sort((a, b) => a.name.localeCompare(b.name));
    return { source: 'cloudwatch', alarms };
  };
}

export function localAlarms(alarms: readonly AlarmState[] | undefined): AlarmsSource {
  return async () =>
    alarms === undefined
      ? { source: 'unavailable', alarms: null, note: 'the local system does not publish alarm states in its state file (see its status panel)' }
      : { source: 'local-state', alarms };
}

export const unavailableAlarms =
  (note: string): AlarmsSource =>
  async () => ({ source: 'unavailable', alarms: null, note });
