/**
 * SQS limits fauxqs does not enforce, enforced in front of it so that the runtime, the CLI and
 * the producer meet them locally and in tests exactly as they would in AWS:
 *
 * - **Total visibility ≤ 12 hours from the receive.** ChangeMessageVisibility counts its new
 *   timeout from the call, but a message may stay invisible at most 43,200 s after the
 *   ReceiveMessage that returned it; asking for more is refused (InvalidParameterValue), it is
 *   not shortened. fauxqs only checks each call's value against 43,200.
 * - **Per-message DelaySeconds 0–900** on SendMessage and SendMessageBatch entries (fauxqs
 *   checks the queue attribute, not the per-message value).
 *
 * Batch sizes (≤ 10 entries, ≤ 1 MiB per SendMessageBatch), the message size and the per-call
 * visibility range are fauxqs's own checks (test/integration/local/sqs-limits.test.ts pins all
 * of them). A batch entry that breaks a limit fails alone, in the response's `Failed` list, as
 * SQS reports per-entry errors.
 */
import { SQS_MAX_DELAY_SECONDS, SQS_MAX_VISIBILITY_SECONDS } from '../protocol/limits.ts';

/** The parts of fauxqs's Fastify server used here (fastify is fauxqs's dependency, not ours). */
interface FastifyRequest {
  readonly headers: Record<string, string | string[] | undefined>;
  body: unknown;
}
interface FastifyReply {
  readonly statusCode: number;
  status(code: number): FastifyReply;
  header(name: string, value: string): FastifyReply;
  send(payload: unknown): FastifyReply;
}
interface FastifyInstance {
  addHook(name: 'preHandler', hook: (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>): unknown;
  addHook(name: 'onSend', hook: (request: FastifyRequest, reply: FastifyReply, payload: unknown) => Promise<unknown>): unknown;
}

type Json = Record<string, unknown>;
interface BatchFailure {
  readonly Id: string;
  readonly SenderFault: boolean;
  readonly Code: string;
  readonly Message: string;
}

const REFUSED = Symbol('taskq.sqsLimits.refused');

/** The SQS action of a JSON-protocol request, e.g. 'ChangeMessageVisibility'. */
function actionOf(request: FastifyRequest): string | undefined {
  const target = request.headers['x-amz-target'];
  return typeof target === 'string' && target.startsWith('AmazonSQS.') ? target.slice('AmazonSQS.'.length) : undefined;
}

function totalVisibilityMessage(seconds: number): string {
  return `Value ${seconds} for parameter VisibilityTimeout is invalid. Reason: Total VisibilityTimeout for the message is beyond the limit [${SQS_MAX_VISIBILITY_SECONDS} seconds].`;
}

function delayMessage(seconds: unknown): string {
  return `Value ${String(seconds)} for parameter DelaySeconds is invalid. Reason: must be between 0 and ${SQS_MAX_DELAY_SECONDS}, if provided.`;
}

function delayInvalid(value: unknown): boolean {
  return value !== undefined && !(typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= SQS_MAX_DELAY_SECONDS);
}

/** When each in-flight receipt handle was handed out (ms), for the 12-hour rule. */
export class ReceiveTimes {
  private readonly receivedAt = new Map<string, number>();
  constructor(private readonly now: () => number = Date.now) {}

  record(receiptHandle: string): void {
    this.receivedAt.set(receiptHandle, this.now());
    if (this.receivedAt.size > 100_000) this.prune();
  }

  forget(receiptHandle: string): void {
    this.receivedAt.delete(receiptHandle);
  }

  /** Seconds of visibility this receipt handle may still be given; undefined when unknown. */
  secondsLeft(receiptHandle: string): number | undefined {
    const at = this.receivedAt.get(receiptHandle);
    if (at === undefined) return undefined;
    return SQS_MAX_VISIBILITY_SECONDS - Math.ceil((this.now() - at) / 1000);
  }

