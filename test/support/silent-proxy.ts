/**
 * An HTTP proxy in front of an emulator that leaves chosen requests unanswered: the
 * connection stays open and silent, as a half-open connection to DynamoDB looks to the SDK.
 * Everything else is forwarded unchanged. It names each request by its X-Amz-Target header
 * (the operation of a JSON-protocol service: "DynamoDB_20120810.BatchWriteItem",
 * "AmazonSQS.SendMessage"), and may send each service to its own emulator.
 */
import { createServer, request as forward, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

export interface SilentProxy {
  /** The proxy's endpoint, for a client's `endpoint` or AWS_ENDPOINT_URL_<SERVICE>. */
  readonly url: string;
  /** Operations seen, in order, with whether each was left unanswered. */
  readonly seen: { target: string; silenced: boolean }[];
  close(): Promise<void>;
}

/** `silence(target, n)` decides for the n-th request (1-based) of that target; `upstream` may depend on the target. */
export async function silentProxy(upstream: string | ((target: string) => string), silence: (target: string, n: number) => boolean): Promise<SilentProxy> {
  const counts = new Map<string, number>();
  const seen: { target: string; silenced: boolean }[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const target = String(req.headers['x-amz-target'] ?? `${req.method} ${req.url}`);
    const n = (counts.get(target) ?? 0) + 1;
    counts.set(target, n);
    const silenced = silence(target, n);
    seen.push({ target, silenced });
    if (silenced) {
      req.resume(); // read the body, answer nothing
      return;
    }
    const up = new URL(typeof upstream === 'string' ? upstream : upstream(target));
    const out = forward({ host: up.hostname, port: up.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    out.on('error', () => res.destroy());
    req.pipe(out);
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the proxy has no port');
  return {
    url: `http://127.0.0.1:${address.port}`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
