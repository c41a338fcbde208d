/**
 * Who is calling AWS. In the tests one SDK client often serves both the test's own set-up
 * (create a queue, send a fixture, read the table to assert) and the code under test; what
 * makes a call the consumer's, the producer's or the operator's is the code path it was
 * made on, so the principal is carried by an AsyncLocalStorage context: `asPrincipal` runs
 * code as a principal, and every call made inside it (awaited or not) is evaluated against
 * that principal's policies. Calls outside any context are set-up and are not evaluated.
 *
 * A child process (the CLI, the local system) has no context of the test's: it is given a
 * whole-process principal through TASKQ_IAM_PRINCIPAL (see child-process.ts).
 */
import { AsyncLocalStorage } from 'node:async_hooks';

/** The stack's roles the tests act as (test roles granted in synthesized-policies.ts). */
export const PRINCIPALS = {
  /** The consumer Lambda's execution role (the runtime, and the event source mapping). */
  consumer: 'consumer role (TaskQueue.consumer.role)',
  /** A producer role granted with grantSend and grantStatusRead. */
  producer: 'producer role (grantSend + grantStatusRead + grantCancel)',
  /** An operator role granted with the operator grant the CLI documents. */
  operator: 'operator role (operator grant)',
  /** A producer role granted with grantSend only (variants with lanes: the routing item is read under grantSend's own grant). */
  sender: 'sender role (grantSend only)',
  /** The consumer role of a named lane (variants with lanes: TaskQueue.lanes[LANES_VARIANT.lane].consumerRole). */
  laneConsumer: 'consumer role of a named lane (TaskQueue.lanes.<name>.consumerRole)',
  /** The completion-events function's role (variants with completionEvents): its stream reads, PutEvents, failure queue. */
  completionEvents: 'completion-events function role (TaskQueue.completionEvents.function.role)',
} as const;

export type PrincipalName = keyof typeof PRINCIPALS;
/** The principals every synthesized variant has. */
export type CorePrincipal = 'consumer' | 'producer' | 'operator';

export function isPrincipalName(value: unknown): value is PrincipalName {
  return typeof value === 'string' && Object.hasOwn(PRINCIPALS, value);
}

const context = new AsyncLocalStorage<PrincipalName>();

/** Runs `work` as `principal`: every AWS call it makes is evaluated against that principal's policies. */
export function asPrincipal<T>(principal: PrincipalName, work: () => T): T {
  return context.run(principal, work);
}

/**
 * Runs `work` as the test itself, even inside a principal's code path (a probe in a task
 * handler that reads the table to assert on it): its calls are not evaluated.
 */
export function asTestHarness<T>(work: () => T): T {
  return context.exit(work);
}

/** The principal of the current call: the context's, else the process's (TASKQ_IAM_PRINCIPAL), else none (set-up). */
export function currentPrincipal(): PrincipalName | undefined {
  const fromContext = context.getStore();
  if (fromContext) return fromContext;
  const fromProcess = process.env.TASKQ_IAM_PRINCIPAL;
  if (fromProcess === undefined || fromProcess === '') return undefined;
  if (!isPrincipalName(fromProcess)) throw new Error(`TASKQ_IAM_PRINCIPAL=${fromProcess} is not one of ${Object.keys(PRINCIPALS).join(', ')}`);
  return fromProcess;
}

/**
 * The object with every method call made as `principal` (a TaskProducer, say): its AWS
 * calls, including those it starts in the background, are that principal's.
 */
export function actingAs<T extends object>(principal: PrincipalName, target: T): T {
  return new Proxy(target, {
    get(object, key) {
      const value = Reflect.get(object, key, object) as unknown;
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => asPrincipal(principal, () => (value as (...a: unknown[]) => unknown).apply(object, args));
    },
  });
}
