/**
 * The consumer's IAM must allow every AWS call the runtime makes — and nothing it never
 * makes. The runtime's calls are read from its source (every `new …Command(`), mapped to
 * the IAM action AWS checks for it, and compared with the construct's action lists.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ACTIONS } from '../../lib/infra/permissions.ts';

const RUNTIME_DIR = join(import.meta.dirname, '../../lib/runtime');

/** SDK command → the IAM action it needs (BatchExecuteStatement: per statement kind). */
const ACTION_OF_COMMAND: Record<string, string> = {
  SendMessage: 'sqs:SendMessage',
  ChangeMessageVisibility: 'sqs:ChangeMessageVisibility',
  ChangeMessageVisibilityBatch: 'sqs:ChangeMessageVisibility',
  DeleteMessage: 'sqs:DeleteMessage',
  DeleteMessageBatch: 'sqs:DeleteMessage',
  GetObject: 's3:GetObject',
  DeleteObjects: 's3:DeleteObject',
  GetItem: 'dynamodb:GetItem',
  PutItem: 'dynamodb:PutItem',
  UpdateItem: 'dynamodb:UpdateItem',
  DeleteItem: 'dynamodb:DeleteItem',
  BatchWriteItem: 'dynamodb:BatchWriteItem',
  BatchGetItem: 'dynamodb:BatchGetItem',
  TransactWriteItems: 'dynamodb:PutItem',
};

function runtimeSource(): string {
  return readdirSync(RUNTIME_DIR)
    .filter((f) => f.endsWith('.ts'))
    .map((f) => readFileSync(join(RUNTIME_DIR, f), 'utf8'))
    .join('\n');
}

function actionsTheRuntimeNeeds(source: string): Set<string> {
  const needed = new Set<string>();
  for (const [, command] of source.matchAll(/new (?:\w+\.)?(\w+)Command\(/g)) {
    if (command === 'BatchExecuteStatement' || command === 'ExecuteStatement') {
      // PartiQL: the action depends on the statement's verb.
      for (const [, verb] of source.matchAll(/`\s*(INSERT|UPDATE|DELETE|SELECT)\b/g)) {
        needed.add(`dynamodb:PartiQL${verb![0]}${verb!.slice(1).toLowerCase()}`);
      }
      continue;
    }
    const action = ACTION_OF_COMMAND[command!];
    if (!action) throw new Error(`runtime calls ${command}Command: add its IAM action to this test's map`);
    needed.add(action);
  }
  return needed;
}

describe('consumer IAM matches the runtime', () => {
  const needed = actionsTheRuntimeNeeds(runtimeSource());
  const granted = new Set<string>([
    ...ACTIONS.consumer.table,
    ...ACTIONS.consumer.deadLetterQueue,
    ...ACTIONS.consumer.sourceQueue,
    ...ACTIONS.consumer.claimObjects,
  ]);

  it('finds the runtime calls it checks', () => {
    expect(needed).toContain('dynamodb:PartiQLInsert');
    expect(needed).toContain('sqs:SendMessage');
    expect(needed).toContain('s3:GetObject');
    expect(needed).toContain('s3:DeleteObject');
  });

  it('grants every action the runtime calls', () => {
    expect([...needed].filter((a) => !granted.has(a))).toEqual([]);
  });

  it('grants no table action the runtime never calls', () => {
    expect(ACTIONS.consumer.table.filter((a) => !needed.has(a))).toEqual([]);
  });
});
