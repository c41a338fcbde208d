import { describe, expect, it } from 'vitest';
import { readTemplate } from '../../../lib/local/template.ts';

describe('reading a template into the local model', () => {
  it('derives stable local names from the stack and logical ids, keeps explicit names, applies Lambda defaults', () => {
    const model = readTemplate(
      {
        Resources: {
          Jobs: { Type: 'AWS::SQS::Queue', Properties: { FifoQueue: true } },
          Named: { Type: 'AWS::SQS::Queue', Properties: { QueueName: 'explicit-name' } },
          Claims: { Type: 'AWS::S3::Bucket' },
          Fn: { Type: 'AWS::Lambda::Function', Properties: {} },
          Esm: { Type: 'AWS::Lambda::EventSourceMapping', Properties: { EventSourceArn: { 'Fn::GetAtt': ['Jobs', 'Arn'] }, FunctionName: { Ref: 'Fn' } } },
          Role: { Type: 'AWS::IAM::Role' },
        },
      },
      'My_Stack',
    );
    expect(model.queues.map((q) => [q.name, q.fifo])).toEqual([
      ['My_Stack-Jobs.fifo', true],
      ['explicit-name', false],
    ]);
    expect(model.buckets[0]!.name).toBe('my-stack-claims');
    expect(model.functions[0]).toMatchObject({ name: 'My_Stack-Fn', timeoutSeconds: 3, memoryMB: 128 });
    expect(model.mappings[0]).toMatchObject({ batchSize: 10, maximumBatchingWindowInSeconds: 0, reportBatchItemFailures: false, enabled: true });
    expect(model.notEmulated).toEqual({ Role: 'AWS::IAM::Role' });
  });

  it('refuses resources it cannot run rather than ignoring them', () => {
    expect(() => readTemplate({ Resources: { T: { Type: 'AWS::Kinesis::Stream' } } }, 'S')).toThrow(
      'the template has resources the local system does not know how to run: T (AWS::Kinesis::Stream)',
    );
    expect(() => readTemplate({ Resources: { Q: { Type: 'AWS::SQS::Queue', Condition: 'IsProd' } } }, 'S')).toThrow('Condition');
    expect(() => readTemplate({ Resources: { Q: { Type: 'AWS::SQS::Queue', Properties: { QueueName: { Ref: 'Param' } } } } }, 'S')).toThrow(
      'Q.QueueName: a name computed by an intrinsic function is not supported locally',
    );
  });
});
