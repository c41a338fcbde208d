/**
 * The IAM harness (test/support/iam/) can fail: the evaluator refuses what a template
 * without the statement would refuse, honours explicit denies and the KMS key-policy rule,
 * the SDK mapping asks for what AWS checks, and the middleware refuses before the request
 * is sent. Uses the run's synthesized policies (the global setup's policies.json).
 */
import { describe, expect, it } from 'vitest';
import { SQSClient, SendMessageCommand } from '@aws-sdk/client-sqs';
import { evaluate, requestsFor, simulate, variantApplies, type IamRequest } from '../support/iam/evaluator.ts';
import { enforceIam, IamAccessDeniedError } from '../support/iam/enforcement.ts';
import { takeDenials } from '../support/iam/ledger.ts';
import { laneRole, type PolicyModel, type ResourceRole, type Statement } from '../support/iam/policy-model.ts';
import { asPrincipal } from '../support/iam/principals.ts';
import { registerResources } from '../support/iam/resource-roles.ts';
import { actionChecks, partiqlTarget, UnmappedCallError, type RoleLookup } from '../support/iam/sdk-call-actions.ts';
import { LANES_VARIANT, policyModels, VARIANTS } from '../support/iam/synthesized-policies.ts';
import { ROUTING_ITEM_KEY } from '../../lib/protocol/lanes.ts';
import { uniqueName } from '../support/aws.ts';

const plain = () => policyModels().find((m) => m.variant === VARIANTS.plain)!;
const encrypted = () => policyModels().find((m) => m.variant === VARIANTS.encrypted)!;

const lookup: RoleLookup = (kind, name) =>
  (({ 'queue:src': 'queue', 'queue:dlq': 'deadLetterQueue', 'table:tasks': 'table', 'bucket:claims': 'bucket', 'queue:gone': 'absent' }) as Record<string, ReturnType<RoleLookup>>)[`${kind}:${name}`];

function only(model: PolicyModel, principal: 'consumer' | 'producer' | 'operator', action: string, role: 'queue' | 'deadLetterQueue' | 'table' | 'bucket'): IamRequest {
  return requestsFor(model, principal, { action, target: { kind: 'resource', role } }, 'sqs')[0]!;
}

/** A copy of the model whose principal lacks every identity statement granting `action`. */
function withoutStatement(model: PolicyModel, principal: 'consumer', action: string): PolicyModel {
  const copy = structuredClone(model);
  const grants = (s: Statement) => [s.Action].flat().includes(action);
  const policies = copy.principals[principal].policies.map((p) => ({ ...p, document: { ...p.document, Statement: p.document.Statement.filter((s) => !grants(s)) } }));
  return { ...copy, principals: { ...copy.principals, [principal]: { ...copy.principals[principal], policies } } };
}

describe('evaluator', () => {
  it('allows what the synthesized policy grants, and refuses it once the statement is removed — naming the policy', async () => {
    const model = plain();
    const request = only(model, 'consumer', 'sqs:DeleteMessage', 'queue');
    expect((await simulate(model, request)).allowed).toBe(true);
    const refused = await simulate(withoutStatement(model, 'consumer', 'sqs:DeleteMessage'), request);
    expect(refused.allowed).toBe(false);
    expect(refused.reason).toContain(model.principals.consumer.policies[0]!.source);
    expect(refused.reason).toContain(model.resources.queue.policy!.source);
  });

  it('honours an explicit deny: a request without TLS is refused by the queue policy, whatever the role may do', async () => {
    const model = plain();
    const request = only(model, 'consumer', 'sqs:DeleteMessage', 'queue');
    const plainText = await simulate(model, { ...request, context: { ...request.context, 'aws:SecureTransport': 'false' } });
    expect(plainText.allowed).toBe(false);
    expect(plainText.reason).toMatch(/explicitly denied by statement .* of the resource policy/);
  });

  it('a KMS key needs its key policy: without the statement for the account root, an identity grant is not enough', async () => {
    const model = encrypted();
    const decrypt = requestsFor(model, 'consumer', { action: 'sqs:ReceiveMessage', target: { kind: 'resource', role: 'queue' }, kms: ['kms:Decrypt'] }, 'sqs')[1]!;
    expect(decrypt.action).toBe('kms:Decrypt');
    expect((await simulate(model, decrypt)).allowed).toBe(true);
    const keyPolicy = decrypt.resourcePolicy!;
    const withoutRoot = {
      ...keyPolicy,
      document: { ...keyPolicy.document, Statement: keyPolicy.document.Statement.filter((s: Statement) => !JSON.stringify(s.Principal ?? '').endsWith(':root"}')) },
    };
    expect(withoutRoot.document.Statement.length).toBeLessThan(keyPolicy.document.Statement.length);
    const refused = await simulate(model, { ...decrypt, resourcePolicy: withoutRoot });
    expect(refused).toMatchObject({ allowed: false, reason: expect.stringContaining('neither allows it nor delegates to IAM') });
  });

  it('a producer may not read the DLQ; the cache answers a repeated question the same way', async () => {
    const model = plain();
    const request = only(model, 'producer', 'sqs:ReceiveMessage', 'deadLetterQueue');
    expect((await evaluate(model, request)).allowed).toBe(false);
    expect((await evaluate(model, request)).allowed).toBe(false);
  });
});

