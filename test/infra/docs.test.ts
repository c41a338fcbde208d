/**
 * The README's Configuration table documents every TaskQueueProps field, and every field
 * has a doc comment with its default.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const props = readFileSync(new URL('../../lib/infra/props.ts', import.meta.url), 'utf8');
const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const body = props.slice(props.indexOf('export interface TaskQueueProps'), props.indexOf('export const TASK_QUEUE_DEFAULTS'));
const fields = [...body.matchAll(/readonly (\w+)\?:/g)].map((m) => m[1]!);

describe('the runbook', () => {
  const operations = readFileSync(new URL('../../docs/OPERATIONS.md', import.meta.url), 'utf8');

  it('names the consumer log group by its stack output, never as /aws/lambda/<function> (the construct gives it its own, generated name)', () => {
    expect(operations).not.toMatch(/\/aws\/lambda\/</);
    expect(operations).toContain('ConsumerLogGroupName');
    expect(readme).not.toMatch(/\/aws\/lambda\/</);
  });
});

describe('TaskQueueProps documentation', () => {
  it('finds the props', () => {
    expect(fields.length).toBeGreaterThan(30);
  });

  it.each(fields)('%s is in the README configuration table', (field) => {
    const section = readme.slice(readme.indexOf('## Configuration'), readme.indexOf('## Deploy'));
    expect(section).toMatch(new RegExp(`^\\| \`${field}(\\.\\w+)?\` \\|`, 'm'));
  });

  it.each(fields.filter((f) => f !== 'alarmOptions'))('%s has a doc comment with @default', (field) => {
    const at = body.indexOf(`readonly ${field}?:`);
    const comment = body.slice(body.lastIndexOf('/**', at), at);
    expect(comment).toMatch(/@default/);
  });
});
