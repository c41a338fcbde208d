/**
 * `taskq console`: serves the web console on 127.0.0.1 (a free port unless --port), prints the
 * address with its per-run token, and runs until Ctrl-C. `--host` binds elsewhere, with a
 * warning: anyone who can reach that address and learns the token can redrive and purge.
 */
import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import type { TargetOptions } from '../resolve-target.ts';
import { newAccessToken } from './access-token.ts';
import { createConsoleApp } from './console-app.ts';
import { loadConsoleAssets } from './console-assets.ts';
import { ConsoleBackend, type ConsoleBackendOptions } from './console-backend.ts';
import { allowedHostsFor } from './request-guard.ts';

export const DEFAULT_CONSOLE_HOST = '127.0.0.1';

export interface ConsoleOptions {
  readonly target: TargetOptions;
  /** @default '127.0.0.1' */
  readonly host?: string;
  /** 0: a free port. @default 0 */
  readonly port?: number;
  /** @default a new random token */
  readonly token?: string;
  readonly sampleIntervalMs?: number;
  /** The local system's state file. @default localStatePath() ($TASKQ_LOCAL_STATE or .taskq-local/state.json) */
  readonly localStatePath?: string;
  readonly resolve?: ConsoleBackendOptions['resolve'];
  readonly createClients?: ConsoleBackendOptions['createClients'];
  readonly log?: (line: string) => void;
}

export interface RunningConsole {
  /** The address to open, token included. */
  readonly url: string;
  readonly port: number;
  readonly token: string;
  readonly backend: ConsoleBackend;
  close(): Promise<void>;
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

export async function startConsole(options: ConsoleOptions): Promise<RunningConsole> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const host = options.host ?? DEFAULT_CONSOLE_HOST;
  const token = options.token ?? newAccessToken();
  const backend = new ConsoleBackend({ target: options.target, ...(options.sampleIntervalMs ? { sampleIntervalMs: options.sampleIntervalMs } : {}), ...(options.resolve ? { resolve: options.resolve } : {}),
    ...(options.localStatePath ? { localStatePath: options.localStatePath } : {}),
    ...(options.createClients ? { createClients: options.createClients } : {}),
  });
  // The target first (no local system, no stack: fail before anything listens), then the page.
  await backend.start();
  const assets = await loadConsoleAssets().catch(async (error: unknown) => {
    await backend.close();
    throw error;
  });
  if (!isLoopback(host)) {
    log(`warning: --host ${host} makes the console reachable beyond this machine; anyone who can reach it and learns the token can redrive and purge the DLQ (traffic is plain HTTP)`);
  }
  // The Host check needs the port, known once listening; requests cannot arrive before.
  let allowedHosts: string[] = [];
  const app = createConsoleApp({ backend, assets, token, allowedHosts: () => allowedHosts });
  const server: ServerType = await new Promise((resolve, reject) => {
    const s = serve({ fetch: app.fetch, hostname: host, port: options.port ?? 0 }, () => resolve(s));
    s.once('error', reject);
  });
  const port = (server.address() as AddressInfo).port;
  allowedHosts = allowedHostsFor(host, port);
  const shownHost = isLoopback(host) || host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  const url = `http://${shownHost}:${port}/?token=${token}`;
  return {
    url,
    port,
    token,
    backend,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Browsers keep connections open; the console's pages are done when it stops.
        if ('closeAllConnections' in server) server.closeAllConnections();
      });
      await backend.close();
    },
  };
}
