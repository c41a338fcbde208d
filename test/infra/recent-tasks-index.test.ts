/**
 * The opt-in recent-tasks index (`recentTasksIndex`): absent by default; when on, a GSI on
 * the task table keyed as RECENT_TASKS_INDEX says (what `taskq console` queries), projecting
 * only the listed attributes, and a stack output naming it (how the console learns it exists).
 */
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { TaskQueue } from '../../lib/infra/task-queue.ts';
import { contextProps } from '../../lib/infra/stack-context.ts';
import { OPTIONAL_STACK_OUTPUTS, RECENT_TASKS_INDEX } from '../../lib/protocol/resources.ts';
import { testStack } from './helpers.ts';

function table(template: Template): Record<string, unknown> {
  const tables = Object.values(template.findResources('AWS::DynamoDB::Table'));
  expect(tables).toHaveLength(1);
  return (tables[0] as { Properties: Record<string, unknown> }).Properties;
}

describe('recentTasksIndex', () => {
  it('is off by default: no GSI, no output', () => {
    const stack = testStack();
    const tq = new TaskQueue(stack, 'Tasks');
    const t = Template.fromStack(stack);
    expect(table(t).GlobalSecondaryIndexes).toBeUndefined();
    expect(t.toJSON().Outputs?.[OPTIONAL_STACK_OUTPUTS.recentTasksIndexName]).toBeUndefined();
    expect(tq.recentTasksIndex).toBeUndefined();
  });

  it('adds the index the console queries: status + updatedAt, only the listed attributes projected, and an output naming it', () => {
    const stack = testStack();
    const tq = new TaskQueue(stack, 'Tasks', { recentTasksIndex: true });
    const t = Template.fromStack(stack);
    const props = table(t);
    expect(props.GlobalSecondaryIndexes).toEqual([
      {
        IndexName: RECENT_TASKS_INDEX.indexName,
        KeySchema: [
          { AttributeName: RECENT_TASKS_INDEX.partitionKey, KeyType: 'HASH' },
          { AttributeName: RECENT_TASKS_INDEX.sortKey, KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: [...RECENT_TASKS_INDEX.projectedAttributes] },
      },
    ]);
    expect(props.AttributeDefinitions).toEqual(
      expect.arrayContaining([
        { AttributeName: RECENT_TASKS_INDEX.partitionKey, AttributeType: 'S' },
        { AttributeName: RECENT_TASKS_INDEX.sortKey, AttributeType: 'S' },
      ]),
    );
    expect(t.toJSON().Outputs[OPTIONAL_STACK_OUTPUTS.recentTasksIndexName]).toMatchObject({ Value: RECENT_TASKS_INDEX.indexName });
    expect(tq.recentTasksIndex).toBe(RECENT_TASKS_INDEX.indexName);
  });

  it('no output when outputs: false (the index is still there)', () => {
    const stack = testStack();
    new TaskQueue(stack, 'Tasks', { recentTasksIndex: true, outputs: false });
    const t = Template.fromStack(stack);
    expect(table(t).GlobalSecondaryIndexes).toHaveLength(1);
    expect(t.toJSON().Outputs?.[OPTIONAL_STACK_OUTPUTS.recentTasksIndexName]).toBeUndefined();
  });

  it('the default stack reads it from the context key taskq:recentTasksIndex', () => {
    const stack = testStack({ context: { 'taskq:recentTasksIndex': 'true' } });
    expect(contextProps(stack.node)).toMatchObject({ recentTasksIndex: true });
  });
});
