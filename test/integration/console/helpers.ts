/**
 * Helpers of the console tests: a console acting as the operator role, raw HTTP calls, a task
 * table with the recent-tasks index as the construct creates it.
 */
import { request } from 'node:http';
import { CreateTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { LocalState } from '../../../lib/local/state.ts';
import { createClients } from '../../../lib/ops/clients.ts';
import { startConsole, type ConsoleOptions, type RunningConsole } from '../../../lib/ops/console/run-console.ts';
import { RECENT_TASKS_INDEX } from '../../../lib/protocol/resources.ts';
import { uniqueName } from '../../support/aws.ts';
import { enforceIam } from '../../support/iam/enforcement.ts';
import { asPrincipal } from '../../support/iam/principals.ts';
import { injectWireFaults, type FaultRule } from '../../support/wire-faults.ts';

/** The console's own clients, each call evaluated against the operator role's policies (DynamoDB's with wire faults, when given). */
function operatorClients(dynamoFaults: FaultRule | undefined) {
  return (target: Parameters<typeof createClients>[0]) => {
    const c = createClients(target);
    let faulty = false;
    return {
      ...c,
      sqs: enforceIam(c.sqs),
      dynamo: async () => {
        const dynamo = await c.dynamo(); // one client per target: its faults are added once
        if (dynamoFaults && !faulty) injectWireFaults(dynamo, 'dynamodb', dynamoFaults);
        faulty = true;
        return enforceIam(dynamo);
      },
      s3: async () => enforceIam(await c.s3()),
    };
  };
}

/** `taskq console --local` on this state, its AWS calls made as the operator role (IAM enforced), sampling once a minute. */
export function startOperatorConsole(state: LocalState, options: Pick<ConsoleOptions, 'host' | 'log' | 'localStatePath'> & { dynamoFaults?: FaultRule } = {}): Promise<RunningConsole> {
  const { dynamoFaults, ...rest } = options;
  return asPrincipal('operator', () =>
    startConsole({
      target: { local: true },
      sampleIntervalMs: 60_000,
      resolve: { readLocalState: async () => state },
      createClients: operatorClients(dynamoFaults),
      ...rest,
    }),
  );
}

export async function createTableWithRecentTasksIndex(dynamo: DynamoDBClient): Promise<string> {
  const TableName = uniqueName('recent-tasks');
  const i = RECENT_TASKS_INDEX;
  await dynamo.send(
    new CreateTableCommand({
      TableName,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: i.partitionKey, AttributeType: 'S' },
        { AttributeName: i.sortKey, AttributeType: 'S' },
      ],
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      GlobalSecondaryIndexes: [
        {
          IndexName: i.indexName,
          KeySchema: [
            { AttributeName: i.partitionKey, KeyType: 'HASH' },
            { AttributeName: i.sortKey, KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: [...i.projectedAttributes] },
        },
      ],
    }),
  );
  return TableName;
}

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  json<T = Record<string, unknown>>(): T;
}

/** A raw HTTP request (node:http lets a test set Host and Origin as any client could). */
export function call(port: number, path: string, options: { method?: string; headers?: Record<string, string>; body?: unknown; host?: string } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const payload = options.body === undefined ? undefined : typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
    const req = request(
      {
        host: options.host ?? '127.0.0.1',
        port,
        path,
        method: options.method ?? 'GET',
        headers: { ...(payload !== undefined ? { 'Content-Type': 'application/json' } : {}), ...options.headers },
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json: () => JSON.parse(body) }));
      },
    );
    req.on('error', reject);
    if (payload !== undefined) req.write(payload);
    req.end();
  });
}

