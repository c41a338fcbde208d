/**
 * EventBridge's PutEvents on the laptop: a small HTTP server speaking the API's JSON protocol
 * (`X-Amz-Target: AWSEvents.PutEvents`), so the completion-events function runs unchanged
 * with its real EventBridge client pointed here (AWS_ENDPOINT_URL_EVENTBRIDGE). There is no
 * EventBridge emulator: this records what was put — nothing is routed — for `taskq events`
 * and the tests. It checks what AWS would refuse (more than 10 entries, a missing field).
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One event as EventBridge would deliver it to a rule's target (the fields `taskq events` shows). */
export interface RecordedEvent {
  readonly id: string;
  /** ISO-8601: the entry's Time, or when it was put. */
  readonly time: string;
  readonly source: string;
  readonly detailType: string;
  readonly eventBusName: string;
  readonly detail: unknown;
}

export interface LocalEventBusOptions {
  /** Called with the events of every accepted PutEvents call. */
  readonly onEvents?: (events: readonly RecordedEvent[]) => void;
  /** @default 0 (a free port) */
  readonly port?: number;
  /**
   * Refuses single entries of a call, as EventBridge does under throttling or an internal error
   * (a partial failure: FailedEntryCount > 0, the other entries put). For tests; return the
   * entry's error, or undefined to put it.
   * @default every well-formed entry is put
   */
  readonly entryFault?: (entry: { readonly source: string; readonly detailType: string; readonly detail: unknown }) => { readonly errorCode: string; readonly errorMessage: string } | undefined;
}

interface PutEventsEntry {
  readonly Source?: string;
  readonly DetailType?: string;
  readonly Detail?: string;
  readonly EventBusName?: string;
  readonly Time?: number | string;
}

export class LocalEventBus {
  readonly events: RecordedEvent[] = [];
  private server: Server | undefined;
  private url: string | undefined;

  constructor(private readonly options: LocalEventBusOptions = {}) {}

  /** The endpoint for AWS_ENDPOINT_URL_EVENTBRIDGE. */
  get endpoint(): string {
    if (!this.url) throw new Error('the local event bus is not started');
    return this.url;
  }

  async start(): Promise<string> {
    const server = createServer((request, response) => void this.handle(request, response));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port ?? 0, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return this.url;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const target = request.headers['x-amz-target'];
    if (target !== 'AWSEvents.PutEvents') return reply(response, 400, { __type: 'UnknownOperationException', message: `${String(target)} is not emulated locally (only PutEvents)` });
    let body: { Entries?: PutEventsEntry[] };
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { Entries?: PutEventsEntry[] };
    } catch {
      return reply(response, 400, { __type: 'SerializationException', message: 'the body is not JSON' });
    }
    const entries = body.Entries ?? [];
    if (entries.length < 1 || entries.length > 10) return reply(response, 400, { __type: 'ValidationException', message: `Entries must hold 1–10 entries (got ${entries.length})` });
    const accepted: RecordedEvent[] = [];
    const results = entries.map((entry) => {
      if (!entry.Source || !entry.DetailType || entry.Detail === undefined) {
        return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Source, DetailType and Detail are required' };
      }
      let detail: unknown;
      try {
        detail = JSON.parse(entry.Detail);
      } catch {
        return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is not valid JSON' };
      }
      const refused = this.options.entryFault?.({ source: entry.Source, detailType: entry.DetailType, detail });
      if (refused) return { ErrorCode: refused.errorCode, ErrorMessage: refused.errorMessage };
      const id = randomUUID();
      const given = entry.Time === undefined ? Date.now() : typeof entry.Time === 'number' ? entry.Time * 1000 : Date.parse(entry.Time);
      // An event's time has whole seconds, as EventBridge delivers it.
      const time = new Date(Math.floor(given / 1000) * 1000);
      accepted.push({ id, time: time.toISOString(), source: entry.Source, detailType: entry.DetailType, eventBusName: entry.EventBusName ?? 'default', detail });
      return { EventId: id };
    });
    this.events.push(...accepted);
    if (accepted.length > 0) this.options.onEvents?.(accepted);
    reply(response, 200, { FailedEntryCount: entries.length - accepted.length, Entries: results });
  }
}

function reply(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
  response.end(JSON.stringify(body));
}