describe('SDK commands → IAM requests', () => {
  const checks = (service: 'sqs' | 's3' | 'dynamodb' | 'cloudformation' | 'cloudwatch', command: string, input: Record<string, unknown>) =>
    actionChecks({ service, command, input }, lookup).map((c) => [c.action, c.target.kind === 'resource' ? `${c.target.role}${c.target.objectKey ? `/${c.target.objectKey}` : ''}` : c.target.kind, c.kms ?? []]);

  it('SQS: batch commands check the single action; send and receive carry their KMS actions', () => {
    expect(checks('sqs', 'SendMessageBatch', { QueueUrl: 'http://h:1/000000000000/src' })).toEqual([['sqs:SendMessage', 'queue', ['kms:GenerateDataKey', 'kms:Decrypt']]]);
    expect(checks('sqs', 'ReceiveMessage', { QueueUrl: 'http://h:1/000000000000/dlq' })).toEqual([['sqs:ReceiveMessage', 'deadLetterQueue', ['kms:Decrypt']]]);
    expect(checks('sqs', 'ChangeMessageVisibilityBatch', { QueueUrl: 'http://h:1/000000000000/src' })).toEqual([['sqs:ChangeMessageVisibility', 'queue', []]]);
    expect(checks('sqs', 'GetQueueAttributes', { QueueUrl: 'http://h:1/000000000000/gone' })).toEqual([]);
  });

  it('SQS StartMessageMoveTask: the move task reads and deletes the DLQ and sends to the source queue with the caller\'s rights', () => {
    expect(checks('sqs', 'StartMessageMoveTask', { SourceArn: 'arn:aws:sqs:us-east-1:0:dlq' }).map(([a, t]) => `${a as string} ${t as string}`)).toEqual([
      'sqs:StartMessageMoveTask deadLetterQueue',
      'sqs:ReceiveMessage deadLetterQueue',
      'sqs:DeleteMessage deadLetterQueue',
      'sqs:GetQueueAttributes deadLetterQueue',
      'sqs:SendMessage queue',
    ]);
  });

  it('S3: DeleteObjects is s3:DeleteObject on each key; objects are object ARNs', () => {
    expect(checks('s3', 'DeleteObjects', { Bucket: 'claims', Delete: { Objects: [{ Key: 'claims/a' }, { Key: 'claims/b' }] } })).toEqual([
      ['s3:DeleteObject', 'bucket/claims/a', []],
      ['s3:DeleteObject', 'bucket/claims/b', []],
    ]);
    expect(checks('s3', 'PutObject', { Bucket: 'claims', Key: 'claims/x' })).toEqual([['s3:PutObject', 'bucket/claims/x', ['kms:GenerateDataKey']]]);
  });

  it('DynamoDB: PartiQL by statement verb, batch commands per table', () => {
    expect(partiqlTarget(`INSERT INTO "tasks" VALUE {'pk': ?}`)).toEqual({ action: 'dynamodb:PartiQLInsert', table: 'tasks' });
    expect(partiqlTarget(`SELECT * FROM "a""b"."idx" WHERE pk = ?`)).toEqual({ action: 'dynamodb:PartiQLSelect', table: 'a"b' });
    expect(checks('dynamodb', 'BatchExecuteStatement', { Statements: [{ Statement: `INSERT INTO "tasks" VALUE {'pk': ?}` }, { Statement: `UPDATE tasks SET x = 1` }] })).toEqual([
      ['dynamodb:PartiQLInsert', 'table', ['kms:Decrypt']],
      ['dynamodb:PartiQLUpdate', 'table', ['kms:Decrypt']],
    ]);
    expect(checks('dynamodb', 'BatchWriteItem', { RequestItems: { tasks: [] } })).toEqual([['dynamodb:BatchWriteItem', 'table', ['kms:Decrypt']]]);
  });

  it('CloudWatch DescribeAlarms is per named alarm; GetMetricData has no resource', () => {
    expect(checks('cloudwatch', 'DescribeAlarms', { AlarmNames: ['a', 'b'] })).toEqual([
      ['cloudwatch:DescribeAlarms', 'alarm', []],
      ['cloudwatch:DescribeAlarms', 'alarm', []],
    ]);
    expect(checks('cloudwatch', 'GetMetricData', {})).toEqual([['cloudwatch:GetMetricData', 'any', []]]);
  });

  it('an unmapped command or an unregistered resource is an error, never a silent pass', () => {
    expect(() => checks('sqs', 'DeleteQueue', { QueueUrl: 'http://h:1/000000000000/src' })).toThrow(UnmappedCallError);
    expect(() => checks('sqs', 'SendMessage', { QueueUrl: 'http://h:1/000000000000/unknown' })).toThrow(/plays no registered role/);
  });
});

