/**
 * Lanes on the TaskQueue construct: each named lane has its own queue, DLQ (redrive policy
 * pointing at it), event source mapping with its own batching and concurrency, consumer
 * function (reserved concurrency, memory, timeout) told its lane, alarms, dashboard row and
 * outputs; the default lane keeps its resources and outputs; IAM is per lane.
 */
import { Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { describe, expect, it } from 'vitest';
import { TaskQueue } from '../../lib/infra/task-queue.ts';
import { LANE_ENV, ROUTING_ITEM_KEY, parseRoutingTable } from '../../lib/protocol/lanes.ts';
import { ENV } from '../../lib/protocol/resources.ts';
import { allows, logicalId, resource, roleStatements, str, testStack, type Json } from './helpers.ts';

const LANES = {
  critical: { types: ['password_reset'], reservedConcurrency: 20 },
  bulk: { types: ['analytics', 'update_analytics'], maxConcurrency: 5, batchSize: 100, maxBatchingWindow: Duration.seconds(5), memorySize: 512, timeout: Duration.seconds(60) },
};

function synth(props: ConstructorParameters<typeof TaskQueue>[2] = { lanes: LANES }): { stack: Stack; queue: TaskQueue; template: Template } {
  const stack = testStack();
  const queue = new TaskQueue(stack, 'Tasks', props);
  return { stack, queue, template: Template.fromStack(stack) };
}

function functionOfLane(template: Template, lane: string): { id: string; props: Json } {
  const functions = template.findResources('AWS::Lambda::Function', { Properties: { Environment: { Variables: { [LANE_ENV.lane]: lane } } } });
  const ids = Object.keys(functions);
  expect(ids).toHaveLength(1);
  return { id: ids[0]!, props: functions[ids[0]!].Properties };
}

describe('TaskQueue lanes', () => {
  it('without lanes the template has exactly the resources it had: one of each, no routing item', () => {
    const { template } = synth({});
    template.resourceCountIs('AWS::SQS::Queue', 2);
    template.resourceCountIs('AWS::Lambda::Function', 1);
    template.resourceCountIs('AWS::Lambda::EventSourceMapping', 1);
    template.resourceCountIs('Custom::AWS', 0);
    const fn = template.findResources('AWS::Lambda::Function');
    expect(Object.values(fn)[0].Properties.Environment.Variables[LANE_ENV.lane]).toBeUndefined();
  });

  it('each named lane has its own queue and DLQ, mapping and function; the default lane keeps its logical ids and outputs', () => {
    const { template, queue } = synth();
    template.resourceCountIs('AWS::SQS::Queue', 6);
    template.resourceCountIs('AWS::Lambda::EventSourceMapping', 3);
    // The default lane's resources keep their ids (existing stacks update in place).
    expect(logicalId(template, 'AWS::SQS::Queue', 'TasksQueue')).toMatch(/^TasksQueue[0-9A-F]{8}$/);
    expect(logicalId(template, 'AWS::Lambda::Function', 'TasksConsumer')).toMatch(/^TasksConsumer[0-9A-F]{8}$/);
    const outputs = template.toJSON().Outputs as Record<string, Json>;
    for (const key of ['QueueUrl', 'DeadLetterQueueUrl', 'ConsumerFunctionName', 'CriticalLaneQueueUrl', 'CriticalLaneDeadLetterQueueUrl', 'BulkLaneQueueArn', 'BulkLaneConsumerFunctionName', 'BulkLaneConsumerLogGroupName']) {
      expect(outputs[key], key).toBeDefined();
    }
    const bulk = queue.lanes.bulk!;
    const bulkQueueId = Stack.of(queue).getLogicalId(bulk.queue.node.defaultChild as never);
    const bulkDlqId = Stack.of(queue).getLogicalId(bulk.deadLetterQueue.node.defaultChild as never);
    expect(str(outputs.BulkLaneQueueUrl.Value)).toBe(`\${${bulkQueueId}}`);
    // The lane's queue dead-letters into the lane's own DLQ.
    expect(str(resource(template, bulkQueueId).Properties.RedrivePolicy.deadLetterTargetArn)).toBe(`\${${bulkDlqId}.Arn}`);
    // Visibility derived from the lane's timeout and window: 6 × 60 + 5.
    expect(resource(template, bulkQueueId).Properties.VisibilityTimeout).toBe(365);
  });

  it('the lane mapping and function carry the lane settings; reservedConcurrency belongs to the lane function', () => {
    const { template, queue, stack } = synth();
    const bulkFn = functionOfLane(template, 'bulk');
    expect(bulkFn.props.MemorySize).toBe(512);
    expect(bulkFn.props.Timeout).toBe(60);
    expect(bulkFn.props.ReservedConcurrentExecutions).toBeUndefined();
    const criticalFn = functionOfLane(template, 'critical');
    expect(criticalFn.props.ReservedConcurrentExecutions).toBe(20);
    const defaultFn = functionOfLane(template, 'default');
    expect(defaultFn.props.ReservedConcurrentExecutions).toBeUndefined();
    const bulkQueueId = stack.getLogicalId(queue.lanes.bulk!.queue.node.defaultChild as never);
    const mappings = Object.values(template.findResources('AWS::Lambda::EventSourceMapping')).map((m: Json) => m.Properties);
    const bulkMapping = mappings.find((m: Json) => str(m.EventSourceArn) === `\${${bulkQueueId}.Arn}`);
    expect(bulkMapping).toMatchObject({ BatchSize: 100, MaximumBatchingWindowInSeconds: 5, ScalingConfig: { MaximumConcurrency: 5 }, FunctionResponseTypes: ['ReportBatchItemFailures'] });
    expect(str(bulkMapping.FunctionName)).toBe(`\${${bulkFn.id}}`);
  });

  it('every consumer knows its own queue and the routing table naming every lane (to forward misrouted tasks)', () => {
    const { template, stack, queue } = synth();
    const resolved = stack.resolve(stack.toJsonString(queue.routing));
    for (const lane of ['default', 'critical', 'bulk']) {
      const fn = functionOfLane(template, lane);
      expect(fn.props.Environment.Variables[LANE_ENV.routing]).toEqual(resolved);
    }
    const bulkQueueId = stack.getLogicalId(queue.lanes.bulk!.queue.node.defaultChild as never);
    expect(str(functionOfLane(template, 'bulk').props.Environment.Variables[ENV.queueUrl])).toBe(`\${${bulkQueueId}}`);
    const routingText = str(resolved);
    expect(() => parseRoutingTable(routingText.replace(/\$\{[^}]+\}/g, 'url'))).not.toThrow();
    expect(parseRoutingTable(routingText.replace(/\$\{[^}]+\}/g, 'url')).types).toEqual({ password_reset: 'critical', analytics: 'bulk', update_analytics: 'bulk' });
  });

  it('the stack writes the routing item with a PutItem limited to the routing key', () => {
    const { template, stack, queue } = synth();
    const custom = Object.values(template.findResources('Custom::AWS'));
    expect(custom).toHaveLength(1);
    const create = str(custom[0].Properties.Create);
    expect(create).toContain('"action":"putItem"');
    expect(create).toContain(ROUTING_ITEM_KEY);
    const tableId = stack.getLogicalId(queue.table.node.defaultChild as never);
    const statements = Object.values(template.findResources('AWS::IAM::Policy'))
      .map((p: Json) => p.Properties.PolicyDocument.Statement)
      .flat()
      .filter((s: Json) => s.Action === 'dynamodb:PutItem' && s.Condition);
    expect(statements).toHaveLength(1);
    expect(statements[0].Condition).toEqual({ 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [ROUTING_ITEM_KEY] } });
    expect(str(statements[0].Resource)).toBe(`\${${tableId}.Arn}`);
  });

  it('each lane has its own alarms and dashboard row', () => {
    const { template, queue } = synth();
    const names = Object.values(template.findResources('AWS::CloudWatch::Alarm')).map((a: Json) => a.Properties.AlarmName as string);
    expect(names).toContain('TestStack-Tasks-QueueDepth');
    expect(names).toContain('TestStack-Tasks-bulk-QueueDepth');
    expect(names).toContain('TestStack-Tasks-critical-DeadLetterQueueNotEmpty');
    expect(names).toContain('TestStack-Tasks-critical-NoConsumers');
    expect(names.filter((n) => n.endsWith('UnfinishedTaskAge'))).toEqual(['TestStack-Tasks-UnfinishedTaskAge']);
    expect(Object.keys(queue.lanes.bulk!.alarms)).toHaveLength(6);
    const body = JSON.stringify(template.toJSON().Resources[logicalId(template, 'AWS::CloudWatch::Dashboard')].Properties.DashboardBody);
    expect(body).toContain('Lane bulk: dead-letter queue');
    expect(body).toContain('Lane critical: waiting, in flight');
  });

  it('IAM per lane: a lane consumer consumes only its queue, dead-letters only to its DLQ, and may forward to the other lanes', () => {
    const { template, stack, queue } = synth();
    const id = (c: { node: { defaultChild?: unknown } }) => stack.getLogicalId(c.node.defaultChild as never);
    const arn = (c: { node: { defaultChild?: unknown } }) => `\${${id(c)}.Arn}`;
    const bulk = queue.lanes.bulk!;
    const critical = queue.lanes.critical!;
    const bulkRole = roleStatements(template, id(bulk.consumerRole));
    expect(allows(bulkRole, 'sqs:ReceiveMessage', arn(bulk.queue))).toBe(true);
    expect(allows(bulkRole, 'sqs:ReceiveMessage', arn(critical.queue))).toBe(false);
    expect(allows(bulkRole, 'sqs:ReceiveMessage', arn(queue.queue))).toBe(false);
    expect(allows(bulkRole, 'sqs:SendMessage', arn(bulk.deadLetterQueue))).toBe(true);
    expect(allows(bulkRole, 'sqs:SendMessage', arn(critical.deadLetterQueue))).toBe(false);
    expect(allows(bulkRole, 'sqs:SendMessage', arn(critical.queue))).toBe(true);
    expect(allows(bulkRole, 'sqs:SendMessage', arn(queue.queue))).toBe(true);
    const defaultRole = roleStatements(template, id(queue.consumer.role!));
    expect(allows(defaultRole, 'sqs:ReceiveMessage', arn(bulk.queue))).toBe(false);
    expect(allows(defaultRole, 'sqs:SendMessage', arn(bulk.queue))).toBe(true);
    expect(allows(defaultRole, 'sqs:SendMessage', arn(bulk.deadLetterQueue))).toBe(false);
  });

  it('grantSend covers every lane queue and the routing item read (GetItem on the routing key only)', () => {
    const stack = testStack();
    const queue = new TaskQueue(stack, 'Tasks', { lanes: LANES });
    const producer = new iam.Role(stack, 'Producer', { assumedBy: new iam.AccountRootPrincipal() });
    queue.grantSend(producer);
    const template = Template.fromStack(stack);
    const statements = roleStatements(template, stack.getLogicalId(producer.node.defaultChild as never));
    const arn = (c: { node: { defaultChild?: unknown } }) => `\${${stack.getLogicalId(c.node.defaultChild as never)}.Arn}`;
    for (const q of [queue.queue, queue.lanes.bulk!.queue, queue.lanes.critical!.queue]) expect(allows(statements, 'sqs:SendMessage', arn(q))).toBe(true);
    expect(allows(statements, 'sqs:SendMessage', arn(queue.lanes.bulk!.deadLetterQueue))).toBe(false);
    const get = statements.filter((s) => s.actions.includes('dynamodb:GetItem'));
    expect(get).toHaveLength(1);
    expect(get[0]!.raw.Condition).toEqual({ 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [ROUTING_ITEM_KEY] } });
  });
});
