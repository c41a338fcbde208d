/**
 * The console's HTTP interface (Hono): the page and its assets, and a JSON API over
 * ConsoleBackend. Every request passes requestGuard first (Host, Origin, token). Actions that
 * change something are POSTs with a JSON body that must carry the confirmation word
 * (`"confirm": "redrive"`, `"purge"`, `"cancel"`, `"pause"`, `"resume"`): a request without it
 * changes nothing (400).
 */
import { Hono, type Context } from 'hono';
import { OpsError, toOpsError, type OpsErrorCode } from '../errors.ts';
import type { ConsoleAssets } from './console-assets.ts';
import type { ConsoleBackend } from './console-backend.ts';
import { requestGuard } from './request-guard.ts';

export interface ConsoleAppOptions {
  readonly backend: ConsoleBackend;
  readonly assets: ConsoleAssets;
  readonly token: string;
  readonly allowedHosts: readonly string[] | (() => readonly string[]);
}

/** The words a destructive request must carry in its `confirm` field. */
export const CONFIRMATIONS = { redrive: 'redrive', purge: 'purge', cancel: 'cancel', pause: 'pause', resume: 'resume' } as const;

const HTTP_STATUS: Partial<Record<OpsErrorCode, 400 | 404 | 409 | 502>> = {
  USAGE: 400,
  REFUSED: 409,
  MISSING_RESOURCE: 404,
  TASK_NOT_FOUND: 404,
  QUEUE_NOT_FOUND: 404,
  TABLE_NOT_FOUND: 404,
  STACK_NOT_FOUND: 404,
  NO_LOCAL_SYSTEM: 404,
  SCHEDULE_NOT_FOUND: 404,
  GROUP_NOT_FOUND: 404,
  PURGE_IN_PROGRESS: 409,
};

/** A destructive request without its confirmation word. */
class ConfirmationRequired extends Error {}

function errorResponse(c: Context, error: unknown) {
  if (error instanceof ConfirmationRequired) return c.json({ error: { code: 'CONFIRMATION_REQUIRED', message: error.message } }, 400);
  const e = toOpsError(error);
  return c.json({ error: { code: e.code, message: e.message } }, HTTP_STATUS[e.code] ?? 502);
}

async function jsonBody(c: Context): Promise<Record<string, unknown>> {
  if (!(c.req.header('content-type') ?? '').toLowerCase().startsWith('application/json')) throw new OpsError('USAGE', 'send a JSON body (Content-Type: application/json)');
  const body = (await c.req.json().catch(() => undefined)) as unknown;
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw new OpsError('USAGE', 'the body must be a JSON object');
  return body as Record<string, unknown>;
}

function requireConfirmation(body: Record<string, unknown>, word: string): void {
  if (body.confirm !== word) throw new ConfirmationRequired(`this action changes the task queue: send "confirm": "${word}" to do it`);
}

function optionalString(value: unknown, name: string): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') throw new OpsError('USAGE', `${name} must be a string`);
  return value;
}

function requiredString(value: unknown, name: string): string {
  const s = optionalString(value, name);
  if (s === undefined) throw new OpsError('USAGE', `${name} is required`);
  return s;
}

function optionalInteger(value: string | undefined, name: string): number | undefined {
  if (value === undefined || value === '') return undefined;
  if (!/^\d{1,9}$/.test(value)) throw new OpsError('USAGE', `${name} must be a whole number`);
  return Number(value);
}

function optionalIds(value: unknown): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || value.length === 0 || value.some((v) => typeof v !== 'string' || v === '')) throw new OpsError('USAGE', 'messageIds must be a non-empty list of DLQ message ids');
  return value as string[];
}

