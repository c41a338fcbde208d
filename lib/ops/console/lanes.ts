/**
 * The lanes the console shows: each a source queue and its DLQ. Today a stack has one lane,
 * the default one, named by the stack outputs (or the flags); the overview is a list so that
 * stacks with several lanes show one entry per lane.
 */
import { OpsError } from '../errors.ts';
import type { OpsTarget } from '../resolve-target.ts';

export interface Lane {
  /** Stable name used in the console's URLs. */
  readonly name: string;
  readonly queueUrl: string;
  readonly deadLetterQueueUrl: string;
  readonly queueArn?: string;
  readonly deadLetterQueueArn?: string;
}

export const DEFAULT_LANE = 'default';

export function lanesOf(target: OpsTarget): Lane[] {
  const r = target.resources;
  if (!r.queueUrl || !r.deadLetterQueueUrl) return [];
  return [
    {
      name: DEFAULT_LANE,
      queueUrl: r.queueUrl,
      deadLetterQueueUrl: r.deadLetterQueueUrl,
      ...(r.queueArn ? { queueArn: r.queueArn } : {}),
      ...(r.deadLetterQueueArn ? { deadLetterQueueArn: r.deadLetterQueueArn } : {}),
    },
  ];
}

export function laneNamed(lanes: readonly Lane[], name: string): Lane {
  const lane = lanes.find((l) => l.name === name);
  if (!lane) throw new OpsError('MISSING_RESOURCE', `no lane named ${JSON.stringify(name)} (lanes: ${lanes.map((l) => l.name).join(', ') || 'none'})`);
  return lane;
}
