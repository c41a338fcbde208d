/**
 * The console's request checks, applied to every request before any route runs:
 *
 * 1. Host header: only the names the server was started for (127.0.0.1/localhost/[::1] and
 *    the --host value, with the port). A DNS-rebinding page reaches a loopback server under
 *    its own domain name, so its requests carry that name: refused (403).
 * 2. Origin header, when a browser sends one: it must be one of those same origins. A page
 *    of another origin gets 403 before the route runs (there is no CORS: no
 *    Access-Control-* header is ever sent, and preflights are refused).
 * 3. The per-run token: `Authorization: Bearer <token>` (the page's API calls) or `?token=`
 *    (the printed address, the page's own script and style). Without it: 401.
 *
 * Every response also says: no caching, no framing, no referrer (the token is in the URL),
 * and a Content-Security-Policy that allows only the console's own script and style.
 */
import type { MiddlewareHandler } from 'hono';
import { tokenMatches } from './access-token.ts';

export interface GuardOptions {
  readonly token: string;
  /** Host header values accepted, with the port (e.g. `127.0.0.1:4000`); a function when known only once listening. */
  readonly allowedHosts: readonly string[] | (() => readonly string[]);
}

/** The Host values a server bound to `bindHost:port` answers to. */
export function allowedHostsFor(bindHost: string, port: number): string[] {
  const names = new Set(['127.0.0.1', 'localhost', '[::1]']);
  const bind = bindHost.includes(':') && !bindHost.startsWith('[') ? `[${bindHost}]` : bindHost;
  if (bind !== '0.0.0.0' && bind !== '[::]') names.add(bind.toLowerCase());
  return [...names].map((name) => `${name}:${port}`);
}

export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Cache-Control': 'no-store',
  'Referrer-Policy': 'no-referrer',
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Content-Security-Policy': "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Cross-Origin-Opener-Policy': 'same-origin',
};

function refuse(status: 401 | 403 | 405, code: string, message: string): Response {
  return new Response(JSON.stringify({ error: { code, message } }), { status, headers: { 'Content-Type': 'application/json', ...SECURITY_HEADERS } });
}

export function requestGuard(options: GuardOptions): MiddlewareHandler {
  const allowed = typeof options.allowedHosts === 'function' ? options.allowedHosts : () => options.allowedHosts as readonly string[];
  return async (c, next) => {
    const hosts = new Set(allowed().map((h) => h.toLowerCase()));
    const origins = new Set([...hosts].map((h) => `http://${h}`));
    const host = c.req.header('host')?.toLowerCase();
    if (!host || !hosts.has(host)) return refuse(403, 'HOST_NOT_ALLOWED', `the console answers only to ${[...hosts].join(', ')}`);
    const origin = c.req.header('origin');
    if (origin !== undefined && !origins.has(origin.toLowerCase())) return refuse(403, 'ORIGIN_NOT_ALLOWED', 'cross-origin requests are refused');
    if (c.req.method === 'OPTIONS') return refuse(405, 'NO_CORS', 'the console does not answer cross-origin preflights');
    const bearer = /^Bearer (\S+)$/.exec(c.req.header('authorization') ?? '')?.[1];
    if (!tokenMatches(options.token, bearer ?? c.req.query('token'))) return refuse(401, 'TOKEN_REQUIRED', 'open the address taskq console printed (it carries the access token)');
    await next();
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) c.res.headers.set(name, value);
  };
}
