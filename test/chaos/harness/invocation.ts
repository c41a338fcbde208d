/**
 * One simulated Lambda invocation of the consumer: its view of the SDK clients, its life
 * and its death.
 *
 * Lambda kills the sandbox when an invocation crashes or runs past the function timeout;
 * the local poller cannot kill an in-process promise (it runs on in the background). So the
 * invocation's clients are gated: once it is dead, no request it makes is sent and no
 * answer reaches it (a request already on the wire still lands, as it would in AWS), and
 * its handlers do not apply effects. The gate also records which SUCCEEDED completions
 * DynamoDB acknowledged for this invocation, which the ledger needs to excuse honestly.
 */
import { BatchWriteItemCommand, PutItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { S3Client } from '@aws-sdk/client-s3';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import type { InvocationFaults } from './fault-plan.ts';

export type Death = 'crash' | 'timeout';

const never = <T>(): Promise<T> => new Promise<T>(() => {});

export class SimulatedInvocation {
  dead: Death | undefined;
  finished = false;
  /** Tasks whose effect a handler applied in this invocation. */
  readonly effects: number[] = [];
  /** Idempotency keys whose SUCCEEDED completion DynamoDB acknowledged for this invocation. */
  readonly completed = new Set<string>();
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
  ) {
    this.crashed = new Promise<never>((_, reject) => {
      this.rejectCrash = reject;
    });
    this.crashed.catch(() => undefined);
    this.clients = {
      dynamo: this.gate(shared.dynamo, (command, output) => this.noteCompletions(command, output)),
      sqs: this.gate(shared.sqs),
      s3: this.gate(shared.s3),
    };
  }

  /** A handler applied task `task`'s effect; the process may crash right after (the schedule says when). */
  effectApplied(task: number): void {
    this.effects.push(task);
    const after = this.faults.crashAfterEffects;
    if (after !== undefined && this.effects.length >= after) this.die('crash');
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

  private noteCompletions(command: unknown, output: any): void { // eslint-disable-line @typescript-eslint/no-explicit-any
    if (command instanceof PutItemCommand) {
      const item = command.input.Item;
      if (item?.status?.S === 'SUCCEEDED' && item.pk?.S) this.completed.add(item.pk.S);
    } else if (command instanceof BatchWriteItemCommand) {
      const unprocessed = new Set<string>();
      for (const requests of Object.values(output?.UnprocessedItems ?? {}) as any[]) { // eslint-disable-line @typescript-eslint/no-explicit-any
        for (const r of requests) if (r?.PutRequest?.Item?.pk?.S) unprocessed.add(r.PutRequest.Item.pk.S);
      }
      for (const requests of Object.values(command.input.RequestItems ?? {})) {
        for (const r of requests) {
          const item = r.PutRequest?.Item;
          if (item?.status?.S === 'SUCCEEDED' && item.pk?.S && !unprocessed.has(item.pk.S)) this.completed.add(item.pk.S);
        }
      }
    }
  }
}
