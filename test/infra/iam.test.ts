/**
 * Least privilege, read from the synthesized policies: what each principal may do, and —
 * as important — what it may not.
 */
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { TaskQueue } from '../../lib/infra/task-queue.ts';
import {
  actionsOn,
  allActions,
  allAllowStatements,
  allows,
  logicalId,
  roleStatements,
  testStack,
  type Statement,
} from './helpers.ts';

/**
 * Resource "*" is allowed only for these actions, because AWS supports no resource-level
 * permissions for them: X-Ray trace upload (added by Lambda for active tracing), and
 * CloudWatch GetMetricData (the operator grants: `taskq stats`).
 */
const ACTIONS_REQUIRING_STAR = new Set(['xray:PutTraceSegments', 'xray:PutTelemetryRecords', 'cloudwatch:GetMetricData']);

let template: Template;
let r: Record<'queue' | 'dlq' | 'table' | 'bucket' | 'consumerRole' | 'producer' | 'status' | 'canceller' | 'operator', string>;
let consumer: Statement[];

beforeAll(() => {
  const stack = testStack();
  const tq = new TaskQueue(stack, 'Tasks');
  const producer = new iam.Role(stack, 'Producer', { assumedBy: new iam.AccountRootPrincipal() });
  const status = new iam.Role(stack, 'Status', { assumedBy: new iam.AccountRootPrincipal() });
  const operator = new iam.Role(stack, 'Operator', { assumedBy: new iam.AccountRootPrincipal() });
  tq.grantSend(producer);
  tq.grantStatusRead(status);
  tq.grantCancel(new iam.Role(stack, 'Canceller', { assumedBy: new iam.AccountRootPrincipal() }));
  tq.grantRedrive(operator);
  // Every grant in the template, so the wildcard checks below see them all.
  tq.grantOperate(new iam.Role(stack, 'FullOperator', { assumedBy: new iam.AccountRootPrincipal() }));
  template = Template.fromStack(stack);
  const arn = (id: string) => `\${${id}.Arn}`;
  r = {
    queue: arn(logicalId(template, 'AWS::SQS::Queue', 'TasksQueue')),
    dlq: arn(logicalId(template, 'AWS::SQS::Queue', 'TasksDeadLetterQueue')),
    table: arn(logicalId(template, 'AWS::DynamoDB::Table')),
    bucket: arn(logicalId(template, 'AWS::S3::Bucket')),
    consumerRole: logicalId(template, 'AWS::IAM::Role', 'TasksConsumerRole'),
    producer: logicalId(template, 'AWS::IAM::Role', 'Producer'),
    status: logicalId(template, 'AWS::IAM::Role', 'Status'),
    canceller: logicalId(template, 'AWS::IAM::Role', 'Canceller'),
    operator: logicalId(template, 'AWS::IAM::Role', 'Operator'),
  };
  consumer = roleStatements(template, r.consumerRole);
});

describe('consumer role', () => {
  it('may consume the source queue: receive, delete, change visibility, read attributes, and send its re-sent copies — nothing else', () => {
    expect(actionsOn(consumer, r.queue)).toEqual([
      'sqs:ChangeMessageVisibility',
      'sqs:DeleteMessage',
      'sqs:GetQueueAttributes',
      'sqs:ReceiveMessage',
      'sqs:SendMessage',
    ]);
    // Deliberate: the runtime re-sends fresh copies to its own queue (notBefore hops beyond
    // 15 minutes, records on their last receive); without it every re-send is refused.
    expect(allows(consumer, 'sqs:SendMessage', r.queue)).toBe(true);
    expect(allows(consumer, 'sqs:PurgeQueue', r.queue)).toBe(false);
  });

  it('may only send to the DLQ (never receive, delete or purge it)', () => {
    expect(actionsOn(consumer, r.dlq)).toEqual(['sqs:SendMessage']);
  });

  it('may insert/put/update/delete (a conditional lease release)/batch-write/batch-get table items, never scan or query', () => {
    expect(actionsOn(consumer, r.table)).toEqual([
      'dynamodb:BatchGetItem',
      'dynamodb:BatchWriteItem',
      'dynamodb:DeleteItem',
      'dynamodb:PartiQLInsert',
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
    ]);
    expect(allows(consumer, 'dynamodb:Scan', r.table)).toBe(false);
    expect(allows(consumer, 'dynamodb:Query', r.table)).toBe(false);
  });

  it('may read and delete claim objects under the claim prefix only, and never write or list the bucket', () => {
    expect(allows(consumer, 's3:GetObject', `${r.bucket}/claims/abc`)).toBe(true);
    expect(allows(consumer, 's3:GetObject', `${r.bucket}/other/abc`)).toBe(false);
    // Deliberate: the runtime deletes a claim object once its task SUCCEEDED (deleteClaimsAfterSuccess).
    expect(allows(consumer, 's3:DeleteObject', `${r.bucket}/claims/abc`)).toBe(true);
    expect(allows(consumer, 's3:DeleteObject', `${r.bucket}/other/abc`)).toBe(false);
    expect(allows(consumer, 's3:DeleteObject', r.bucket)).toBe(false);
    expect(allows(consumer, 's3:PutObject', `${r.bucket}/claims/abc`)).toBe(false);
    // Results too large for the record: written under the results prefix only.
    expect(allows(consumer, 's3:PutObject', `${r.bucket}/results/tsk_1.json`)).toBe(true);
    expect(allows(consumer, 's3:ListBucket', r.bucket)).toBe(false);
    expect(allows(consumer, 's3:DeleteBucket', r.bucket)).toBe(false);
  });

  it('has exactly the actions the runtime needs (plus logs on its log group; X-Ray only with tracing on)', () => {
    expect(allActions(consumer)).toEqual([
      'dynamodb:BatchGetItem',
      'dynamodb:BatchWriteItem',
      'dynamodb:DeleteItem',
      'dynamodb:PartiQLInsert',
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
      'logs:CreateLogStream',
      'logs:PutLogEvents',
      's3:DeleteObject',
      's3:GetObject',
      's3:PutObject',
      'sqs:ChangeMessageVisibility',
      'sqs:DeleteMessage',
      'sqs:GetQueueAttributes',
      'sqs:ReceiveMessage',
      'sqs:SendMessage',
    ]);
    const logGroup = `\${${logicalId(template, 'AWS::Logs::LogGroup')}.Arn}`;
    expect(actionsOn(consumer, logGroup)).toEqual(['logs:CreateLogStream', 'logs:PutLogEvents']);
  });
});

