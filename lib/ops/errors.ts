/**
 * Errors of the operations commands, each with a stable `code` and the process exit code
 * the CLI ends with. AWS SDK errors are translated into these with a sentence that says
 * what to do next (no stack, no credentials, unknown queue, access denied, unreachable
 * endpoint).
 */
import { TaskQueueError } from '../protocol/errors.ts';

/** Exit codes of `taskq`: stable, documented in docs/OPERATIONS.md and docs/CLI.md. */
export const EXIT_CODES = {
  ok: 0,
  /** Bad arguments, a refused command (purge without --yes), a missing resource setting. */
  usage: 1,
  /** No local system, no such stack, no such queue, table or task. */
  notFound: 2,
  /** AWS answered with an error, or could not be reached, or there are no credentials. */
  aws: 3,
  /** The command ran but some messages failed (a redrive with failures). */
  partial: 4,
} as const;

export type OpsErrorCode =
  | 'USAGE'
  | 'REFUSED'
  | 'MISSING_RESOURCE'
  | 'NO_LOCAL_SYSTEM'
  | 'STACK_NOT_FOUND'
  | 'QUEUE_NOT_FOUND'
  | 'TABLE_NOT_FOUND'
  | 'TASK_NOT_FOUND'
  | 'SCHEDULE_NOT_FOUND'
  | 'GROUP_NOT_FOUND'
  | 'NO_CREDENTIALS'
  | 'ACCESS_DENIED'
  | 'ENDPOINT_UNREACHABLE'
  | 'PURGE_IN_PROGRESS'
  | 'AWS_ERROR';

const EXIT_BY_CODE: Record<OpsErrorCode, number> = {
  USAGE: EXIT_CODES.usage,
  REFUSED: EXIT_CODES.usage,
  MISSING_RESOURCE: EXIT_CODES.usage,
  NO_LOCAL_SYSTEM: EXIT_CODES.notFound,
  STACK_NOT_FOUND: EXIT_CODES.notFound,
  QUEUE_NOT_FOUND: EXIT_CODES.notFound,
  TABLE_NOT_FOUND: EXIT_CODES.notFound,
  TASK_NOT_FOUND: EXIT_CODES.notFound,
  SCHEDULE_NOT_FOUND: EXIT_CODES.notFound,
  GROUP_NOT_FOUND: EXIT_CODES.notFound,
  NO_CREDENTIALS: EXIT_CODES.aws,
  ACCESS_DENIED: EXIT_CODES.aws,
  ENDPOINT_UNREACHABLE: EXIT_CODES.aws,
  PURGE_IN_PROGRESS: EXIT_CODES.aws,
  AWS_ERROR: EXIT_CODES.aws,
};

export class OpsError extends TaskQueueError {
  declare readonly code: OpsErrorCode;
  readonly exitCode: number;
  constructor(code: OpsErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.exitCode = EXIT_BY_CODE[code];
  }
}

interface AwsLikeError {
  name?: string;
  Code?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
  $fault?: string;
}

/** What the failing call was about, for the message. */
export interface ErrorContext {
  /** e.g. "queue https://sqs…/my-queue" or "stack TaskQueueStack". */
  readonly resource?: string;
  readonly endpoint?: string;
  readonly region?: string;
}

/** Turns any error into an OpsError with a helpful message. OpsErrors pass through. */
export function toOpsError(error: unknown, context: ErrorContext = {}): OpsError {
  if (error instanceof OpsError) return error;
  const e = (typeof error === 'object' && error !== null ? error : { message: String(error) }) as AwsLikeError;
  const name = e.name ?? '';
  const awsCode = e.Code ?? e.code ?? '';
  const message = e.message ?? String(error);
  const about = context.resource ? ` (${context.resource})` : '';

  if (name === 'QueueDoesNotExist' || awsCode === 'AWS.SimpleQueueService.NonExistentQueue' || name === 'AWS.SimpleQueueService.NonExistentQueue') {
    return new OpsError('QUEUE_NOT_FOUND', `queue not found${about}: check --queue-url/--dlq-url, --stack and --region`, { cause: error });
  }
  if (name === 'ResourceNotFoundException' && /table/i.test(message)) {
    return new OpsError('TABLE_NOT_FOUND', `table not found${about}: check --table, --stack and --region`, { cause: error });
  }
  if (name === 'ValidationError' && /does not exist/i.test(message) && /stack/i.test(message)) {
    return new OpsError(
      'STACK_NOT_FOUND',
      `${message}${context.region ? ` in ${context.region}` : ''} — deploy it with \`npx cdk deploy\`, name it with --stack, or pass --queue-url/--dlq-url/--table/--bucket`,
      { cause: error },
    );
  }
  if (name === 'CredentialsProviderError' || /Could not load credentials|credential/i.test(name) || /Could not load credentials from any providers/i.test(message)) {
    return new OpsError(
      'NO_CREDENTIALS',
      'no AWS credentials found — set AWS_PROFILE (or run `aws sso login`), or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY; for the local system use --local',
      { cause: error },
    );
  }
  if (
    /AccessDenied|UnauthorizedOperation|NotAuthorized/i.test(name) ||
    /AccessDenied/i.test(awsCode) ||
    name === 'InvalidClientTokenId' ||
    name === 'UnrecognizedClientException' ||
    name === 'ExpiredToken' ||
    name === 'ExpiredTokenException' ||
    name === 'SignatureDoesNotMatch'
  ) {
    return new OpsError('ACCESS_DENIED', `access denied${about}: ${message}`, { cause: error });
  }
  if (name === 'PurgeQueueInProgress' || awsCode === 'AWS.SimpleQueueService.PurgeQueueInProgress') {
    return new OpsError(
      'PURGE_IN_PROGRESS',
      `a purge of this queue is already in progress${about}: SQS allows one PurgeQueue per queue every 60 seconds — wait a minute and check the depth with \`taskq stats\``,
      { cause: error },
    );
  }
  const networkCode = (error as { code?: string } | undefined)?.code ?? (error as { cause?: { code?: string } } | undefined)?.cause?.code;
  if (networkCode === 'ECONNREFUSED' || networkCode === 'ENOTFOUND' || networkCode === 'EAI_AGAIN' || networkCode === 'ECONNRESET' || name === 'TimeoutError') {
    return new OpsError(
      'ENDPOINT_UNREACHABLE',
      `cannot reach ${context.endpoint ?? 'the AWS endpoint'}${about} (${networkCode ?? name}) — is the local system running (taskq local), or is --endpoint/--region right?`,
      { cause: error },
    );
  }
  const label = name && name !== 'Error' ? `${name}: ` : '';
  return new OpsError('AWS_ERROR', `${label}${message}${about}`, { cause: error });
}

/** True when an endpoint answered that it does not implement the called action (e.g. fauxqs). */
export function isUnsupportedOperation(error: unknown): boolean {
  const e = (typeof error === 'object' && error !== null ? error : {}) as AwsLikeError;
  const name = e.name ?? '';
  const message = e.message ?? '';
  return (
    name === 'InvalidAction' ||
    name === 'UnsupportedOperation' ||
    name === 'AWS.SimpleQueueService.UnsupportedOperation' ||
    name === 'UnknownOperationException' ||
    /unknown action|unknown operation|not supported|not implemented/i.test(message)
  );
}
