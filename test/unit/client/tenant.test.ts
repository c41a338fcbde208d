/** send option tenantId: the message group id of a standard queue (SQS fair queues); refused on FIFO. */
import { describe, expect, it } from 'vitest';
import { resolveProducerConfig } from '../../../lib/client/config.ts';
import { prepareTask } from '../../../lib/client/task-message.ts';
import { TaskValidationError } from '../../../lib/protocol/errors.ts';

const standard = resolveProducerConfig({ queueUrl: 'https://q/tasks' });
const fifo = resolveProducerConfig({ queueUrl: 'https://q/tasks.fifo' });

describe('tenantId', () => {
  it('becomes the message group id on a standard queue', () => {
    expect(prepareTask('t', {}, { tenantId: 'acme' }, standard).messageGroupId).toBe('acme');
    expect(prepareTask('t', {}, { tenantId: 'acme', messageGroupId: 'acme' }, standard).messageGroupId).toBe('acme');
    expect(prepareTask('t', {}, {}, standard).messageGroupId).toBeUndefined();
  });

  it('is refused on a FIFO queue, when it differs from messageGroupId, and when SQS would refuse it as a group id', () => {
    const refused = (f: () => unknown) => {
      try {
        f();
      } catch (error) {
        return error instanceof TaskValidationError ? `${error.code}: ${error.message}` : String(error);
      }
      return 'accepted';
    };
    expect(refused(() => prepareTask('t', {}, { tenantId: 'acme', messageGroupId: 'g' }, fifo))).toBe(
      'INVALID_OPTIONS: tenantId applies to standard queues (fair queues); on a FIFO queue give messageGroupId',
    );
    expect(refused(() => prepareTask('t', {}, { tenantId: 'acme', messageGroupId: 'other' }, standard))).toBe('INVALID_OPTIONS: give tenantId or messageGroupId, not both with different values');
    expect(refused(() => prepareTask('t', {}, { tenantId: 'has space' }, standard))).toBe('INVALID_OPTIONS: tenantId must be 1–128 printable ASCII characters without spaces');
  });
});
