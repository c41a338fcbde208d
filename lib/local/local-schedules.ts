/**
 * The template's EventBridge Scheduler schedules read for the local system: expression,
 * time zone, state, target input and retry policy, with the target and dead-letter queue
 * ARNs resolved to the local queues. Only SQS targets run locally (the TaskQueue's kind).
 */
import { parseScheduleExpression, type ScheduleExpression } from '../protocol/schedule-expression.ts';
import { resolveIntrinsics, type IntrinsicContext } from './intrinsics.ts';
import type { LocalQueue } from './provision.ts';
import type { ScheduleSpec } from './template.ts';

export interface LocalSchedule {
  readonly logicalId: string;
  readonly name: string;
  readonly groupName: string;
  readonly expression: ScheduleExpression;
  readonly timezone: string;
  readonly enabled: boolean;
  readonly description?: string;
  /** The target input, Scheduler's context attributes still in it. */
  readonly input: string;
  readonly queue: LocalQueue;
  readonly deadLetterQueue?: LocalQueue;
  readonly messageGroupId?: string;
  readonly retryAttempts: number;
  readonly maxEventAgeSeconds: number;
}

interface TargetProperties {
  Arn?: string;
  Input?: string;
  DeadLetterConfig?: { Arn?: string };
  RetryPolicy?: { MaximumRetryAttempts?: number; MaximumEventAgeInSeconds?: number };
  SqsParameters?: { MessageGroupId?: string };
}

export function resolveLocalSchedules(specs: readonly ScheduleSpec[], context: IntrinsicContext, queues: readonly LocalQueue[]): LocalSchedule[] {
  return specs.map((spec) => {
    const p = resolveIntrinsics(spec.properties, context, spec.logicalId) as Record<string, unknown>;
    const target = (p.Target ?? {}) as TargetProperties;
    const queue = queues.find((q) => q.arn === target.Arn);
    if (!queue) throw new Error(`${spec.logicalId}: target ${String(target.Arn)} is not a queue of this template (only SQS targets run locally)`);
    const dlqArn = target.DeadLetterConfig?.Arn;
    const deadLetterQueue = dlqArn === undefined ? undefined : queues.find((q) => q.arn === dlqArn);
    if (dlqArn !== undefined && !deadLetterQueue) throw new Error(`${spec.logicalId}: dead-letter queue ${dlqArn} is not a queue of this template`);
    const name = typeof p.Name === 'string' ? p.Name : spec.logicalId;
    return {
      logicalId: spec.logicalId,
      name,
      groupName: typeof p.GroupName === 'string' ? p.GroupName : 'default',
      expression: parseScheduleExpression(String(p.ScheduleExpression)),
      timezone: typeof p.ScheduleExpressionTimezone === 'string' ? p.ScheduleExpressionTimezone : 'UTC',
      enabled: p.State !== 'DISABLED',
      ...(typeof p.Description === 'string' ? { description: p.Description } : {}),
      input: target.Input ?? '',
      queue,
      ...(deadLetterQueue ? { deadLetterQueue } : {}),
      ...(target.SqsParameters?.MessageGroupId ? { messageGroupId: target.SqsParameters.MessageGroupId } : {}),
      // Scheduler's defaults when the policy is absent: 185 retries within 24 hours.
      retryAttempts: target.RetryPolicy?.MaximumRetryAttempts ?? 185,
      maxEventAgeSeconds: target.RetryPolicy?.MaximumEventAgeInSeconds ?? 86_400,
    };
  });
}