export function createConsoleApp(options: ConsoleAppOptions): Hono {
  const { backend, assets } = options;
  const app = new Hono();
  app.use('*', requestGuard({ token: options.token, allowedHosts: options.allowedHosts }));
  app.onError((error, c) => errorResponse(c, error));

  app.get('/', (c) => c.html(assets.page(options.token)));
  app.get('/assets/:name', (c) => {
    const file = assets.file(c.req.param('name'));
    if (!file) return c.json({ error: { code: 'NOT_FOUND', message: 'no such asset' } }, 404);
    return c.body(new Uint8Array(file.body), 200, { 'Content-Type': file.contentType });
  });

  app.get('/api/overview', (c) => c.json(backend.overview()));
  app.get('/api/lanes/:lane/history', (c) => c.json(backend.history(c.req.param('lane'))));
  app.get('/api/tasks', async (c) => {
    const taskId = optionalString(c.req.query('id'), 'id');
    const idempotencyKey = optionalString(c.req.query('key'), 'key');
    return c.json(await backend.task({ ...(taskId ? { taskId } : {}), ...(idempotencyKey ? { idempotencyKey } : {}) }));
  });
  // A stored result is read (from S3 when it is a resultRef) only on this explicit request.
  app.get('/api/tasks/result', async (c) => {
    const taskId = requiredString(c.req.query('id'), 'id');
    const idempotencyKey = optionalString(c.req.query('key'), 'key');
    return c.json(await backend.taskResult({ taskId, ...(idempotencyKey ? { idempotencyKey } : {}) }));
  });
  app.post('/api/tasks/cancel', async (c) => {
    const body = await jsonBody(c);
    requireConfirmation(body, CONFIRMATIONS.cancel);
    const taskId = requiredString(body.taskId, 'taskId');
    const idempotencyKey = optionalString(body.idempotencyKey, 'idempotencyKey');
    return c.json(await backend.cancel({ taskId, ...(idempotencyKey ? { idempotencyKey } : {}) }));
  });
  app.get('/api/groups/:groupId', async (c) => {
    const offset = optionalInteger(c.req.query('offset'), 'offset');
    const limit = optionalInteger(c.req.query('limit'), 'limit');
    return c.json(await backend.group({ groupId: c.req.param('groupId'), ...(offset !== undefined ? { offset } : {}), ...(limit !== undefined ? { limit } : {}) }));
  });
  app.get('/api/schedules', async (c) => c.json({ schedules: await backend.schedules() }));
  for (const [verb, state] of [['pause', 'DISABLED'], ['resume', 'ENABLED']] as const) {
    app.post(`/api/schedules/:name/${verb}`, async (c) => {
      const body = await jsonBody(c);
      requireConfirmation(body, CONFIRMATIONS[verb]);
      return c.json(await backend.setSchedule(c.req.param('name'), state));
    });
  }
  app.get('/api/recent-tasks', async (c) => {
    const limit = Number(c.req.query('limit') ?? 50);
    if (!Number.isInteger(limit) || limit < 1 || limit > 200) throw new OpsError('USAGE', 'limit must be an integer 1–200');
    return c.json(await backend.recent(limit));
  });
  app.get('/api/lanes/:lane/dlq', async (c) => {
    // Message bodies may hold personal data: only on an explicit showBody=1, like the CLI's --show-body.
    return c.json(await backend.deadLetters(c.req.param('lane'), { showBody: c.req.query('showBody') === '1' }));
  });
  app.post('/api/lanes/:lane/dlq/redrive', async (c) => {
    const body = await jsonBody(c);
    requireConfirmation(body, CONFIRMATIONS.redrive);
    const type = optionalString(body.type, 'type');
    const messageIds = optionalIds(body.messageIds);
    if (type !== undefined && messageIds !== undefined) throw new OpsError('USAGE', 'redrive either by type or chosen messages, not both');
    const job = backend.startRedrive(c.req.param('lane'), { ...(type !== undefined ? { type } : {}), ...(messageIds !== undefined ? { messageIds } : {}) });
    return c.json(job, 202);
  });
  app.get('/api/jobs/:id', (c) => c.json(backend.job(c.req.param('id'))));
  app.post('/api/lanes/:lane/dlq/purge', async (c) => {
    const body = await jsonBody(c);
    requireConfirmation(body, CONFIRMATIONS.purge);
    return c.json(await backend.purge(c.req.param('lane')));
  });
  app.notFound((c) => c.json({ error: { code: 'NOT_FOUND', message: 'no such page or API' } }, 404));
  return app;
}