describe('the middleware', () => {
  it('refuses before the request is sent, and only for calls made as a principal', async () => {
    // An endpoint nothing listens on: a request that got through would fail to connect instead.
    const sqs = enforceIam(new SQSClient({ region: 'us-east-1', endpoint: 'http://127.0.0.1:9', credentials: { accessKeyId: 'x', secretAccessKey: 'x' }, maxAttempts: 1 }));
    const dlq = `http://127.0.0.1:9/000000000000/${uniqueName('dlq')}`;
    registerResources({ deadLetterQueueUrl: dlq });
    const send = () => sqs.send(new SendMessageCommand({ QueueUrl: dlq, MessageBody: 'x' }));
    await expect(asPrincipal('producer', send)).rejects.toBeInstanceOf(IamAccessDeniedError);
    expect(takeDenials().map((d) => d.message)).toEqual([expect.stringMatching(/producer role .* is not authorized to perform sqs:SendMessage on deadLetterQueue/)]);
    // Allowed for the consumer (it dead-letters), and set-up outside any principal is not evaluated: both reach the network.
    await expect(asPrincipal('consumer', send)).rejects.toThrow(/ECONNREFUSED|connect/);
    await expect(send()).rejects.toThrow(/ECONNREFUSED|connect/);
    expect(takeDenials()).toEqual([]);
  });
});

describe('variants', () => {
  const lanes = () => policyModels().find((m) => m.variant === VARIANTS.lanes)!;

  it('a lane’s queue and a lane’s consumer are answered by the variant with lanes only; a call no variant can answer is an error', () => {
    const onLane = { action: 'sqs:SendMessage', target: { kind: 'resource', role: laneRole(LANES_VARIANT.otherLane, 'queue') } } as const;
    expect(policyModels().filter((m) => variantApplies(m, 'consumer', onLane)).map((m) => m.variant)).toEqual([VARIANTS.lanes]);
    const onQueue = { action: 'sqs:DeleteMessage', target: { kind: 'resource', role: 'queue' } } as const;
    expect(policyModels().filter((m) => variantApplies(m, 'laneConsumer', onQueue)).map((m) => m.variant)).toEqual([VARIANTS.lanes]);
    expect(policyModels().filter((m) => variantApplies(m, 'producer', onQueue))).toHaveLength(3);
    const nowhere = { action: 'sqs:SendMessage', target: { kind: 'resource', role: laneRole('no-such-lane', 'queue') } } as const;
    expect(policyModels().filter((m) => variantApplies(m, 'consumer', nowhere))).toEqual([]);
  });

  it('DynamoDB item commands carry dynamodb:LeadingKeys: a send-only producer reads the routing item, no task record', async () => {
    const model = lanes();
    expect(actionChecks({ service: 'dynamodb', command: 'GetItem', input: { TableName: 'tasks', Key: { pk: { S: ROUTING_ITEM_KEY } } } }, lookup)).toEqual([
      { action: 'dynamodb:GetItem', target: { kind: 'resource', role: 'table' }, kms: ['kms:Decrypt'], context: { 'dynamodb:LeadingKeys': [ROUTING_ITEM_KEY] } },
    ]);
    const getItem = (key: string) =>
      requestsFor(model, 'sender', { action: 'dynamodb:GetItem', target: { kind: 'resource', role: 'table' }, context: { 'dynamodb:LeadingKeys': [key] } }, 'dynamodb')[0]!;
    expect((await simulate(model, getItem(ROUTING_ITEM_KEY))).allowed).toBe(true);
    expect((await simulate(model, getItem('order-42'))).allowed).toBe(false);
  });

  it('with lanes: a lane’s consumer forwards to another lane but may not use its queue as its own, nor its DLQ', async () => {
    const model = lanes();
    const request = (action: string, role: ResourceRole) => requestsFor(model, 'laneConsumer', { action, target: { kind: 'resource', role } }, 'sqs')[0]!;
    const other = (which: 'queue' | 'deadLetterQueue') => laneRole(LANES_VARIANT.otherLane, which);
    const own = (which: 'queue' | 'deadLetterQueue') => laneRole(LANES_VARIANT.lane, which);
    expect((await simulate(model, request('sqs:SendMessage', other('queue')))).allowed).toBe(true);
    expect((await simulate(model, request('sqs:DeleteMessage', other('queue')))).allowed).toBe(false);
    expect((await simulate(model, request('sqs:SendMessage', other('deadLetterQueue')))).allowed).toBe(false);
    expect((await simulate(model, request('sqs:SendMessage', own('deadLetterQueue')))).allowed).toBe(true);
    expect((await simulate(model, request('sqs:ChangeMessageVisibility', own('queue')))).allowed).toBe(true);
  });
});
