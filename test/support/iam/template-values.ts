/**
 * Concrete values for a synthesized template in a fixed fake account, as CloudFormation
 * would give them after a deploy: what `Ref` and `Fn::GetAtt` return for each resource type
 * the task queue's policies mention. Physical names are `<stack>-<logical id>` unless the
 * template names the resource (CloudFormation adds a random suffix; stable names are easier
 * to read in a refusal). Plugged into lib/local/intrinsics.ts's resolver, the same one the
 * local system provisions with.
 */
import { createHash } from 'node:crypto';
import { resolveIntrinsics, resolveString, type IntrinsicContext } from '../../../lib/local/intrinsics.ts';
import type { CfnTemplate } from '../../../lib/local/template.ts';

export const FAKE_ACCOUNT = '123456789012';
export const FAKE_REGION = 'us-east-1';

/** The property that names a resource of each type, when the template sets it. */
const NAME_PROPERTY: Record<string, string> = {
  'AWS::SQS::Queue': 'QueueName',
  'AWS::DynamoDB::Table': 'TableName',
  'AWS::S3::Bucket': 'BucketName',
  'AWS::SNS::Topic': 'TopicName',
  'AWS::IAM::Role': 'RoleName',
  'AWS::IAM::ManagedPolicy': 'ManagedPolicyName',
  'AWS::Lambda::Function': 'FunctionName',
  'AWS::Logs::LogGroup': 'LogGroupName',
  'AWS::CloudWatch::Alarm': 'AlarmName',
  'AWS::CloudWatch::Dashboard': 'DashboardName',
};

export class TemplateValues implements IntrinsicContext {
  readonly region = FAKE_REGION;
  readonly accountId = FAKE_ACCOUNT;
  private readonly naming = new Set<string>();

  constructor(
    readonly template: CfnTemplate,
    readonly stackName: string,
  ) {}

  get stackArn(): string {
    return `arn:aws:cloudformation:${this.region}:${this.accountId}:stack/${this.stackName}/local`;
  }

  /** Resolves every intrinsic in `value` (a policy document, a property). */
  resolve<T = unknown>(value: unknown, path = '$'): T {
    return resolveIntrinsics(value, this, path) as T;
  }

  type(logicalId: string): string | undefined {
    return this.template.Resources[logicalId]?.Type;
  }

  /** The resource's physical name (queue, table, bucket, role… name; a key's id). */
  physicalName(logicalId: string): string {
    const resource = this.template.Resources[logicalId];
    if (!resource) throw new Error(`no resource ${logicalId} in the template of ${this.stackName}`);
    if (resource.Type === 'AWS::KMS::Key') return keyId(this.stackName, logicalId);
    const property = NAME_PROPERTY[resource.Type];
    const given = property ? resource.Properties?.[property] : undefined;
    if (given !== undefined) {
      if (this.naming.has(logicalId)) throw new Error(`${logicalId}: its name refers to itself`);
      this.naming.add(logicalId);
      try {
        return resolveString(given, this, `${logicalId}.${property}`);
      } finally {
        this.naming.delete(logicalId);
      }
    }
    const generated = `${this.stackName}-${logicalId}`;
    if (resource.Type === 'AWS::S3::Bucket') return generated.toLowerCase();
    const fifo = resource.Type === 'AWS::SQS::Queue' && String(resource.Properties?.FifoQueue) === 'true';
    return fifo ? `${generated}.fifo` : generated;
  }

  ref(logicalId: string): string | undefined {
    const type = this.type(logicalId);
    if (type === undefined) return undefined;
    switch (type) {
      case 'AWS::SQS::Queue':
        return this.getAtt(logicalId, 'QueueUrl');
      case 'AWS::SNS::Topic':
      case 'AWS::IAM::ManagedPolicy':
        return this.arn(logicalId);
      default:
        return this.physicalName(logicalId);
    }
  }

  getAtt(logicalId: string, attribute: string): string | undefined {
    const type = this.type(logicalId);
    if (type === undefined) return undefined;
    const name = () => this.physicalName(logicalId);
    switch (`${type}.${attribute}`) {
      case 'AWS::SQS::Queue.QueueUrl':
        return `https://sqs.${this.region}.amazonaws.com/${this.accountId}/${name()}`;
      case 'AWS::SQS::Queue.QueueName':
      case 'AWS::SNS::Topic.TopicName':
      case 'AWS::KMS::Key.KeyId':
        return name();
      case 'AWS::SNS::Topic.TopicArn':
        return this.arn(logicalId);
      case 'AWS::DynamoDB::Table.StreamArn':
        return `${this.arn(logicalId)}/stream/1970-01-01T00:00:00.000`;
      case 'AWS::S3::Bucket.DomainName':
        return `${name()}.s3.amazonaws.com`;
      case 'AWS::S3::Bucket.RegionalDomainName':
        return `${name()}.s3.${this.region}.amazonaws.com`;
      case 'AWS::IAM::Role.RoleId':
        return `AROA${createHash('sha256').update(logicalId).digest('hex').slice(0, 17).toUpperCase()}`;
      case 'AWS::IAM::ManagedPolicy.PolicyArn':
        return this.arn(logicalId);
      default:
        return attribute === 'Arn' ? this.arn(logicalId) : undefined;
    }
  }

  /** The ARN of a resource of a type the task queue's policies mention. */
  arn(logicalId: string): string | undefined {
    const { region, accountId: account } = this;
    const name = this.physicalName(logicalId);
    switch (this.type(logicalId)) {
      case 'AWS::SQS::Queue':
        return `arn:aws:sqs:${region}:${account}:${name}`;
      case 'AWS::DynamoDB::Table':
        return `arn:aws:dynamodb:${region}:${account}:table/${name}`;
      case 'AWS::S3::Bucket':
        return `arn:aws:s3:::${name}`;
      case 'AWS::KMS::Key':
        return `arn:aws:kms:${region}:${account}:key/${name}`;
      case 'AWS::SNS::Topic':
        return `arn:aws:sns:${region}:${account}:${name}`;
      case 'AWS::IAM::Role':
        return `arn:aws:iam::${account}:role/${name}`;
      case 'AWS::IAM::ManagedPolicy':
        return `arn:aws:iam::${account}:policy/${name}`;
      case 'AWS::Lambda::Function':
        return `arn:aws:lambda:${region}:${account}:function:${name}`;
      case 'AWS::Logs::LogGroup':
        return `arn:aws:logs:${region}:${account}:log-group:${name}:*`;
      case 'AWS::CloudWatch::Alarm':
        return `arn:aws:cloudwatch:${region}:${account}:alarm:${name}`;
      case 'AWS::CloudWatch::Dashboard':
        return `arn:aws:cloudwatch::${account}:dashboard/${name}`;
      default:
        return undefined;
    }
  }
}

/** A KMS key id (UUID form) that is stable for a stack and logical id. */
function keyId(stackName: string, logicalId: string): string {
  const h = createHash('sha256').update(`${stackName}/${logicalId}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}
