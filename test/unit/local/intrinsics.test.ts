import { describe, expect, it } from 'vitest';
import { referencedLogicalIds, resolveIntrinsics, resolveString, UnresolvableIntrinsicError, type IntrinsicContext } from '../../../lib/local/intrinsics.ts';

const context: IntrinsicContext = {
  region: 'eu-west-1',
  accountId: '000000000000',
  stackName: 'S',
  ref: (id) => ({ Queue: 'http://127.0.0.1:1/000000000000/q', Table: 'tasks' } as Record<string, string>)[id],
  getAtt: (id, attribute) => (id === 'Queue' ? ({ Arn: 'arn:aws:sqs:eu-west-1:000000000000:q', QueueName: 'q' } as Record<string, string>)[attribute] : undefined),
};

describe('CloudFormation intrinsics resolved against local resources', () => {
  it('resolves Ref, Fn::GetAtt (list and dotted forms) and pseudo parameters', () => {
    expect(resolveIntrinsics({ Ref: 'Table' }, context)).toBe('tasks');
    expect(resolveIntrinsics({ 'Fn::GetAtt': ['Queue', 'Arn'] }, context)).toBe('arn:aws:sqs:eu-west-1:000000000000:q');
    expect(resolveIntrinsics({ 'Fn::GetAtt': 'Queue.QueueName' }, context)).toBe('q');
    expect(resolveIntrinsics([{ Ref: 'AWS::Region' }, { Ref: 'AWS::AccountId' }, { Ref: 'AWS::Partition' }, { Ref: 'AWS::StackName' }], context)).toEqual([
      'eu-west-1',
      '000000000000',
      'aws',
      'S',
    ]);
  });

  it('resolves Fn::Join, Fn::Select, Fn::Split and Fn::Sub, nested', () => {
    const arn = { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':sqs:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':name']] };
    expect(resolveIntrinsics(arn, context)).toBe('arn:aws:sqs:eu-west-1:000000000000:name');
    expect(resolveIntrinsics({ 'Fn::Select': [5, { 'Fn::Split': [':', { 'Fn::GetAtt': ['Queue', 'Arn'] }] }] }, context)).toBe('q');
    expect(resolveIntrinsics({ 'Fn::Sub': 'table ${Table} in ${AWS::Region}, queue ${Queue.QueueName}, literal ${!x}' }, context)).toBe(
      'table tasks in eu-west-1, queue q, literal ${x}',
    );
    expect(resolveIntrinsics({ 'Fn::Sub': ['${a}-${Table}', { a: { Ref: 'AWS::Region' } }] }, context)).toBe('eu-west-1-tasks');
  });

  it('drops AWS::NoValue and resolves inside objects and lists', () => {
    expect(resolveIntrinsics({ a: { Ref: 'AWS::NoValue' }, b: [1, { Ref: 'AWS::NoValue' }, { Ref: 'Table' }] }, context)).toEqual({ b: [1, 'tasks'] });
  });

  it('fails clearly, with the path, on what it cannot resolve', () => {
    expect(() => resolveIntrinsics({ x: { 'Fn::ImportValue': 'Other' } }, context, 'R')).toThrow(UnresolvableIntrinsicError);
    expect(() => resolveIntrinsics({ x: { 'Fn::ImportValue': 'Other' } }, context, 'R')).toThrow('Fn::ImportValue is not supported by the local system (at R.x.Fn::ImportValue)');
    expect(() => resolveIntrinsics({ Ref: 'Unknown' }, context, 'R')).toThrow('Ref Unknown has no local value');
    expect(() => resolveIntrinsics({ 'Fn::GetAtt': ['Table', 'StreamArn'] }, context, 'R')).toThrow('Fn::GetAtt Table.StreamArn has no local value');
    expect(() => resolveIntrinsics({ 'Fn::Select': [9, ['a']] }, context, 'R')).toThrow('out of range');
    expect(() => resolveString({ a: 1 }, context, 'R')).toThrow('expected a string');
  });

  it('lists the logical ids a value references (for ordering and checks)', () => {
    const ids = referencedLogicalIds({
      a: { Ref: 'Table' },
      b: { 'Fn::GetAtt': ['Queue', 'Arn'] },
      c: { 'Fn::Sub': 'x ${Bucket.Arn} ${AWS::Region}' },
      d: { Ref: 'AWS::Region' },
    });
    expect([...ids].sort()).toEqual(['Bucket', 'Queue', 'Table']);
  });
});
