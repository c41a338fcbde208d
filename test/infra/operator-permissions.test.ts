/**
 * The operator grants cover the `taskq` CLI — every AWS call it can make, on the resource it
 * targets — and nothing else:
 *
 * - `grantOperate` allows every call of every command (send, status, stats, dlq peek /
 *   redrive / purge, and resolving resources from the stack outputs), exactly;
 * - `grantOperatorRead` allows every call of the read-only commands (stats, status, the stack
 *   lookup) and only read-only actions (`dlq peek` receives messages: not read-only);
 * - `grantRedrive` still covers the DLQ commands when the queues are named by flags.
 *
 * `taskq console` runs the same actions as the other commands (stats, status, cancel,
 * schedules, dlq), plus a Query on the task table's recent-tasks index when the construct has one (`recentTasksIndex`; the stacks here
 * have it, and a stack without it grants no Query at all).
 *
 * OPERATOR_CALLS declares each call site of the CLI's code (bin/taskq.ts and everything it
 * imports: lib/ops, lib/client, …) — file › function › command, read with the TypeScript
 * parser — with the IAM actions it needs, where, and which commands run it. It is checked
 * against the source (nothing undeclared, nothing stale, the action AWS authorizes each
 * command with) and against the synthesized policies of roles given each grant.
 */
import { join } from 'node:path';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { ACTIONS } from '../../lib/infra/permissions.ts';
import { SCHEDULE_ACTIONS } from '../../lib/infra/schedule-permissions.ts';
import { TaskQueue } from '../../lib/infra/task-queue.ts';
import { DEFAULTS, RECENT_TASKS_INDEX } from '../../lib/protocol/resources.ts';
import { actionsOfCallSite, importClosure, REPOSITORY_ROOT, sdkCallSites } from '../support/sdk-call-sites.ts';
import { logicalId, roleStatements, testApp, testStack, type Statement } from './helpers.ts';

type Target = 'sourceQueue' | 'deadLetterQueue' | 'table' | 'recentTasksIndex' | 'claimObjects' | 'resultObjects' | 'stack' | 'alarms' | 'schedules' | 'scheduleRole' | 'anyResource';
type Needs = Partial<Record<Target, readonly string[]>>;
type Command = 'send' | 'status' | 'group' | 'cancel' | 'stats' | 'dlq peek' | 'dlq redrive' | 'dlq purge' | 'console' | 'schedules' | 'schedules pause' | 'schedules resume';

interface CallSite {
  readonly commands: readonly Command[];
  /** The command's own action, by target. */
  readonly needs: Needs;
  /** What AWS then does with the caller's permissions (a message-move task). */
  readonly thenAsCaller?: Needs;
  /** Runs against the local emulators only, never AWS (not granted). */
  readonly localOnly?: true;
}

const ALL: readonly Command[] = ['send', 'status', 'group', 'cancel', 'stats', 'dlq peek', 'dlq redrive', 'dlq purge', 'console', 'schedules', 'schedules pause', 'schedules resume'];
const READ_ONLY_COMMANDS: readonly Command[] = ['stats', 'status', 'schedules'];
/** Actions that change nothing: the only ones grantOperatorRead may give. */
const READ_ONLY_ACTIONS = new Set([
  'sqs:GetQueueAttributes',
  'dynamodb:GetItem',
  's3:GetObject',
  'dynamodb:Query',
  'cloudformation:DescribeStacks',
  'cloudformation:ListStackResources',
  'cloudwatch:DescribeAlarms',
  'cloudwatch:GetMetricData',
  'kms:Decrypt',
  'scheduler:GetSchedule',
]);

