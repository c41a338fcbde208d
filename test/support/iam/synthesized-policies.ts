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
 *
 * Principals: the construct's consumer role; a producer role with grantSend + grantStatusRead;
 * an operator role with grantOperate (every CLI command).
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Stack, type CfnResource } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type { IConstruct } from 'constructs';
import { TaskQueueStack } from '../../../lib/infra/task-queue-stack.ts';
import { TaskQueue } from '../../../lib/infra/task-queue.ts';
import { contextProps } from '../../../lib/infra/stack-context.ts';
import type { CfnTemplate } from '../../../lib/local/template.ts';
import { DEFAULTS } from '../../../lib/protocol/resources.ts';
import { testApp } from '../../infra/helpers.ts';
import { buildPolicyModel, type ModelAnchors, type PolicyModel, type ResourceRole } from './policy-model.ts';
import type { PrincipalName } from './principals.ts';
import { iamFiles } from './run-directory.ts';

export const VARIANTS = {
  plain: DEFAULTS.stackName,
  encrypted: `${DEFAULTS.stackName} with encryptionKey`,
} as const;

/** Adds the test producer and operator roles to a stack and grants them on its task queue. */
function grantTestPrincipals(stack: Stack, tq: TaskQueue, variant: string): ModelAnchors {
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
  const principals: Record<PrincipalName, string> = { consumer: id(tq.consumer.role!), producer: id(producer), operator: id(operator) };
  const resources: Record<ResourceRole, string> = {
    queue: id(tq.queue),
    deadLetterQueue: id(tq.deadLetterQueue),
    table: id(tq.table),
    bucket: id(tq.bucket),
    alarmTopic: id(topic),
  };
  return { variant, operatorGrant: 'grantOperate', principals, resources };
}

/** Synthesizes both variants (a few seconds; the global setup does it once per run). */
export function synthesizePolicyModels(): PolicyModel[] {
  const app = testApp();
  const plain = new TaskQueueStack(app, VARIANTS.plain);
  const plainAnchors = grantTestPrincipals(plain, plain.taskQueue, VARIANTS.plain);

  const encrypted = new Stack(app, `${DEFAULTS.stackName}Encrypted`);
  const key = new kms.Key(encrypted, 'Key', { enableKeyRotation: true, description: 'IAM harness: the task queue encryptionKey' });
  const encryptedQueue = new TaskQueue(encrypted, 'Tasks', { ...contextProps(encrypted.node), encryptionKey: key });
  const encryptedAnchors = grantTestPrincipals(encrypted, encryptedQueue, VARIANTS.encrypted);

  const assembly = app.synth();
  const template = (stack: Stack) => assembly.getStackByName(stack.stackName).template as CfnTemplate;
  return [
    buildPolicyModel(template(plain), plain.stackName, plainAnchors),
    buildPolicyModel(template(encrypted), encrypted.stackName, encryptedAnchors),
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
