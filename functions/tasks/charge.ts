/**
 * Example: a charge-like task. Bad input can never succeed, so it is a PermanentError:
 * dead-lettered at once with the reason, no retries. A real payment call would pass
 * ctx.idempotencyKey to the payment API as its idempotency key.
 */
import { PermanentError, type TaskDefinition } from '../../lib/runtime/index.ts';

export interface ChargePayload {
  customerId: string;
  /** Minor units (cents), a positive integer. */
  amount: number;
  currency: string;
}

export const charge: TaskDefinition<ChargePayload, { chargeId: string }> = {
  maxAttempts: 3,
  async handler(payload, ctx) {
    if (typeof payload?.customerId !== 'string' || !payload.customerId) throw new PermanentError('customerId is required');
    if (!Number.isSafeInteger(payload.amount) || payload.amount <= 0) throw new PermanentError('amount must be a positive integer (minor units)');
    if (typeof payload.currency !== 'string' || !/^[A-Z]{3}$/.test(payload.currency)) throw new PermanentError('currency must be an ISO 4217 code');
    return { chargeId: `ch_${ctx.idempotencyKey.slice(-24)}` };
  },
};
