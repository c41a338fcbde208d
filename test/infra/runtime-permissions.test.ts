/**
 * The consumer role allows exactly the (action, resource) pairs the consumer uses — every AWS
 * call the runtime makes, on the resource it targets, plus what Lambda itself does with the
 * role — and nothing else.
 *
 * RUNTIME_CALLS declares, for each call site in lib/runtime (file › function › command), the
 * IAM actions it needs and on which resource. It is checked against the source (every
 * `new …Command(` must be declared, nothing declared may be gone, each declared action is the
 * one AWS authorizes that command with) and against the synthesized consumer policy (the
 * pairs must be equal: a missing grant, a grant on the wrong resource and an extra grant all fail).
 */
import { join } from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import { Tracing } from 'aws-cdk-lib/aws-lambda';
import { beforeAll, describe, expect, it } from 'vitest';
import { TaskQueue } from '../../lib/infra/task-queue.ts';
import { DEFAULTS } from '../../lib/protocol/resources.ts';
import { actionsOfCallSite, REPOSITORY_ROOT, sdkCallSites, sourceFiles } from '../support/sdk-call-sites.ts';
import { logicalId, roleStatements, testStack } from './helpers.ts';

/** What the consumer acts on. */
type Target = 'sourceQueue' | 'deadLetterQueue' | 'table' | 'claimObjects' | 'resultObjects' | 'logGroup' | 'anyResource';

type Needs = Partial<Record<Target, readonly string[]>>;

/** Every AWS call site of the runtime, with what it needs and where. */
const RUNTIME_CALLS: Record<string, Needs> = {
  // Dead-lettering with the reason as attributes.
  'lib/runtime/sqs-actions.ts › deadLetter › SendMessage': { deadLetterQueue: ['sqs:SendMessage'] },
  // Retry backoff, re-delays (lease held, not due yet, deadline), releasing a FIFO batch.
  'lib/runtime/sqs-actions.ts › changeVisibility › ChangeMessageVisibilityBatch': { sourceQueue: ['sqs:ChangeMessageVisibility'] },
  // A fresh copy to the source queue: long notBefore hops, records on their last receive,
  // outcome copies carrying a result whose table write was refused.
  'lib/runtime/sqs-actions.ts › resendCopy › SendMessage': { sourceQueue: ['sqs:SendMessage'] },
  // Tasks a rate or concurrency limit refused: fresh copies, ten per call (docs/FLOW-CONTROL.md).
  'lib/runtime/sqs-actions.ts › resendCopies › SendMessageBatch': { sourceQueue: ['sqs:SendMessage'] },
  'lib/runtime/claim-check.ts › fetchClaim › GetObject': { claimObjects: ['s3:GetObject'] },
  'lib/runtime/claim-check.ts › deleteClaims › DeleteObjects': { claimObjects: ['s3:DeleteObject'] },
  // A result too large for the task record.
  'lib/runtime/batch/store-results.ts › storeLargeResults › PutObject': { resultObjects: ['s3:PutObject'] },
  'lib/runtime/task-store.ts › insertMany › BatchExecuteStatement': { table: ['dynamodb:PartiQLInsert'] },
  // Conditional lease takes: acquire on a redelivery, reset on a redrive.
  'lib/runtime/task-store.ts › leaseWrite › UpdateItem': { table: ['dynamodb:UpdateItem'] },
  'lib/runtime/task-store.ts › getMany › BatchGetItem': { table: ['dynamodb:BatchGetItem'] },
  'lib/runtime/task-store.ts › writeMany › BatchWriteItem': { table: ['dynamodb:BatchWriteItem'] },
  'lib/runtime/task-store.ts › putIfStillMine › PutItem': { table: ['dynamodb:PutItem'] },
  // Releasing a lease its acquire created, unless the task was cancelled meanwhile.
  'lib/runtime/task-store.ts › deleteIfStillMine › DeleteItem': { table: ['dynamodb:DeleteItem'] },
  // record mode: SUCCEEDED recorded from an outcome copy.
  'lib/runtime/task-store.ts › writeOne › PutItem': { table: ['dynamodb:PutItem'] },
  'lib/runtime/task-store.ts › putUnlessSucceeded › PutItem': { table: ['dynamodb:PutItem'] },
  'lib/runtime/task-store.ts › markDeadLettered › PutItem': { table: ['dynamodb:PutItem'] },
  // Flow control: a rate-limit token, a concurrency slot taken and released, a debounced task's run taken.
  'lib/runtime/flow/rate-limiter.ts › take › UpdateItem': { table: ['dynamodb:UpdateItem'] },
  'lib/runtime/flow/concurrency-slots.ts › take › UpdateItem': { table: ['dynamodb:UpdateItem'] },
  'lib/runtime/flow/concurrency-slots.ts › release › UpdateItem': { table: ['dynamodb:UpdateItem'] },
  'lib/runtime/flow/debounce.ts › takeRun › UpdateItem': { table: ['dynamodb:UpdateItem'] },
  // Groups: a member counted (its marker Put and the group's counters Updated in one transaction),
  // the group and its prepared callback read, the callback sent (to its lane's queue: here the
  // source queue) and noted as sent.
  'lib/runtime/group-counter.ts › count › TransactWriteItems': { table: ['dynamodb:PutItem', 'dynamodb:UpdateItem'] },
  'lib/runtime/group-counter.ts › read › BatchGetItem': { table: ['dynamodb:BatchGetItem'] },
  'lib/runtime/group-counter.ts › markSent › UpdateItem': { table: ['dynamodb:UpdateItem'] },
  'lib/runtime/sqs-actions.ts › sendMessage › SendMessage': { sourceQueue: ['sqs:SendMessage'] },
};

