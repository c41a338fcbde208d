/**
 * Classifies AWS SDK errors (transient or not) and maps them to the library's SendError,
 * keeping the AWS error code in `details.awsCode`.
 */
import { SendError } from '../protocol/errors.ts';

const THROTTLING_CODES = new Set([
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'RequestThrottled',
  'RequestThrottledException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'BandwidthLimitExceeded',
  'LimitExceededException',
  'ProvisionedThroughputExceededException',
  'SlowDown',
  'PriorRequestNotComplete',
  'KmsThrottled',
  'KMS.ThrottlingException',
]);

const TRANSIENT_CODES = new Set([
  'InternalError',
  'InternalFailure',
  'InternalServerError',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'RequestTimeout',
  'RequestTimeoutException',
  'TimeoutError',
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
]);

interface AwsLikeError {
  name?: string;
  code?: string;
  Code?: string;
  message?: string;
  $retryable?: unknown;
  $metadata?: { httpStatusCode?: number };
}

/** The AWS error code of an SDK error (`Code`, else `name`), or a Node.js error code. */
export function awsErrorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const e = error as AwsLikeError;
  return e.Code ?? (e.name && e.name !== 'Error' ? e.name : undefined) ?? e.code;
}

/** Throttling, 5xx, timeouts and connection errors: worth another try. */
export function isTransientAwsError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const e = error as AwsLikeError;
  if (e.$retryable) return true;
  for (const code of [e.Code, e.name, e.code]) {
    if (code !== undefined && (THROTTLING_CODES.has(code) || TRANSIENT_CODES.has(code))) return true;
  }
  const status = e.$metadata?.httpStatusCode;
  return status !== undefined && (status === 429 || status >= 500);
}

export function toSendError(
  error: unknown,
  what: string,
  details: { taskId?: string; claimKey?: string; code?: 'SEND_FAILED' | 'CLAIM_UPLOAD_FAILED' } = {},
): SendError {
  const awsCode = awsErrorCode(error);
  const reason = error instanceof Error ? error.message : String(error);
  const claimNote = details.claimKey ? ` (claim object ${details.claimKey} was uploaded and expires by the bucket's lifecycle rule)` : '';
  return new SendError(
    details.code ?? 'SEND_FAILED',
    `${what} failed${awsCode ? ` (${awsCode})` : ''}: ${reason}${claimNote}`,
    {
      ...(details.taskId !== undefined ? { taskId: details.taskId } : {}),
      ...(details.claimKey !== undefined ? { claimKey: details.claimKey } : {}),
      ...(awsCode !== undefined ? { awsCode } : {}),
    },
    { cause: error },
  );
}
