/**
 * The routing table item: one item in the task table (key ROUTING_ITEM_KEY) holding, as JSON,
 * the queue URL of every lane, the lane of each type and the fan-out targets of each event.
 * The stack writes it at deploy time (an AwsCustomResource PutItem on create and on every
 * change), producers with `routing: true` read it with one GetItem and cache it: moving a
 * type to another lane is a stack deployment, never a producer change.
 */
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Stack, Validations } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { ROUTING_ATTRIBUTE, ROUTING_ITEM_KEY } from '../protocol/lanes.ts';
import { TABLE_SCHEMA } from '../protocol/resources.ts';

/** What the custom resource's role may do: write the routing item and nothing else. */
export const ROUTING_WRITE_ACTIONS = ['dynamodb:PutItem'] as const;

/** Restricts a DynamoDB grant to the routing item (IAM's `dynamodb:LeadingKeys` condition). */
export function routingItemCondition(): Record<string, Record<string, string[]>> {
  return { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [ROUTING_ITEM_KEY] } };
}

export function createRoutingTableItem(scope: Construct, table: dynamodb.ITable, routingJson: string, encryptionKey?: kms.IKey): cr.AwsCustomResource {
  const putItem: cr.AwsSdkCall = {
    service: 'DynamoDB',
    action: 'putItem',
    parameters: {
      TableName: table.tableName,
      // No TTL attribute: the routing item never expires.
      Item: { [TABLE_SCHEMA.partitionKey]: { S: ROUTING_ITEM_KEY }, [ROUTING_ATTRIBUTE]: { S: routingJson } },
    },
    physicalResourceId: cr.PhysicalResourceId.of(ROUTING_ITEM_KEY),
  };
  const resource = new cr.AwsCustomResource(scope, 'RoutingTable', {
    onCreate: putItem,
    onUpdate: putItem,
    // The table outlives the stack when retained; a leftover item only routes to queues that are gone.
    policy: cr.AwsCustomResourcePolicy.fromStatements([
      new iam.PolicyStatement({ actions: [...ROUTING_WRITE_ACTIONS], resources: [table.tableArn], conditions: routingItemCondition() }),
    ]),
    installLatestAwsSdk: false,
  });
  if (encryptionKey) encryptionKey.grant(resource, 'kms:Encrypt', 'kms:GenerateDataKey', 'kms:Decrypt');
  acknowledgeProviderFindings(scope);
  return resource;
}

/** The provider function AwsCustomResource shares per stack: acknowledged on it, with reasons. */
function acknowledgeProviderFindings(scope: Construct): void {
  const stack = Stack.of(scope);
  const provider = stack.node.tryFindChild(PROVIDER_ID);
  if (!provider) return;
  const reason = 'The AwsCustomResource provider (aws-cdk-lib) runs once per deployment to write the routing item; its runtime, role and settings are aws-cdk-lib\'s.';
  Validations.of(provider).acknowledge(
    { id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]', reason: `${reason} The managed policy only lets it write its own logs.` },
    { id: 'Serverless-LambdaTracing', reason: `${reason} One SDK call per deployment: nothing to trace.` },
    { id: 'Serverless-LambdaDLQ', reason: `${reason} CloudFormation invokes it and reports its failure.` },
    { id: 'Serverless-LambdaDefaultMemorySize', reason: `${reason} A single PutItem needs no more than the default memory.` },
  );
}

/** The construct id aws-cdk-lib gives the AwsCustomResource provider singleton. */
const PROVIDER_ID = 'AWS679f53fac002430cb0da5b7982bd2287';
