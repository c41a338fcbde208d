/**
 * Adding an 'initialize'-step middleware to an AWS SDK v3 client once: the IAM enforcement
 * and the control-plane stand-in are added wherever a client is met (some clients are met
 * on every send), and must run once per call.
 */
export interface MiddlewareClient {
  middlewareStack: { add: (...args: any[]) => void }; // eslint-disable-line @typescript-eslint/no-explicit-any
}

export type CallInput = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
export type Next = (args: { input: CallInput }) => Promise<unknown>;
export interface CallContext {
  readonly clientName?: string;
  readonly commandName?: string;
}

const added = new WeakMap<object, Set<string>>();

/** Adds `middleware` under `name` unless the client has it; 'high' runs before 'low'. */
export function addInitializeMiddlewareOnce<C extends MiddlewareClient>(
  client: C,
  name: string,
  priority: 'high' | 'low',
  middleware: (next: Next, context: CallContext) => (args: { input: CallInput }) => Promise<unknown>,
): C {
  const names = added.get(client) ?? new Set<string>();
  if (names.has(name)) return client;
  names.add(name);
  added.set(client, names);
  client.middlewareStack.add(middleware, { step: 'initialize', name, priority });
  return client;
}
