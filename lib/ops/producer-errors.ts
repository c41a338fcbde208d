/** Maps the producer SDK's errors to the CLI's: bad input is a usage error, AWS failures keep their cause. */
import { BackpressureError, SendError, TaskQueueError, TaskValidationError } from '../protocol/errors.ts';
import { OpsError, toOpsError, type ErrorContext } from './errors.ts';

export function fromProducerError(error: unknown, context: ErrorContext = {}): OpsError {
  if (error instanceof OpsError) return error;
  if (error instanceof TaskValidationError) return new OpsError('USAGE', error.message, { cause: error });
  if (error instanceof BackpressureError) return new OpsError('AWS_ERROR', error.message, { cause: error });
  if (error instanceof SendError || (error instanceof TaskQueueError && error.cause !== undefined)) {
    const cause = toOpsError(error.cause ?? error, context);
    // Keep the specific classification (queue not found, credentials, access) when there is one.
    return cause.code === 'AWS_ERROR' ? new OpsError('AWS_ERROR', error.message, { cause: error }) : cause;
  }
  return toOpsError(error, context);
}
