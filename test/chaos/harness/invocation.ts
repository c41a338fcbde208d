/**
 * One simulated Lambda invocation of the consumer: its view of the SDK clients, its life
 * and its death.
 *
 * Lambda kills the sandbox when an invocation crashes or runs past the function timeout;
 * the local poller cannot kill an in-process promise (it runs on in the background). So the
 * invocation's clients are gated: once it is dead, no request it makes is sent and no
 * answer reaches it (a request already on the wire still lands, as it would in AWS), and
 * its handlers do not apply effects. The invocation runs inside `CURRENT` (async local
 * storage), so the wire observers (chaos-run.ts) record on it which SUCCEEDED completions
 * reached the task table and which outcome copies reached the queue — whatever the runtime
 * was told, a lost response included — which the ledger needs to excuse honestly.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { BatchWriteItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { S3Client } from '@aws-sdk/client-s3';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { Context, SQSRecord } from 'aws-lambda';
import type { InvocationFaults } from './fault-plan.ts';

export type Death = 'crash' | 'timeout';

const never = <T>(): Promise<T> => new Promise<T>(() => {});

export class SimulatedInvocation {
  dead: Death | undefined;
  finished = false;
  /** Tasks whose effect a handler applied in this invocation. */
  readonly effects: number[] = [];
  /** Idempotency keys whose SUCCEEDED completion reached the task table from this invocation. */
  readonly completed = new Set<string>();
  /** Idempotency keys whose SUCCEEDED outcome copy reached the source queue from this invocation. */
  readonly outcomeSent = new Set<string>();
  /** Rejects when the process crashes. */
  readonly crashed: Promise<never>;
  private rejectCrash!: (error: Error) => void;
  readonly clients: { dynamo: DynamoDBClient; sqs: SQSClient; s3: S3Client };

  constructor(
    readonly requestId: string,
    readonly records: readonly SQSRecord[],
    readonly faults: InvocationFaults,
    shared: { dynamo: DynamoDBClient; sqs: SQSClient; s3: S3Client },
    private readonly onDeath: (invocation: SimulatedInvocation) => void,
    observeSqs?: (invocation: SimulatedInvocation, command: unknown, output: any) => void, // eslint-disable-line @typescript-eslint/no-explicit-any
  ) {
    this.crashed = new Promise<never>((_, reject) => {
      this.rejectCrash = reject;
    });
    this.crashed.catch(() => undefined);
    this.clients = {
      dynamo: this.gate(shared.dynamo),
      sqs: this.gate(shared.sqs, observeSqs ? (command, output) => observeSqs(this, command, output) : undefined),
      s3: this.gate(shared.s3),
    };
  }

  /** A handler applied task `task`'s effect; the process may crash right after (the schedule says when). */
  effectApplied(task: number): void {
    this.effects.push(task);
    const after = this.faults.crashAfterEffects;
    if (after !== undefined && this.effects.length >= after) this.die('crash');
  }

  /**
   * Runs the runtime's handler in this sandbox: it dies at the function timeout (a hair before
   * the poller declares it) or when the process crashes, and its requests are attributed to it.
   */
  async run<R>(context: Context, work: () => Promise<R>): Promise<R> {
    const deathTimer = setTimeout(() => this.die('timeout'), Math.max(0, context.getRemainingTimeInMillis() - 5));
    try {
      return await CURRENT.run(this, () => Promise.race([work(), this.crashed]));
    } finally {
      clearTimeout(deathTimer);
      if (!this.dead) this.finished = true;
    }
  }

  die(how: Death): void {
    if (this.dead || this.finished) return;
    this.dead = how;
    this.onDeath(this);
    if (how === 'crash') this.rejectCrash(new Error(`chaos: the consumer process crashed after ${this.effects.length} effect(s)`));
  }

  private gate<C extends { send: (...args: any[]) => Promise<any> }>( // eslint-disable-line @typescript-eslint/no-explicit-any
    client: C,
    observe?: (command: unknown, output: any) => void, // eslint-disable-line @typescript-eslint/no-explicit-any
  ): C {
    const send = (command: unknown, options?: unknown): Promise<unknown> => {
      if (this.dead) return never();
      // The scheduled hang: the completion write never gets an answer; the function times out.
      if (this.faults.hangCompletion && command instanceof BatchWriteItemCommand) return never();
      return client.send(command, options).then(
        (output: unknown) => {
          observe?.(command, output);
          return this.dead ? never() : output;
        },
        (error: unknown) => (this.dead ? never() : Promise.reject(error)),
      );
    };
    return { send } as unknown as C;
  }
}

/** The invocation whose code is running (the wire observers attribute requests to it). */
export const CURRENT = new AsyncLocalStorage<SimulatedInvocation>();