describe('grantSend', () => {
  it('lets a producer send and read queue attributes, and put claim objects under the prefix', () => {
    const producer = roleStatements(template, r.producer);
    expect(actionsOn(producer, r.queue)).toEqual(['sqs:GetQueueAttributes', 'sqs:SendMessage']);
    expect(allows(producer, 's3:PutObject', `${r.bucket}/claims/x`)).toBe(true);
    expect(allows(producer, 's3:PutObject', `${r.bucket}/elsewhere/x`)).toBe(false);
    expect(allActions(producer)).toEqual(['dynamodb:PutItem', 'dynamodb:UpdateItem', 's3:PutObject', 'sqs:GetQueueAttributes', 'sqs:SendMessage']);
  });

  it('lets a producer create groups only (sendGroup): PutItem on the table, leading keys ?group:*', () => {
    const producer = roleStatements(template, r.producer);
    const onTable = producer.filter((s) => s.actions.includes('dynamodb:PutItem'));
    expect(onTable).toHaveLength(1);
    expect(onTable[0]!.actions).toEqual(['dynamodb:PutItem']);
    expect(onTable[0]!.resources).toEqual([r.table]);
    expect(onTable[0]!.raw.Condition).toEqual({ 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['?group:*'] } });
  });

  it('lets a producer update dedupe items only (send option dedupe): UpdateItem on the table, leading keys ?dedupe:*', () => {
    const producer = roleStatements(template, r.producer);
    const onTable = producer.filter((s) => s.actions.includes('dynamodb:UpdateItem'));
    expect(onTable).toHaveLength(1);
    expect(onTable[0]!.actions).toEqual(['dynamodb:UpdateItem']);
    expect(onTable[0]!.resources).toEqual([r.table]);
    expect(onTable[0]!.raw.Condition).toEqual({ 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['?dedupe:*'] } });
  });

  it('does not let a producer read the table, the DLQ or claim objects', () => {
    const producer = roleStatements(template, r.producer);
    expect(allows(producer, 'dynamodb:GetItem', r.table)).toBe(false);
    expect(allows(producer, 'sqs:ReceiveMessage', r.dlq)).toBe(false);
    expect(allows(producer, 's3:GetObject', `${r.bucket}/claims/x`)).toBe(false);
  });
});

describe('grantStatusRead', () => {
  it('gives dynamodb:GetItem on the task table and s3:GetObject under the results prefix (waitForResult), nothing else', () => {
    const status = roleStatements(template, r.status);
    expect(allActions(status)).toEqual(['dynamodb:GetItem', 's3:GetObject']);
    expect(actionsOn(status, r.table)).toEqual(['dynamodb:GetItem']);
    expect(allows(status, 's3:GetObject', `${r.bucket}/results/tsk_1.json`)).toBe(true);
    expect(allows(status, 's3:GetObject', `${r.bucket}/claims/x`)).toBe(false);
  });
});

