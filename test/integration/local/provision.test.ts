/**
 * The local resources come from the synthesized CDK template — with cdk.json-style context
 * applied — and match it attribute for attribute on the emulators.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { DescribeTableCommand, DescribeTimeToLiveCommand } from '@aws-sdk/client-dynamodb';
import { HeadBucketCommand } from '@aws-sdk/client-s3';
import { LocalAlarms } from '../../../lib/local/local-alarms.ts';
import { MetricStore } from '../../../lib/local/metrics.ts';
import { provision, type ProvisionedSystem } from '../../../lib/local/provision.ts';
import { readTemplate, synthesizeTemplate, type CfnTemplate } from '../../../lib/local/template.ts';
import { ENV, STACK_OUTPUTS, TABLE_SCHEMA } from '../../../lib/protocol/resources.ts';
import { emulatorEndpoints, testClients, uniqueName } from '../../support/aws.ts';

const clients = testClients();
let template: CfnTemplate;
let system: ProvisionedSystem;

function resourcesOf(type: string) {
  return Object.entries(template.Resources).filter(([, r]) => r.Type === type);
}

beforeAll(async () => {
  const stackName = uniqueName('Prov').replace(/-/g, '');
  const synthesized = await synthesizeTemplate({
    stackName,
    context: { 'taskq:batchSize': 5, 'taskq:maxBatchingWindowSeconds': 2, 'taskq:maxConcurrency': 3, 'taskq:timeoutSeconds': 20 },
  });
  template = synthesized.template;
  system = await provision(readTemplate(template, synthesized.stackName), clients, emulatorEndpoints().region);
}, 120_000);

describe('provisioning from the synthesized template', () => {
  it('creates the source queue with the template’s attributes and a redrive policy to the local DLQ', async () => {
    const [sourceId, source] = resourcesOf('AWS::SQS::Queue').find(([, r]) => r.Properties?.RedrivePolicy)!;
    const [dlqId, dlq] = resourcesOf('AWS::SQS::Queue').find(([, r]) => !r.Properties?.RedrivePolicy)!;
    const local = system.queues.find((q) => q.logicalId === sourceId)!;
    const localDlq = system.queues.find((q) => q.logicalId === dlqId)!;
    const attributes = (await clients.sqs.send(new GetQueueAttributesCommand({ QueueUrl: local.url, AttributeNames: ['All'] }))).Attributes!;
    // 6 × the 20 s timeout + the 2 s window, as the construct derives it.
    expect(source.Properties!.VisibilityTimeout).toBe(122);
    expect(attributes.VisibilityTimeout).toBe('122');
    expect(attributes.MessageRetentionPeriod).toBe(String(source.Properties!.MessageRetentionPeriod));
    const redrive = JSON.parse(attributes.RedrivePolicy!);
    expect(redrive).toEqual({ deadLetterTargetArn: localDlq.arn, maxReceiveCount: (source.Properties!.RedrivePolicy as { maxReceiveCount: number }).maxReceiveCount });
    const dlqAttributes = (await clients.sqs.send(new GetQueueAttributesCommand({ QueueUrl: localDlq.url, AttributeNames: ['MessageRetentionPeriod'] }))).Attributes!;
    expect(dlqAttributes.MessageRetentionPeriod).toBe(String(dlq.Properties!.MessageRetentionPeriod));
    expect(local.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/000000000000\//);
  });

  it('creates the task table with the template’s key schema and TTL, and the claim bucket', async () => {
    const table = system.tables[0]!;
    const described = await clients.dynamo.send(new DescribeTableCommand({ TableName: table.name }));
    expect(described.Table!.KeySchema).toEqual([{ AttributeName: TABLE_SCHEMA.partitionKey, KeyType: 'HASH' }]);
    expect(table.ttlAttribute).toBe(TABLE_SCHEMA.ttlAttribute);
    if (emulatorEndpoints().dynamoEngine === 'dynamodb-local') {
      const ttl = await clients.dynamo.send(new DescribeTimeToLiveCommand({ TableName: table.name }));
      expect(ttl.TimeToLiveDescription).toMatchObject({ AttributeName: TABLE_SCHEMA.ttlAttribute, TimeToLiveStatus: 'ENABLED' });
    } else {
      expect(system.warnings.join('\n')).toContain('items never expire locally');
    }
    await expect(clients.s3.send(new HeadBucketCommand({ Bucket: system.buckets[0]!.name }))).resolves.toBeDefined();
  });

  it('configures the event source mapping and the function from the template', () => {
    const [, fn] = resourcesOf('AWS::Lambda::Function')[0]!;
    const mapping = system.mappings[0]!;
    expect(mapping).toMatchObject({ batchSize: 5, maximumBatchingWindowInSeconds: 2, maximumConcurrency: 3, reportBatchItemFailures: true, enabled: true });
    expect(mapping.function.timeoutSeconds).toBe(20);
    expect(mapping.function.memoryMB).toBe(fn.Properties!.MemorySize);
    // Every variable of the template, with local values.
    const names = Object.keys((fn.Properties!.Environment as { Variables: Record<string, unknown> }).Variables);
    expect(Object.keys(mapping.function.environment).sort()).toEqual(names.sort());
    expect(mapping.function.environment[ENV.queueUrl]).toBe(mapping.queue.url);
    expect(mapping.function.environment[ENV.tableName]).toBe(system.tables[0]!.name);
    expect(mapping.function.environment[ENV.bucketName]).toBe(system.buckets[0]!.name);
    expect(mapping.function.environment[ENV.deadLetterQueueUrl]).toBe(system.queues.find((q) => q !== mapping.queue)!.url);
  });

  it('computes every stack output for the local resources', () => {
    for (const key of Object.values(STACK_OUTPUTS)) expect(system.outputs[key], key).toEqual(expect.any(String));
    expect(system.outputs[STACK_OUTPUTS.queueUrl]).toBe(system.mappings[0]!.queue.url);
    expect(system.outputs[STACK_OUTPUTS.queueArn]).toBe(system.mappings[0]!.queue.arn);
    expect(system.outputs[STACK_OUTPUTS.consumerFunctionName]).toBe(system.functions[0]!.name);
  });

  it('resolves every alarm of the template to local metrics, and each can be evaluated', () => {
    expect(system.alarms).toHaveLength(resourcesOf('AWS::CloudWatch::Alarm').length);
    const alarms = new LocalAlarms(system.alarms, new MetricStore());
    const statuses = alarms.evaluate();
    expect(statuses.map((s) => s.name).sort()).toEqual(alarms.definitions.map((d) => d.name).sort());
    const dimensionValues = alarms.definitions.flatMap((d) => d.metricStats.flatMap((m) => Object.values(m.metric.dimensions)));
    const localNames = new Set([...system.queues.map((q) => q.name), ...system.functions.map((f) => f.name)]);
    expect(dimensionValues.length).toBeGreaterThan(0);
    for (const value of dimensionValues) expect(localNames.has(value), value).toBe(true);
  });
});
