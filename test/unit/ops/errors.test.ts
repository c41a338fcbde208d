import { describe, expect, it } from 'vitest';
import { EXIT_CODES, isUnsupportedOperation, OpsError, toOpsError } from '../../../lib/ops/errors.ts';

const aws = (name: string, message = name, extra: Record<string, unknown> = {}) => Object.assign(new Error(message), { name, ...extra });

describe('toOpsError', () => {
  it.each([
    [aws('QueueDoesNotExist', 'The specified queue does not exist.'), 'QUEUE_NOT_FOUND', EXIT_CODES.notFound],
    [aws('Error', 'x', { Code: 'AWS.SimpleQueueService.NonExistentQueue' }), 'QUEUE_NOT_FOUND', EXIT_CODES.notFound],
    [aws('ValidationError', 'Stack with id TaskQueueStack does not exist'), 'STACK_NOT_FOUND', EXIT_CODES.notFound],
    [aws('ResourceNotFoundException', 'Requested resource not found: Table: t not found'), 'TABLE_NOT_FOUND', EXIT_CODES.notFound],
    [aws('CredentialsProviderError', 'Could not load credentials from any providers'), 'NO_CREDENTIALS', EXIT_CODES.aws],
    [aws('AccessDenied', 'User: arn:… is not authorized to perform: sqs:ReceiveMessage'), 'ACCESS_DENIED', EXIT_CODES.aws],
    [aws('AccessDeniedException'), 'ACCESS_DENIED', EXIT_CODES.aws],
    [aws('ExpiredToken'), 'ACCESS_DENIED', EXIT_CODES.aws],
    [aws('PurgeQueueInProgress', 'Only one PurgeQueue operation on q is allowed every 60 seconds.'), 'PURGE_IN_PROGRESS', EXIT_CODES.aws],
    [Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:4566'), { code: 'ECONNREFUSED' }), 'ENDPOINT_UNREACHABLE', EXIT_CODES.aws],
    [aws('InternalError'), 'AWS_ERROR', EXIT_CODES.aws],
  ])('%s → %s', (error, code, exitCode) => {
    const ops = toOpsError(error, { resource: 'queue q', endpoint: 'http://127.0.0.1:4566' });
    expect(ops).toBeInstanceOf(OpsError);
    expect(ops.code).toBe(code);
    expect(ops.exitCode).toBe(exitCode);
    expect(ops.cause).toBe(error);
  });

  it('messages say what to do', () => {
    expect(toOpsError(aws('CredentialsProviderError')).message).toMatch(/AWS_PROFILE|--local/);
    expect(toOpsError(aws('PurgeQueueInProgress')).message).toMatch(/60 seconds/);
    expect(toOpsError(aws('ValidationError', 'Stack with id S does not exist')).message).toMatch(/--stack/);
  });

  it('passes OpsErrors through unchanged', () => {
    const e = new OpsError('REFUSED', 'no');
    expect(toOpsError(e)).toBe(e);
    expect(e.exitCode).toBe(EXIT_CODES.usage);
  });
});

describe('isUnsupportedOperation', () => {
  it('recognises fauxqs and AWS answers for an action the endpoint lacks, and nothing else', () => {
    expect(isUnsupportedOperation(aws('InvalidAction', 'Unknown action: StartMessageMoveTask'))).toBe(true);
    expect(isUnsupportedOperation(aws('UnsupportedOperation', 'x'))).toBe(true);
    expect(isUnsupportedOperation(aws('AccessDenied', 'not authorized'))).toBe(false);
    expect(isUnsupportedOperation(aws('QueueDoesNotExist'))).toBe(false);
  });
});
