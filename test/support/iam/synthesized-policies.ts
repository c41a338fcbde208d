/**
 * The policy source: synthesizes the project's stack (bundling off) in the variants the
 * tests are evaluated against, with test roles granted the way the README tells users to
 * grant them, and reads each template into a PolicyModel.
 *
 * - "TaskQueueStack": the default stack of bin/app.ts (lib/infra TaskQueueStack, cdk.json
 *   context), as `npx cdk deploy` deploys it.
 * - "TaskQueueStack with encryptionKey": the same TaskQueue construct with a customer-managed
 *   key (in a plain Stack: TaskQueueStack creates its TaskQueue in its constructor, before a
 *   key of that stack could exist), so every KMS permission is evaluated too.
 * - "TaskQueueStack with lanes": the TaskQueue with LANES_VARIANT's lanes and fan-out, completion
 *   events and a schedule, so a lane's consumer (forwarding a task to another lane, dead-lettering
 *   to its own DLQ), a producer routing through the stack's routing table and the completion-events
 *   function are evaluated against their synthesized roles.
 *
 * Principals: the construct's consumer role; a producer role with grantSend + grantStatusRead;
 * an operator role with grantOperate (every CLI command); with lanes, the consumer role of lane
 * LANES_VARIANT.lane (`laneConsumer`), the completion-events function's role, and a producer role
 * with grantSend only (`sender`), whose routing reads only grantSend's own grant allows.
 *
 * Every call is evaluated against every variant that has its principal and resource (a lane's
 * queue only in the variant with lanes): the default stack's calls against all three.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Duration, Stack, type CfnResource } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type { IConstruct } from 'constructs';
import { TaskQueueStack } from '../../../lib/infra/task-queue-stack.ts';
import { TaskQueue } from '../../../lib/infra/task-queue.ts';
import { contextProps } from '../../../lib/infra/stack-context.ts';
import type { TaskQueueProps } from '../../../lib/infra/props.ts';
import type { CfnTemplate } from '../../../lib/local/template.ts';
import { DEFAULTS } from '../../../lib/protocol/resources.ts';
import { testApp } from '../../infra/helpers.ts';
import { buildPolicyModel, laneRole, type ModelAnchors, type PolicyModel, type ResourceRole } from './policy-model.ts';
import type { PrincipalName } from './principals.ts';
import { iamFiles } from './run-directory.ts';

export const VARIANTS = {
  plain: DEFAULTS.stackName,
  encrypted: `${DEFAULTS.stackName} with encryptionKey`,
  lanes: `${DEFAULTS.stackName} with lanes`,
} as const;

/**
 * The lanes variant's TaskQueue props, which tests provision on the emulators too so that their
 * routing table names the same lanes: `critical` (the lane whose consumer is `laneConsumer`) and
 * `bulk`, an event fanned out to a type of each, completion events and one schedule.
 */
export const LANES_VARIANT = {
  /** The lane whose consumer role the `laneConsumer` principal is. */
  lane: 'critical',
  /** The other named lane. */
  otherLane: 'bulk',
  props: {
    lanes: { critical: { types: ['password_reset'] }, bulk: { types: ['analytics'] } },
    fanOut: { order_placed: ['password_reset', 'analytics'] },
    completionEvents: {},
    schedules: [{ name: 'nightly-report', rate: Duration.hours(24), task: 'analytics', payload: { report: 'nightly' } }],
  } satisfies TaskQueueProps,
} as const;

/** Adds the test producer and operator roles to a stack and grants them on its task queue. */
function grantTestPrincipals(stack: Stack, tq: TaskQueue, variant: string): ModelAnchors & { principals: Partial<Record<PrincipalName, string>>; resources: Partial<Record<ResourceRole, string>> } {
  const assumedBy = new iam.AccountRootPrincipal();
  const producer = new iam.Role(stack, 'TestProducer', { assumedBy, description: 'IAM harness: a producer (grantSend + grantStatusRead + grantCancel)' });
  tq.grantSend(producer);
  tq.grantStatusRead(producer);
  tq.grantCancel(producer);
  const operator = new iam.Role(stack, 'TestOperator', { assumedBy, description: 'IAM harness: an operator running the taskq CLI' });
  // grantOperate covers every taskq command.
  tq.grantOperate(operator);

  const id = (construct: IConstruct) => stack.getLogicalId(construct.node.defaultChild as CfnResource);
  const topic = tq.alarmTopic;
  if (!topic.node.defaultChild) throw new Error(`${variant}: the alarm topic is not created by the stack; the harness evaluates the topic the construct creates`);
  const principals: ModelAnchors['principals'] = { consumer: id(tq.consumer.role!), producer: id(producer), operator: id(operator) };
  const resources: ModelAnchors['resources'] = {
    queue: id(tq.queue),
    deadLetterQueue: id(tq.deadLetterQueue),
    table: id(tq.table),
    bucket: id(tq.bucket),
    alarmTopic: id(topic),
  };
  return { variant, operatorGrant: 'grantOperate', principals, resources };
}

