/**
 * The enforcement: an AWS SDK v3 middleware that, for a call made as a principal
 * (principals.ts), maps the command to IAM requests (sdk-call-actions.ts), evaluates each
 * against every synthesized variant (evaluator.ts) before the request is sent, records the
 * (principal, action, resource) triples (ledger.ts), and refuses what the template would
 * refuse with an AccessDenied error naming the missing statement. The refusal is recorded
 * too, so a test fails even when the code under test catches the error and carries on
 * (worker-setup.ts; child processes: childDenials).
 */
import { addInitializeMiddlewareOnce, type MiddlewareClient } from '../sdk-middleware.ts';
import { recordDenial, recordTriple } from './ledger.ts';
import { evaluate, refusalMessage, requestsFor, variantApplies } from './evaluator.ts';
import { currentPrincipal, type PrincipalName } from './principals.ts';
import { lookupRole } from './resource-roles.ts';
import { actionChecks, UnmappedCallError, type AwsService, type ServiceCall } from './sdk-call-actions.ts';
import { policyModels } from './synthesized-policies.ts';

const SERVICE_OF_CLIENT: Record<string, AwsService> = {
  SQSClient: 'sqs',
  S3Client: 's3',
  DynamoDBClient: 'dynamodb',
  DynamoDBStreamsClient: 'dynamodbstreams',
  EventBridgeClient: 'events',
  CloudFormationClient: 'cloudformation',
  CloudWatchClient: 'cloudwatch',
};

/** What AWS answers a refused call with (the SDK's error shape: name, $fault, $metadata). */
export class IamAccessDeniedError extends Error {
  readonly $fault = 'client';
  readonly $metadata = { httpStatusCode: 403 };
  readonly Code: string;

  constructor(service: AwsService, message: string) {
    super(message);
    this.name = service === 'dynamodb' || service === 'dynamodbstreams' || service === 'events' ? 'AccessDeniedException' : 'AccessDenied';
    this.Code = this.name;
  }
}

/** Evaluates one call as `principal`; throws IamAccessDeniedError (or UnmappedCallError) when the template refuses it. */
export async function checkCall(principal: PrincipalName, call: ServiceCall): Promise<void> {
  const label = `${call.service} ${call.command}`;
  try {
    const checks = actionChecks(call, lookupRole);
    const models = policyModels();
    for (const check of checks) {
      // Every variant that has the principal and the resource answers; at least one must.
      const answering = models.filter((model) => variantApplies(model, principal, check));
      if (answering.length === 0) {
        const target = check.target.kind === 'resource' ? check.target.role : check.target.kind;
        throw new UnmappedCallError(call, `no synthesized variant has both the ${principal} principal and the ${target} resource (${check.action})`);
      }
      for (const model of answering) {
        for (const request of requestsFor(model, principal, check, call.service, models)) {
          recordTriple({ principal, action: request.action, resource: request.counted });
          const decision = await evaluate(model, request);
          if (!decision.allowed) throw new IamAccessDeniedError(call.service, refusalMessage(model, decision, label));
        }
      }
    }
  } catch (error) {
    if (error instanceof IamAccessDeniedError || error instanceof UnmappedCallError) recordDenial(error.message);
    throw error;
  }
}

/**
 * Adds the enforcement to an SDK client (once). Calls made outside any principal context
 * pass through unevaluated: they are the test's own set-up and assertions.
 */
export function enforceIam<C extends MiddlewareClient>(client: C): C {
  return addInitializeMiddlewareOnce(client, 'taskqIamEnforcement', 'high', (next, context) => async (args) => {
    const principal = currentPrincipal();
    if (principal) {
      const service = SERVICE_OF_CLIENT[context.clientName ?? ''];
      if (!service) throw new UnmappedCallError({ service: 'sqs', command: String(context.commandName), input: {} }, `no IAM mapping for clients of type ${context.clientName}`);
      await checkCall(principal, { service, command: String(context.commandName).replace(/Command$/, ''), input: args.input });
    }
    return next(args);
  });
}