const OPERATOR_CALLS: Record<string, CallSite> = {
  // Resolving --stack outputs: every command, unless flags name what it needs.
  'lib/ops/stack-outputs.ts › describeStackOutputs › DescribeStacks': { commands: ALL, needs: { stack: ['cloudformation:DescribeStacks'] } },
  // send: the producer SDK (claim check above the threshold; backpressure only with maxBacklog).
  'lib/client/task-producer.ts › sendPrepared › SendMessage': { commands: ['send'], needs: { sourceQueue: ['sqs:SendMessage'] } },
  // The send option dedupe (the CLI does not set it, but grantOperate includes grantSend, which allows it).
  'lib/client/dedupe.ts › release › UpdateItem': { commands: ['send'], needs: { table: ['dynamodb:UpdateItem'] } },
  'lib/client/dedupe.ts › once › UpdateItem': { commands: ['send'], needs: { table: ['dynamodb:UpdateItem'] } },
  'lib/client/dedupe.ts › debounce › UpdateItem': { commands: ['send'], needs: { table: ['dynamodb:UpdateItem'] } },
  'lib/client/task-producer.ts › sendEntries › SendMessageBatch': { commands: ['send'], needs: { sourceQueue: ['sqs:SendMessage'] } },
  'lib/client/claim-check.ts › apply › PutObject': { commands: ['send'], needs: { claimObjects: ['s3:PutObject'] } },
  'lib/client/backpressure.ts › refresh › GetQueueAttributes': { commands: ['send'], needs: { sourceQueue: ['sqs:GetQueueAttributes'] } },
  // The producer's routing read (routing: true; lanes): no CLI command routes (send names its queue).
  'lib/client/routing.ts › read › GetItem': { commands: [], needs: { table: ['dynamodb:GetItem'] } },
  // sendGroup (no CLI command sends a group, but grantOperate includes grantSend, which allows it); `taskq group` reads one.
  'lib/client/task-group.ts › create › TransactWriteItems': { commands: [], needs: { table: ['dynamodb:PutItem'] } },
  'lib/client/task-group.ts › status › GetItem': { commands: ['group'], needs: { table: ['dynamodb:GetItem'] } },
  // status (and the console's task result)
  'lib/client/task-status.ts › get › GetItem': { commands: ['status', 'console'], needs: { table: ['dynamodb:GetItem'] } },
  // status shows a result stored in S3 (too large for the record)
  'lib/client/task-result.ts › readRef › GetObject': { commands: ['status', 'console'], needs: { resultObjects: ['s3:GetObject'] } },
  // cancel: one conditional update of the task's record
  'lib/client/task-cancel.ts › cancel › UpdateItem': { commands: ['cancel', 'console'], needs: { table: ['dynamodb:UpdateItem'] } },
  // stats (and purge counts the DLQ before purging)
  'lib/ops/stats.ts › queueCounts › GetQueueAttributes': { commands: ['stats', 'dlq purge', 'console'], needs: { sourceQueue: ['sqs:GetQueueAttributes'], deadLetterQueue: ['sqs:GetQueueAttributes'] } },
  'lib/ops/oldest-age.ts › cloudWatchOldestAge › GetMetricData': { commands: ['stats', 'console'], needs: { anyResource: ['cloudwatch:GetMetricData'] } },
  'lib/ops/stack-outputs.ts › listStackAlarmNames › ListStackResources': { commands: ['stats', 'console'], needs: { stack: ['cloudformation:ListStackResources'] } },
  'lib/ops/alarms.ts › cloudWatchAlarms › DescribeAlarms': { commands: ['stats', 'console'], needs: { alarms: ['cloudwatch:DescribeAlarms'] } },
  // dlq peek / redrive: receive with a hold, release
  'lib/ops/dlq-messages.ts › receiveDeadLetters › ReceiveMessage': { commands: ['dlq peek', 'dlq redrive', 'console'], needs: { deadLetterQueue: ['sqs:ReceiveMessage'] } },
  'lib/ops/dlq-messages.ts › releaseMessages › ChangeMessageVisibilityBatch': { commands: ['dlq peek', 'dlq redrive', 'console'], needs: { deadLetterQueue: ['sqs:ChangeMessageVisibility'] } },
  // dlq redrive
  'lib/ops/dlq-redrive.ts › attributes › GetQueueAttributes': { commands: ['dlq redrive', 'console'], needs: { deadLetterQueue: ['sqs:GetQueueAttributes'], sourceQueue: ['sqs:GetQueueAttributes'] } },
  'lib/ops/dlq-redrive.ts › tryMoveTask › StartMessageMoveTask': {
    commands: ['dlq redrive'],
    needs: { deadLetterQueue: ['sqs:StartMessageMoveTask'] },
    // SQS moves the messages with the caller's permissions: receive/delete/read the DLQ, send to the source.
    thenAsCaller: { deadLetterQueue: ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes'], sourceQueue: ['sqs:SendMessage'] },
  },
  'lib/ops/dlq-redrive.ts › tryMoveTask › CancelMessageMoveTask': { commands: ['dlq redrive'], needs: { deadLetterQueue: ['sqs:CancelMessageMoveTask'] } },
  'lib/ops/dlq-redrive.ts › tryMoveTask › ListMessageMoveTasks': { commands: ['dlq redrive'], needs: { deadLetterQueue: ['sqs:ListMessageMoveTasks'] } },
  'lib/ops/dlq-redrive.ts › receiveSendDelete › SendMessageBatch': { commands: ['dlq redrive', 'console'], needs: { sourceQueue: ['sqs:SendMessage'] } },
  'lib/ops/dlq-redrive.ts › deleteMessages › DeleteMessageBatch': { commands: ['dlq redrive', 'console'], needs: { deadLetterQueue: ['sqs:DeleteMessage'] } },
  // console: a task by id or key, processed/failed per minute, recent tasks from the index
  'lib/ops/console/task-lookup.ts › lookUpTask › GetItem': { commands: ['console'], needs: { table: ['dynamodb:GetItem'] } },
  'lib/ops/console/task-rates.ts › cloudWatchRates › GetMetricData': { commands: ['console'], needs: { anyResource: ['cloudwatch:GetMetricData'] } },
  'lib/ops/console/recent-tasks.ts › recentTasks › Query': { commands: ['console'], needs: { recentTasksIndex: ['dynamodb:Query'] } },
  // schedules: names from the stack's resources, each schedule read; pause / resume update it
  // (UpdateSchedule passes the schedules' role back: iam:PassRole is checked with the caller's permissions).
  'lib/ops/schedules.ts › scheduleNames › ListStackResources': { commands: ['schedules', 'console'], needs: { stack: ['cloudformation:ListStackResources'] } },
  'lib/ops/schedules.ts › listSchedules › GetSchedule': { commands: ['schedules', 'schedules pause', 'schedules resume', 'console'], needs: { schedules: ['scheduler:GetSchedule'] } },
  'lib/ops/schedules.ts › setScheduleState › GetSchedule': { commands: ['schedules pause', 'schedules resume', 'console'], needs: { schedules: ['scheduler:GetSchedule'] } },
  'lib/ops/schedules.ts › setScheduleState › UpdateSchedule': {
    commands: ['schedules pause', 'schedules resume', 'console'],
    needs: { schedules: ['scheduler:UpdateSchedule'] },
    thenAsCaller: { scheduleRole: ['iam:PassRole'] },
  },
  // dlq purge
  'lib/ops/dlq-purge.ts › purgeDeadLetters › PurgeQueue': { commands: ['dlq purge', 'console'], needs: { deadLetterQueue: ['sqs:PurgeQueue'] } },
  // Imported for its credentials constant; only `npm start` waits for DynamoDB Local with it.
  'lib/local/emulators.ts › waitForDynamo › ListTables': { commands: [], needs: {}, localOnly: true },
  // `taskq local` (lib/local/run-local.ts) creates and serves the app's resources on the
  // emulators it starts on this machine: these calls never reach AWS.
  'lib/local/demo.ts › waitForQueueEmpty › GetQueueAttributes': { commands: [], needs: {}, localOnly: true },
  'lib/local/demo.ts › countClaims › ListObjectsV2': { commands: [], needs: {}, localOnly: true },
  'lib/local/event-source-poller.ts › gather › ReceiveMessage': { commands: [], needs: {}, localOnly: true },
  'lib/local/event-source-poller.ts › deleteMessages › DeleteMessageBatch': { commands: [], needs: {}, localOnly: true },
  'lib/local/metrics.ts › readQueue › GetQueueAttributes': { commands: [], needs: {}, localOnly: true },
  'lib/local/provision.ts › provision › CreateQueue': { commands: [], needs: {}, localOnly: true },
  'lib/local/provision.ts › provision › SetQueueAttributes': { commands: [], needs: {}, localOnly: true },
  'lib/local/provision.ts › provision › CreateTable': { commands: [], needs: {}, localOnly: true },
  'lib/local/provision.ts › provision › UpdateTimeToLive': { commands: [], needs: {}, localOnly: true },
  'lib/local/provision.ts › provision › CreateBucket': { commands: [], needs: {}, localOnly: true },
  'lib/local/provision.ts › queueArn › GetQueueAttributes': { commands: [], needs: {}, localOnly: true },
  'lib/local/provision.ts › waitForTableActive › DescribeTable': { commands: [], needs: {}, localOnly: true },
  // Provisioning again keeps an existing table; the routing item (lanes) is written as the stack's custom resource does.
  'lib/local/provision.ts › provision › DescribeTable': { commands: [], needs: {}, localOnly: true },
  'lib/local/provision.ts › provision › PutItem': { commands: [], needs: {}, localOnly: true },
  'lib/local/local-scheduler.ts › fire › SendMessage': { commands: [], needs: {}, localOnly: true },
  'lib/local/local-scheduler.ts › deadLetter › SendMessage': { commands: [], needs: {}, localOnly: true },
  // Completion events locally: the template's stream mapping reads DynamoDB Local's stream; an abandoned batch goes to its on-failure queue.
  'lib/local/stream-poller.ts › tick › GetRecords': { commands: [], needs: {}, localOnly: true },
  'lib/local/stream-poller.ts › discoverShards › DescribeStream': { commands: [], needs: {}, localOnly: true },
  'lib/local/stream-poller.ts › discoverShards › GetShardIterator': { commands: [], needs: {}, localOnly: true },
  'lib/local/system.ts › onFailure › SendMessage': { commands: [], needs: {}, localOnly: true },
};

const CLI_FILES = importClosure(join(REPOSITORY_ROOT, 'bin/taskq.ts'));

let resourcesOf: Record<Target, string[]>;
let statementsOf: Record<'operate' | 'read' | 'redrive', Statement[]>;
let keyed: { template: Template; keyArn: string; operate: Statement[]; read: Statement[] };

function pairsOf(needs: Needs | undefined): string[] {
  return Object.entries(needs ?? {}).flatMap(([target, actions]) =>
    actions!.flatMap((action) => resourcesOf[target as Target].map((resource) => `${action} on ${resource}`)),
  );
}

function granted(statements: Statement[]): string[] {
  for (const s of statements) expect(s.effect, JSON.stringify(s.raw)).toBe('Allow');
  return [...new Set(statements.flatMap((s) => s.actions.flatMap((a) => s.resources.map((r) => `${a} on ${r}`))))].sort();
}

function needed(filter: (site: CallSite) => boolean): string[] {
  return [...new Set(Object.values(OPERATOR_CALLS).filter((s) => !s.localOnly && filter(s)).flatMap((s) => [...pairsOf(s.needs), ...pairsOf(s.thenAsCaller)]))].sort();
}

beforeAll(() => {
  const stack = testStack();
  // With two schedules, so that the grants for `taskq schedules` are there to check.
  const tq = new TaskQueue(stack, 'Tasks', {
    recentTasksIndex: true,
    schedules: [{ name: 'nightly', cron: '0 2 ? * * *', task: 'report' }, { name: 'tick', rate: Duration.minutes(5), task: 'tick' }],
  });
  const role = (id: string) => new iam.Role(stack, id, { assumedBy: new iam.AccountRootPrincipal() });
  tq.grantOperate(role('Operator'));
  tq.grantOperatorRead(role('Reader'));
  tq.grantRedrive(role('Redriver'));
  const template = Template.fromStack(stack);
  const arn = (id: string) => `\${${id}.Arn}`;
  resourcesOf = {
    sourceQueue: [arn(logicalId(template, 'AWS::SQS::Queue', 'TasksQueue'))],
    deadLetterQueue: [arn(logicalId(template, 'AWS::SQS::Queue', 'TasksDeadLetterQueue'))],
    table: [arn(logicalId(template, 'AWS::DynamoDB::Table'))],
    recentTasksIndex: [`${arn(logicalId(template, 'AWS::DynamoDB::Table'))}/index/${RECENT_TASKS_INDEX.indexName}`],
    claimObjects: [`${arn(logicalId(template, 'AWS::S3::Bucket'))}/${DEFAULTS.claimPrefix}*`],
    resultObjects: [`${arn(logicalId(template, 'AWS::S3::Bucket'))}/${DEFAULTS.resultPrefix}*`],
    stack: ['${AWS::StackId}'],
    alarms: Object.keys(template.findResources('AWS::CloudWatch::Alarm')).map(arn).sort(),
    schedules: ['nightly', 'tick'].map(
      (name) => `arn:\${AWS::Partition}:scheduler:\${AWS::Region}:\${AWS::AccountId}:schedule/${(Object.values(template.findResources('AWS::Scheduler::ScheduleGroup'))[0] as { Properties: { Name: string } }).Properties.Name}/${name}`,
    ),
    scheduleRole: [arn(logicalId(template, 'AWS::IAM::Role', 'TasksSchedulesRole'))],
    anyResource: ['*'],
  };
  statementsOf = {
    operate: roleStatements(template, logicalId(template, 'AWS::IAM::Role', 'Operator')),
    read: roleStatements(template, logicalId(template, 'AWS::IAM::Role', 'Reader')),
    redrive: roleStatements(template, logicalId(template, 'AWS::IAM::Role', 'Redriver')),
  };

  const k = testStack({}, 'Keyed');
  const key = new kms.Key(k, 'Key', { enableKeyRotation: true });
  const ktq = new TaskQueue(k, 'Tasks', { encryptionKey: key, recentTasksIndex: true });
  ktq.grantOperate(new iam.Role(k, 'Operator', { assumedBy: new iam.AccountRootPrincipal() }));
  ktq.grantOperatorRead(new iam.Role(k, 'Reader', { assumedBy: new iam.AccountRootPrincipal() }));
  const kt = Template.fromStack(k);
  keyed = {
    template: kt,
    keyArn: arn(logicalId(kt, 'AWS::KMS::Key')),
    operate: roleStatements(kt, logicalId(kt, 'AWS::IAM::Role', 'Operator')),
    read: roleStatements(kt, logicalId(kt, 'AWS::IAM::Role', 'Reader')),
  };
});

describe('OPERATOR_CALLS matches the CLI source', () => {
  const sites = sdkCallSites(CLI_FILES);

  it('reads the CLI and what it imports (lib/ops, lib/client), and finds the calls it checks', () => {
    const files = CLI_FILES.map((f) => f.slice(REPOSITORY_ROOT.length + 1));
    expect(files).toContain('bin/taskq.ts');
    expect(files).toContain('lib/ops/dlq-redrive.ts');
    expect(files).toContain('lib/client/task-producer.ts');
    expect(sites.length).toBeGreaterThanOrEqual(18);
  });

  it('every AWS call the CLI can make is declared (a new call must say what it needs, where, and for which command)', () => {
    expect(sites.map((s) => s.id).filter((id) => !(id in OPERATOR_CALLS))).toEqual([]);
  });

  it('nothing declared is gone from the source', () => {
    const found = new Set(sites.map((s) => s.id));
    expect(Object.keys(OPERATOR_CALLS).filter((id) => !found.has(id))).toEqual([]);
  });

  it('each declared action is the one AWS authorizes that command with', () => {
    for (const site of sites) {
      const call = OPERATOR_CALLS[site.id]!;
      if (call.localOnly) continue;
      const actions = [...new Set(Object.values(call.needs).flat())];
      expect(actions, site.id).toEqual(actionsOfCallSite(site));
    }
  });

  it('every command is covered by some call site', () => {
    for (const command of ALL) expect(Object.values(OPERATOR_CALLS).some((s) => s.commands.includes(command)), command).toBe(true);
  });
});

describe('grantOperate: one grant for every CLI command', () => {
  it('allows exactly the (action, resource) pairs of every call site, and no other', () => {
    expect(granted(statementsOf.operate)).toEqual(needed(() => true));
  });

  it('is scoped: the stack by its id, the alarms by ARN; resource "*" only for GetMetricData', () => {
    for (const s of statementsOf.operate.filter((st) => st.resources.includes('*'))) expect(s.actions).toEqual(['cloudwatch:GetMetricData']);
    // The seven alarms and the schedules' delivery alarm.
    expect(granted(statementsOf.operate).filter((p) => p.startsWith('cloudwatch:DescribeAlarms'))).toHaveLength(8);
  });

  it('with a customer-managed key: decrypt (receive, read) and generate data keys (send, upload)', () => {
    const onKey = granted(keyed.operate).filter((p) => p.endsWith(` on ${keyed.keyArn}`));
    expect(onKey).toEqual([`kms:Decrypt on ${keyed.keyArn}`, `kms:GenerateDataKey on ${keyed.keyArn}`]);
  });

  it('the same action lists as ACTIONS (the single source)', () => {
    const actions = new Set(statementsOf.operate.flatMap((s) => s.actions));
    const declared = new Set(
      [
        ...Object.values(ACTIONS.operatorRead).flat(),
        ...Object.values(ACTIONS.send).flat(),
        ...Object.values(ACTIONS.cancel).flat(),
        ...Object.values(ACTIONS.redrive).flat(),
        ...Object.values(SCHEDULE_ACTIONS).flat(),
      ].filter((a) => !a.startsWith('kms:')),
    );
    expect([...actions].sort()).toEqual([...declared].sort());
  });
});

describe('recentTasksIndex off (the default): no index, no Query', () => {
  it('grantOperate and grantOperatorRead give no dynamodb:Query', () => {
    const stack = testStack({}, 'NoIndex');
    const tq = new TaskQueue(stack, 'Tasks');
    tq.grantOperate(new iam.Role(stack, 'Operator', { assumedBy: new iam.AccountRootPrincipal() }));
    tq.grantOperatorRead(new iam.Role(stack, 'Reader', { assumedBy: new iam.AccountRootPrincipal() }));
    const t = Template.fromStack(stack);
    for (const role of ['Operator', 'Reader']) {
      const actions = roleStatements(t, logicalId(t, 'AWS::IAM::Role', role)).flatMap((s) => s.actions);
      expect(actions, role).not.toContain('dynamodb:Query');
      expect(actions, role).toContain('dynamodb:GetItem');
    }
  });
});

describe('grantOperatorRead: the read-only commands', () => {
  it('allows every call of stats and status and the stack lookup', () => {
    const read = new Set(granted(statementsOf.read));
    const missing = needed((s) => s.commands.some((c) => READ_ONLY_COMMANDS.includes(c))).filter((p) => !read.has(p));
    expect(missing).toEqual([]);
  });

  it('grants read-only actions only — no receive (dlq peek hides messages), send, delete, purge or move', () => {
    const actions = new Set(statementsOf.read.flatMap((s) => s.actions));
    expect([...actions].filter((a) => !READ_ONLY_ACTIONS.has(a))).toEqual([]);
    expect(actions.has('sqs:ReceiveMessage')).toBe(false);
  });

  it('with a customer-managed key, only kms:Decrypt (status reads an encrypted table)', () => {
    expect(granted(keyed.read).filter((p) => p.startsWith('kms:'))).toEqual([`kms:Decrypt on ${keyed.keyArn}`]);
  });
});

describe('grantRedrive: the DLQ commands with the queues given by flags (--dlq-url, --queue-url)', () => {
  it('allows every call of dlq peek, redrive and purge except the stack lookup', () => {
    const redrive = new Set(granted(statementsOf.redrive));
    const dlqCommands: Command[] = ['dlq peek', 'dlq redrive', 'dlq purge'];
    const sites = Object.entries(OPERATOR_CALLS).filter(([id, s]) => !id.includes('describeStackOutputs') && s.commands.some((c) => dlqCommands.includes(c)));
    const missing = sites.flatMap(([id, s]) => [...pairsOf(s.needs), ...pairsOf(s.thenAsCaller)].filter((p) => !redrive.has(p)).map((p) => `${id}: ${p}`));
    // queueCounts is shared by stats and purge: purge only reads the DLQ.
    expect(missing.filter((m) => !(m.startsWith('lib/ops/stats.ts') && m.includes(resourcesOf.sourceQueue[0]!)))).toEqual([]);
  });
});

describe('an operator role in another stack', () => {
  it('synthesizes (cross-stack references to the stack id and alarm ARNs, no cycle)', () => {
    const app = testApp();
    const queueStack = new Stack(app, 'Queues');
    const tq = new TaskQueue(queueStack, 'Tasks');
    const people = new Stack(app, 'People');
    tq.grantOperate(new iam.Role(people, 'Operator', { assumedBy: new iam.AccountRootPrincipal() }));
    const t = Template.fromStack(people);
    const actions = roleStatements(t, logicalId(t, 'AWS::IAM::Role', 'Operator')).flatMap((s) => s.actions);
    expect(actions).toContain('cloudformation:DescribeStacks');
    expect(actions).toContain('cloudwatch:GetMetricData');
    expect(() => app.synth()).not.toThrow();
  });
});
