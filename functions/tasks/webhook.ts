/**
 * Example: deliver a webhook. 2xx → done; 408, 429 and 5xx → retry (honouring
 * Retry-After); any other 4xx → permanent (dead-lettered with the status). The task's
 * idempotency key travels as the Idempotency-Key header so the receiver can dedupe.
 */
import { PermanentError, RetryableError, type TaskDefinition } from '../../lib/runtime/index.ts';

export interface WebhookPayload {
  url: string;
  body: unknown;
  headers?: Record<string, string>;
}

export const webhook: TaskDefinition<WebhookPayload, { status: number }> = {
  validate(p) {
    const url = (p as WebhookPayload | null)?.url;
    if (typeof url !== 'string' || !/^https?:\/\//.test(url)) throw new Error('url must be an http(s) URL');
  },
  timeoutMs: 15_000,
  async handler(payload, ctx) {
    const response = await fetch(payload.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': ctx.idempotencyKey, ...payload.headers },
      body: JSON.stringify(payload.body),
      signal: ctx.signal,
    });
    await response.body?.cancel();
    if (response.ok) return { status: response.status };
    if (response.status === 408 || response.status === 429 || response.status >= 500) {
      const retryAfter = Number(response.headers.get('retry-after'));
      throw new RetryableError(`webhook answered ${response.status}`, Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : undefined);
    }
    throw new PermanentError(`webhook answered ${response.status}`);
  },
};