/** The anchors of the lanes variant: the core ones, each named lane's queues, the lane consumer, the completion-events function. */
function laneAnchors(stack: Stack, tq: TaskQueue, variant: string): ModelAnchors {
  const anchors = grantTestPrincipals(stack, tq, variant);
  const id = (construct: IConstruct) => stack.getLogicalId(construct.node.defaultChild as CfnResource);
  const lane = tq.lanes[LANES_VARIANT.lane];
  const events = tq.completionEvents;
  if (!lane || !events) throw new Error(`${variant}: expected lane ${LANES_VARIANT.lane} and completion events`);
  const resources: ModelAnchors['resources'] = { ...anchors.resources, completionEventsFailureQueue: id(events.failureQueue), tableStream: id(tq.table) };
  for (const [name, l] of Object.entries(tq.lanes)) {
    Object.assign(resources, { [laneRole(name, 'queue')]: id(l.queue), [laneRole(name, 'deadLetterQueue')]: id(l.deadLetterQueue) });
  }
  const sender = new iam.Role(stack, 'TestSender', { assumedBy: new iam.AccountRootPrincipal(), description: 'IAM harness: a producer with grantSend only' });
  tq.grantSend(sender);
  return { ...anchors, principals: { ...anchors.principals, sender: id(sender), laneConsumer: id(lane.consumerRole), completionEvents: id(events.role) }, resources };
}

/** Synthesizes the variants (a few seconds; the global setup does it once per run). */
export function synthesizePolicyModels(): PolicyModel[] {
  const app = testApp();
  const plain = new TaskQueueStack(app, VARIANTS.plain);
  const plainAnchors = grantTestPrincipals(plain, plain.taskQueue, VARIANTS.plain);

  const encrypted = new Stack(app, `${DEFAULTS.stackName}Encrypted`);
  const key = new kms.Key(encrypted, 'Key', { enableKeyRotation: true, description: 'IAM harness: the task queue encryptionKey' });
  const encryptedQueue = new TaskQueue(encrypted, 'Tasks', { ...contextProps(encrypted.node), encryptionKey: key });
  const encryptedAnchors = grantTestPrincipals(encrypted, encryptedQueue, VARIANTS.encrypted);

  const lanes = new Stack(app, `${DEFAULTS.stackName}Lanes`);
  const lanesQueue = new TaskQueue(lanes, 'Tasks', { ...contextProps(lanes.node), ...LANES_VARIANT.props });
  const lanesAnchors = laneAnchors(lanes, lanesQueue, VARIANTS.lanes);

  const assembly = app.synth();
  const template = (stack: Stack) => assembly.getStackByName(stack.stackName).template as CfnTemplate;
  return [
    buildPolicyModel(template(plain), plain.stackName, plainAnchors),
    buildPolicyModel(template(encrypted), encrypted.stackName, encryptedAnchors),
    buildPolicyModel(template(lanes), lanes.stackName, lanesAnchors),
  ];
}

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** Everything the synthesized policies depend on: the library, the CDK context, the installed versions, this harness. */
const SYNTH_INPUTS = ['lib', 'cdk.json', 'package-lock.json', 'test/support/iam', 'test/infra/helpers.ts'];

function filesUnder(path: string): string[] {
  try {
    return readdirSync(path, { withFileTypes: true }).flatMap((e) => filesUnder(join(path, e.name)));
  } catch {
    return [path];
  }
}

function inputsHash(): string {
  const hash = createHash('sha256');
  for (const file of SYNTH_INPUTS.flatMap((p) => filesUnder(join(ROOT, p))).sort()) {
    hash.update(relative(ROOT, file)).update('\0').update(readFileSync(file)).update('\0');
  }
  return hash.digest('hex').slice(0, 24);
}

/**
 * Writes the run's policies.json: synthesized, or — when nothing they depend on changed
 * since an earlier run — taken from node_modules/.cache/taskq-iam (TASKQ_IAM_NO_CACHE=1 skips it).
 */
export function writePolicyModels(): void {
  const cacheDir = join(ROOT, 'node_modules/.cache/taskq-iam');
  const cached = join(cacheDir, `policies-${inputsHash()}.json`);
  let text: string | undefined;
  if (process.env.TASKQ_IAM_NO_CACHE !== '1') {
    try {
      text = readFileSync(cached, 'utf8');
    } catch {
      text = undefined;
    }
  }
  if (text === undefined) {
    text = JSON.stringify(synthesizePolicyModels(), null, 1);
    mkdirSync(cacheDir, { recursive: true });
    const temporary = `${cached}.${process.pid}`;
    writeFileSync(temporary, text);
    renameSync(temporary, cached);
  }
  writeFileSync(iamFiles.policies(), text);
}

let loaded: PolicyModel[] | undefined;

/** The run's models (policies.json of the run directory), read once per process. */
export function policyModels(): PolicyModel[] {
  return (loaded ??= JSON.parse(readFileSync(iamFiles.policies(), 'utf8')) as PolicyModel[]);
}