/** Calls made with the consumer's role by Lambda itself, not by our code. */
const PLATFORM_CALLS: Record<string, Needs> = {
  // The event source mapping polls and deletes with the function's role (Lambda's documented
  // execution-role permissions for SQS: ReceiveMessage, DeleteMessage, GetQueueAttributes).
  'SQS event source mapping': { sourceQueue: ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes'] },
  'Lambda logging (its own log group)': { logGroup: ['logs:CreateLogStream', 'logs:PutLogEvents'] },
};

/** With `tracing: ACTIVE` only. X-Ray supports no resource-level permissions for these actions. */
const TRACING_CALLS: Record<string, Needs> = {
  'Lambda active tracing': { anyResource: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'] },
};

const RUNTIME_FILES = sourceFiles(join(REPOSITORY_ROOT, 'lib/runtime'));

let resourceOf: Record<Target, string>;
let granted: string[];
let grantedWithTracing: string[];

/** `action on resource` pairs of a Needs table, with resources as the template writes them. */
function pairs(table: Record<string, Needs>): string[] {
  return Object.values(table).flatMap((needs) =>
    Object.entries(needs).flatMap(([target, actions]) => actions!.map((action) => `${action} on ${resourceOf[target as Target]}`)),
  );
}

/** Every `action on resource` pair the consumer role of `template` allows. */
function consumerPairs(template: Template): string[] {
  const statements = roleStatements(template, logicalId(template, 'AWS::IAM::Role', 'TasksConsumerRole'));
  for (const s of statements) expect(s.effect, JSON.stringify(s.raw)).toBe('Allow');
  return [...new Set(statements.flatMap((s) => s.actions.flatMap((a) => s.resources.map((r) => `${a} on ${r}`))))].sort();
}

beforeAll(() => {
  const stack = testStack();
  new TaskQueue(stack, 'Tasks');
  const template = Template.fromStack(stack);
  const arn = (id: string) => `\${${id}.Arn}`;
  resourceOf = {
    sourceQueue: arn(logicalId(template, 'AWS::SQS::Queue', 'TasksQueue')),
    deadLetterQueue: arn(logicalId(template, 'AWS::SQS::Queue', 'TasksDeadLetterQueue')),
    table: arn(logicalId(template, 'AWS::DynamoDB::Table')),
    claimObjects: `${arn(logicalId(template, 'AWS::S3::Bucket'))}/${DEFAULTS.claimPrefix}*`,
    resultObjects: `${arn(logicalId(template, 'AWS::S3::Bucket'))}/${DEFAULTS.resultPrefix}*`,
    logGroup: arn(logicalId(template, 'AWS::Logs::LogGroup')),
    anyResource: '*',
  };
  granted = consumerPairs(template);
  const traced = testStack();
  new TaskQueue(traced, 'Tasks', { tracing: Tracing.ACTIVE });
  grantedWithTracing = consumerPairs(Template.fromStack(traced));
});

describe('RUNTIME_CALLS matches the runtime source', () => {
  const sites = sdkCallSites(RUNTIME_FILES);

  it('finds the call sites it checks', () => {
    expect(sites.length).toBeGreaterThanOrEqual(10);
    expect(sites.map((s) => s.id)).toContain('lib/runtime/sqs-actions.ts › resendCopy › SendMessage');
  });

  it('every AWS call of the runtime is declared (a new call must say what it needs, and where)', () => {
    const declared = new Set(Object.keys(RUNTIME_CALLS));
    expect(sites.map((s) => s.id).filter((id) => !declared.has(id))).toEqual([]);
  });

  it('nothing declared is gone from the source', () => {
    const found = new Set(sites.map((s) => s.id));
    expect(Object.keys(RUNTIME_CALLS).filter((id) => !found.has(id))).toEqual([]);
  });

  it('each declared action is the one AWS authorizes that command with', () => {
    for (const site of sites) {
      const declared = Object.values(RUNTIME_CALLS[site.id] ?? {}).flat().sort();
      expect(declared, site.id).toEqual(actionsOfCallSite(site));
    }
  });
});

describe('the consumer role allows exactly what the consumer does', () => {
  it('every (action, resource) pair it needs is granted, and no other', () => {
    const needed = [...new Set([...pairs(RUNTIME_CALLS), ...pairs(PLATFORM_CALLS)])].sort();
    expect(granted).toEqual(needed);
  });

  it('with tracing: ACTIVE, the same plus X-Ray trace upload (resource "*")', () => {
    const needed = [...new Set([...pairs(RUNTIME_CALLS), ...pairs(PLATFORM_CALLS), ...pairs(TRACING_CALLS)])].sort();
    expect(grantedWithTracing).toEqual(needed);
  });

  it('re-sends to its own source queue are allowed (the runtime sends fresh copies there)', () => {
    expect(granted).toContain(`sqs:SendMessage on ${resourceOf.sourceQueue}`);
  });
});

describe('with lanes, each lane consumer role allows exactly what its consumer does', () => {
  /** Forwarding a record of another lane's type: resendCopy to that lane's queue (lib/runtime/lane-routing.ts). */
  const FORWARDING = ['sqs:SendMessage'];

  it('on its own queue, DLQ and log group, plus forwarding to every other lane (and the default) queue, and no other', () => {
    const stack = testStack();
    new TaskQueue(stack, 'Tasks', { lanes: { critical: { types: ['password_reset'] }, bulk: { types: ['analytics'] } } });
    const template = Template.fromStack(stack);
    const arn = (id: string) => `\${${id}.Arn}`;
    const queues: Record<string, { queue: string; dlq: string; role: string; logGroup: string }> = {};
    for (const [lane, prefix] of [['default', 'Tasks'], ['critical', 'TasksLaneCritical'], ['bulk', 'TasksLaneBulk']] as const) {
      queues[lane] = {
        queue: arn(logicalId(template, 'AWS::SQS::Queue', `${prefix}Queue`)),
        dlq: arn(logicalId(template, 'AWS::SQS::Queue', `${prefix}DeadLetterQueue`)),
        role: logicalId(template, 'AWS::IAM::Role', `${prefix}ConsumerRole`),
        logGroup: arn(logicalId(template, 'AWS::Logs::LogGroup', `${prefix}ConsumerLogs`)),
      };
    }
    for (const [lane, own] of Object.entries(queues)) {
      resourceOf = { ...resourceOf, sourceQueue: own.queue, deadLetterQueue: own.dlq, logGroup: own.logGroup };
      const forwarding = Object.entries(queues)
        .filter(([other]) => other !== lane)
        .flatMap(([, q]) => FORWARDING.map((action) => `${action} on ${q.queue}`));
      const needed = [...new Set([...pairs(RUNTIME_CALLS), ...pairs(PLATFORM_CALLS), ...forwarding])].sort();
      const statements = roleStatements(template, own.role);
      const grantedPairs = [...new Set(statements.flatMap((s) => s.actions.flatMap((a) => s.resources.map((r) => `${a} on ${r}`))))].sort();
      expect(grantedPairs, lane).toEqual(needed);
    }
  });
});