describe('grantCancel', () => {
  it('gives dynamodb:UpdateItem on the task table and nothing else (no queue, no bucket, no read)', () => {
    const canceller = roleStatements(template, r.canceller);
    expect(allActions(canceller)).toEqual(['dynamodb:UpdateItem']);
    expect(actionsOn(canceller, r.table)).toEqual(['dynamodb:UpdateItem']);
  });
});

describe('grantRedrive', () => {
  it('lets an operator inspect, purge and move messages out of the DLQ, and send to and read the source queue', () => {
    const operator = roleStatements(template, r.operator);
    expect(actionsOn(operator, r.dlq)).toEqual([
      'sqs:CancelMessageMoveTask',
      'sqs:ChangeMessageVisibility',
      'sqs:DeleteMessage',
      'sqs:GetQueueAttributes',
      'sqs:ListMessageMoveTasks',
      'sqs:PurgeQueue',
      'sqs:ReceiveMessage',
      'sqs:StartMessageMoveTask',
    ]);
    expect(actionsOn(operator, r.queue)).toEqual(['sqs:GetQueueAttributes', 'sqs:SendMessage']);
    expect(allows(operator, 'sqs:SendMessage', r.dlq)).toBe(false);
    expect(allows(operator, 'sqs:PurgeQueue', r.queue)).toBe(false);
    expect(allows(operator, 'dynamodb:GetItem', r.table)).toBe(false);
  });
});

describe('no wildcards', () => {
  it('no Allow statement anywhere has action "*" or "<service>:*"', () => {
    for (const s of allAllowStatements(template)) {
      for (const action of s.actions) {
        expect(action, JSON.stringify(s.raw)).not.toBe('*');
        expect(action, JSON.stringify(s.raw)).not.toMatch(/:\*$/);
      }
    }
  });

  it('resource "*" appears only with actions that support no resource-level permissions', () => {
    for (const s of allAllowStatements(template).filter((st) => st.resources.includes('*'))) {
      for (const action of s.actions) expect(ACTIONS_REQUIRING_STAR.has(action), action).toBe(true);
    }
  });

  it('the construct alone (tracing off by default) has no resource "*" at all', () => {
    const stack = testStack();
    new TaskQueue(stack, 'Tasks');
    const t = Template.fromStack(stack);
    expect(allAllowStatements(t).filter((s) => s.resources.includes('*'))).toEqual([]);
  });

  it('with tracing on, the consumer\'s only resource "*" is X-Ray\'s', async () => {
    const { Tracing } = await import('aws-cdk-lib/aws-lambda');
    const stack = testStack();
    new TaskQueue(stack, 'Tasks', { tracing: Tracing.ACTIVE });
    const t = Template.fromStack(stack);
    const star = allAllowStatements(t).filter((s) => s.resources.includes('*'));
    expect(star.flatMap((s) => s.actions).sort()).toEqual(['xray:PutTelemetryRecords', 'xray:PutTraceSegments']);
  });
});

describe('with a customer-managed key', () => {
  let t: Template;
  let keyArn: string;
  beforeAll(() => {
    const stack = testStack();
    const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
    const tq = new TaskQueue(stack, 'Tasks', { encryptionKey: key });
    tq.grantSend(new iam.Role(stack, 'Producer', { assumedBy: new iam.AccountRootPrincipal() }));
    tq.grantStatusRead(new iam.Role(stack, 'Status', { assumedBy: new iam.AccountRootPrincipal() }));
    tq.grantRedrive(new iam.Role(stack, 'Operator', { assumedBy: new iam.AccountRootPrincipal() }));
    t = Template.fromStack(stack);
    keyArn = `\${${logicalId(t, 'AWS::KMS::Key')}.Arn}`;
  });

  it('the consumer may decrypt, encrypt and generate data keys with it (no ReEncrypt, no wildcard)', () => {
    const c = roleStatements(t, logicalId(t, 'AWS::IAM::Role', 'TasksConsumerRole'));
    expect(actionsOn(c, keyArn)).toEqual(['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey']);
  });

  it('a producer may generate data keys and decrypt (SQS and S3 SSE-KMS)', () => {
    const p = roleStatements(t, logicalId(t, 'AWS::IAM::Role', 'Producer'));
    expect(actionsOn(p, keyArn)).toEqual(['kms:Decrypt', 'kms:GenerateDataKey']);
  });

  it('a status reader may only decrypt', () => {
    const s = roleStatements(t, logicalId(t, 'AWS::IAM::Role', 'Status'));
    expect(actionsOn(s, keyArn)).toEqual(['kms:Decrypt']);
    expect(allActions(s)).toEqual(['dynamodb:GetItem', 'kms:Decrypt', 's3:GetObject']);
  });

  it('an operator may decrypt and generate data keys', () => {
    const o = roleStatements(t, logicalId(t, 'AWS::IAM::Role', 'Operator'));
    expect(actionsOn(o, keyArn)).toEqual(['kms:Decrypt', 'kms:GenerateDataKey']);
  });
});
