/**
 * Alarm states, from CloudWatch for a deployed stack (the stack's own
 * AWS::CloudWatch::Alarm resources) or from the local system's state file when it
 * publishes the alarms it evaluates locally.
 */
import type { LocalState } from '../local/state.ts';

export type AlarmValue = 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';

export interface AlarmState {
  readonly name: string;
  readonly state: AlarmValue;
  readonly reason?: string;
  /** ISO-8601 time of the last state change, when known. */
  readonly updatedAt?: string;
}

const VALUES = new Set<string>(['OK', 'ALARM', 'INSUFFICIENT_DATA']);

/**
 * Reads alarm states from the local state file, tolerating the shapes the local system
 * may write: `alarms: [{name, state, reason?, updatedAt?}]` or `alarms: {name: state | {state, reason}}`.
 * Undefined when the file carries none.
 */
export function readLocalAlarms(state: LocalState): AlarmState[] | undefined {
  const raw = (state as unknown as { alarms?: unknown }).alarms;
  if (raw === undefined || raw === null) return undefined;
  const entries: [string | undefined, unknown][] = Array.isArray(raw)
    ? raw.map((a) => [undefined, a])
    : typeof raw === 'object'
      ? Object.entries(raw as Record<string, unknown>)
      : [];
  const alarms: AlarmState[] = [];
  for (const [key, value] of entries) {
    const v = (typeof value === 'string' ? { state: value } : value) as Record<string, unknown> | null;
    if (!v || typeof v !== 'object') continue;
    const name = typeof v.name === 'string' ? v.name : key;
    const stateValue = typeof v.state === 'string' ? v.state.toUpperCase() : undefined;
    if (!name || !stateValue || !VALUES.has(stateValue)) continue;
    alarms.push({
      name,
      state: stateValue as AlarmValue,
      ...(typeof v.reason === 'string' ? { reason: v.reason } : {}),
      ...(typeof v.updatedAt === 'string' ? { updatedAt: v.updatedAt } : {}),
    });
  }
  return alarms;
}
