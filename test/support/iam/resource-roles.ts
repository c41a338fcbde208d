/**
 * Which template resource each emulator resource stands for. Test resources have random
 * names on the emulators; what matters for IAM is their role — the source queue, its DLQ,
 * the task table, the claim bucket — so a call on a test's queue is evaluated as a call on
 * the synthesized stack's queue of the same role. Registrations are kept in memory and
 * appended to the run's registry file, so child processes (the CLI) see them too; a child
 * of the local system also maps what its state file's stack outputs name.
 */
import { appendFileSync, readFileSync } from 'node:fs';
import { STACK_OUTPUTS } from '../../../lib/protocol/resources.ts';
import { laneRole, type ResourceRole } from './policy-model.ts';
import { IAM_DIR_ENV, iamFiles } from './run-directory.ts';
import { queueNameFromUrl, type LookupKind, type RoleLookup } from './sdk-call-actions.ts';

type Role = ResourceRole | 'stack' | 'absent';

interface Entry {
  readonly kind: LookupKind;
  readonly name: string;
  readonly role: Role;
  /** For a stand-in stack: its outputs (test/support/stand-ins/control-plane.ts answers DescribeStacks with them). */
  readonly outputs?: Record<string, string>;
}

const entries = new Map<string, Entry>();
const keyOf = (kind: LookupKind, name: string) => `${kind}:${name}`;

function add(entry: Entry, share: boolean): void {
  entries.set(keyOf(entry.kind, entry.name), entry);
  if (share && process.env[IAM_DIR_ENV]) appendFileSync(iamFiles.registry(), `${JSON.stringify(entry)}\n`);
}

export interface RoleResources {
  readonly queueUrl?: string;
  readonly deadLetterQueueUrl?: string;
  readonly tableName?: string;
  readonly bucketName?: string;
  /** Named lanes' queues (evaluated against the variant with lanes, whose lanes have these names). */
  readonly lanes?: Readonly<Record<string, { readonly queueUrl: string; readonly deadLetterQueueUrl: string }>>;
  /** The completion-events function's on-failure queue. */
  readonly completionEventsFailureQueueUrl?: string;
  /** The task table's stream (its ARN, as DescribeTable gives it), which the completion-events function reads. */
  readonly tableStreamArn?: string;
}

function entriesFor(r: RoleResources): Entry[] {
  const out: Entry[] = [];
  if (r.queueUrl) out.push({ kind: 'queue', name: queueNameFromUrl(r.queueUrl), role: 'queue' });
  if (r.deadLetterQueueUrl) out.push({ kind: 'queue', name: queueNameFromUrl(r.deadLetterQueueUrl), role: 'deadLetterQueue' });
  if (r.tableName) out.push({ kind: 'table', name: r.tableName, role: 'table' });
  if (r.bucketName) out.push({ kind: 'bucket', name: r.bucketName, role: 'bucket' });
  for (const [lane, queues] of Object.entries(r.lanes ?? {})) {
    out.push({ kind: 'queue', name: queueNameFromUrl(queues.queueUrl), role: laneRole(lane, 'queue') });
    out.push({ kind: 'queue', name: queueNameFromUrl(queues.deadLetterQueueUrl), role: laneRole(lane, 'deadLetterQueue') });
  }
  if (r.tableStreamArn) out.push({ kind: 'stream', name: r.tableStreamArn, role: 'tableStream' });
  if (r.completionEventsFailureQueueUrl) out.push({ kind: 'queue', name: queueNameFromUrl(r.completionEventsFailureQueueUrl), role: 'completionEventsFailureQueue' });
  return out;
}

/** Registers emulator resources by the role they play (createTestResources does it for every test resource set). */
export function registerResources(r: RoleResources): void {
  for (const entry of entriesFor(r)) add(entry, true);
}

/** A resource that does not exist: the service answers not-found before any policy is read, so nothing is evaluated. */
export function registerAbsent(kind: LookupKind, nameOrUrl: string): void {
  add({ kind, name: kind === 'queue' && nameOrUrl.includes('/') ? queueNameFromUrl(nameOrUrl) : nameOrUrl, role: 'absent' }, true);
}

/** A stack name the CLI may be pointed at (--stack), standing for the synthesized stack, with the outputs the stand-in returns. */
export function registerStack(stackName: string, r: RoleResources & { queueArn?: string; deadLetterQueueArn?: string }): void {
  const outputs: Record<string, string> = {};
  if (r.queueUrl) outputs[STACK_OUTPUTS.queueUrl] = r.queueUrl;
  if (r.queueArn) outputs[STACK_OUTPUTS.queueArn] = r.queueArn;
  if (r.deadLetterQueueUrl) outputs[STACK_OUTPUTS.deadLetterQueueUrl] = r.deadLetterQueueUrl;
  if (r.deadLetterQueueArn) outputs[STACK_OUTPUTS.deadLetterQueueArn] = r.deadLetterQueueArn;
  if (r.tableName) outputs[STACK_OUTPUTS.tableName] = r.tableName;
  if (r.bucketName) outputs[STACK_OUTPUTS.bucketName] = r.bucketName;
  registerResources(r);
  add({ kind: 'stack', name: stackName, role: 'stack', outputs }, true);
}

/** Reads what other processes registered, and the local system's state file when this process has one. */
function refresh(): void {
  if (process.env[IAM_DIR_ENV]) {
    let text = '';
    try {
      text = readFileSync(iamFiles.registry(), 'utf8');
    } catch {
      /* nothing registered yet */
    }
    for (const line of text.split('\n')) if (line) add(JSON.parse(line) as Entry, false);
  }
  const statePath = process.env.TASKQ_LOCAL_STATE;
  if (statePath) {
    try {
      const state = JSON.parse(readFileSync(statePath, 'utf8')) as { outputs?: Record<string, string> };
      const o = state.outputs ?? {};
      for (const entry of entriesFor({
        queueUrl: o[STACK_OUTPUTS.queueUrl],
        deadLetterQueueUrl: o[STACK_OUTPUTS.deadLetterQueueUrl],
        tableName: o[STACK_OUTPUTS.tableName],
        bucketName: o[STACK_OUTPUTS.bucketName],
      })) {
        if (!entries.has(keyOf(entry.kind, entry.name))) add(entry, false);
      }
    } catch {
      /* no local system state (yet) */
    }
  }
}

function find(kind: LookupKind, name: string): Entry | undefined {
  return entries.get(keyOf(kind, name)) ?? (refresh(), entries.get(keyOf(kind, name)));
}

export const lookupRole: RoleLookup = (kind, name) => find(kind, name)?.role;

/** The outputs registered for a stand-in stack. */
export function stackOutputs(stackName: string): Record<string, string> | undefined {
  return find('stack', stackName)?.outputs;
}