  private prune(): void {
    const cutoff = this.now() - SQS_MAX_VISIBILITY_SECONDS * 1000;
    for (const [handle, at] of this.receivedAt) if (at < cutoff) this.receivedAt.delete(handle);
  }
}

function refuse(reply: FastifyReply, code: string, message: string): FastifyReply {
  return reply
    .status(400)
    .header('content-type', 'application/x-amz-json-1.0')
    .header('x-amzn-query-error', `${code};Sender`)
    .send({ __type: `com.amazonaws.sqs#${code}`, message });
}

/**
 * Splits a batch request's entries into those that pass `check` and failures. When every entry
 * fails, answers at once (fauxqs would refuse an empty batch); otherwise keeps the failures for
 * the response.
 */
function filterBatch(request: FastifyRequest, reply: FastifyReply, check: (entry: Json) => BatchFailure | undefined): FastifyReply | undefined {
  const body = request.body as Json | undefined;
  const entries = Array.isArray(body?.Entries) ? (body!.Entries as Json[]) : undefined;
  if (!entries || entries.length === 0) return undefined;
  const failures: BatchFailure[] = [];
  const kept = entries.filter((entry) => {
    const failure = check(entry);
    if (failure) failures.push(failure);
    return failure === undefined;
  });
  if (failures.length === 0) return undefined;
  if (kept.length === 0) {
    return reply.status(200).header('content-type', 'application/x-amz-json-1.0').send({ Successful: [], Failed: failures });
  }
  body!.Entries = kept;
  (request as unknown as Record<symbol, BatchFailure[]>)[REFUSED] = failures;
  return undefined;
}

/** Adds the limit checks to fauxqs's server. Call before it listens. */
export function enforceSqsLimits(app: FastifyInstance, times: ReceiveTimes = new ReceiveTimes()): ReceiveTimes {
  app.addHook('preHandler', async (request, reply) => {
    const action = actionOf(request);
    if (!action) return;
    const body = (request.body ?? {}) as Json;
    switch (action) {
      case 'ChangeMessageVisibility': {
        const left = typeof body.ReceiptHandle === 'string' ? times.secondsLeft(body.ReceiptHandle) : undefined;
        const seconds = body.VisibilityTimeout;
        if (left !== undefined && typeof seconds === 'number' && seconds > left) return refuse(reply, 'InvalidParameterValue', totalVisibilityMessage(seconds));
        return;
      }
      case 'ChangeMessageVisibilityBatch':
        return filterBatch(request, reply, (entry) => {
          const left = typeof entry.ReceiptHandle === 'string' ? times.secondsLeft(entry.ReceiptHandle) : undefined;
          const seconds = entry.VisibilityTimeout;
          if (left === undefined || typeof seconds !== 'number' || seconds <= left) return undefined;
          return { Id: String(entry.Id), SenderFault: true, Code: 'InvalidParameterValue', Message: totalVisibilityMessage(seconds) };
        });
      case 'SendMessage':
        if (delayInvalid(body.DelaySeconds)) return refuse(reply, 'InvalidParameterValue', delayMessage(body.DelaySeconds));
        return;
      case 'SendMessageBatch':
        return filterBatch(request, reply, (entry) =>
          delayInvalid(entry.DelaySeconds) ? { Id: String(entry.Id), SenderFault: true, Code: 'InvalidParameterValue', Message: delayMessage(entry.DelaySeconds) } : undefined,
        );
      case 'DeleteMessage':
        if (typeof body.ReceiptHandle === 'string') times.forget(body.ReceiptHandle);
        return;
      case 'DeleteMessageBatch':
        for (const entry of Array.isArray(body.Entries) ? (body.Entries as Json[]) : []) if (typeof entry.ReceiptHandle === 'string') times.forget(entry.ReceiptHandle);
        return;
      default:
        return;
    }
  });

  app.addHook('onSend', async (request, reply, payload) => {
    const action = actionOf(request);
    if (!action || reply.statusCode !== 200 || typeof payload !== 'string') return payload;
    if (action === 'ReceiveMessage') {
      const messages = (JSON.parse(payload) as { Messages?: { ReceiptHandle?: string }[] }).Messages ?? [];
      for (const m of messages) if (m.ReceiptHandle) times.record(m.ReceiptHandle);
      return payload;
    }
    const refused = (request as unknown as Record<symbol, BatchFailure[] | undefined>)[REFUSED];
    if (!refused) return payload;
    const response = JSON.parse(payload) as { Successful?: unknown[]; Failed?: BatchFailure[] };
    return JSON.stringify({ ...response, Failed: [...(response.Failed ?? []), ...refused] });
  });
  return times;
}
