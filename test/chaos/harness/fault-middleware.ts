/**
 * Fault injection at the SDK's wire: middleware on the runtime's own DynamoDB and S3
 * clients that answers some requests with the HTTP error response AWS would send
 * (DynamoDB 400 ProvisionedThroughputExceededException / ThrottlingException, S3 503
 * SlowDown / 500 InternalError) instead of sending them. The middleware sits inside the
 * deserializer, so the SDK parses the fabricated response exactly like a real one and its
 * own retry strategy (attempts with throttling backoff) runs first — the runtime only sees the
 * error when the SDK gives up, as in production.
 */
import { Readable } from 'node:stream';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { S3Client } from '@aws-sdk/client-s3';

/** What the middleware asks the fault plan for each request. */
export interface WireFaults {
  /** Throttle this DynamoDB request? Returns the error code to answer with, or undefined to send it. */
  dynamo(operation: string): 'ProvisionedThroughputExceededException' | 'ThrottlingException' | undefined;
  /** Fail this S3 GetObject? Returns the error to answer with, or undefined to send it. */
  s3GetObject(key: string): 'SlowDown' | 'InternalError' | undefined;
}

type Middleware = (next: (args: any) => Promise<any>, context: any) => (args: any) => Promise<any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function fakeResponse(statusCode: number, headers: Record<string, string>, body: string) {
  return { response: { statusCode, reason: undefined, headers: { 'content-length': String(Buffer.byteLength(body)), ...headers }, body: Readable.from([Buffer.from(body)]) }, output: undefined };
}

function dynamoError(code: string) {
  const body = JSON.stringify({ __type: `com.amazonaws.dynamodb.v20120810#${code}`, message: `chaos: injected ${code}` });
  return fakeResponse(400, { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': `chaos-${Math.random().toString(36).slice(2)}` }, body);
}

function s3Error(code: 'SlowDown' | 'InternalError') {
  const status = code === 'SlowDown' ? 503 : 500;
  const message = code === 'SlowDown' ? 'Please reduce your request rate.' : 'We encountered an internal error. Please try again.';
  const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message><RequestId>chaos</RequestId><HostId>chaos</HostId></Error>`;
  return fakeResponse(status, { 'content-type': 'application/xml', 'x-amz-request-id': 'chaos' }, body);
}

export function installDynamoFaults(client: DynamoDBClient, faults: WireFaults): void {
  const middleware: Middleware = (next, context) => async (args) => {
    const operation = String(context?.commandName ?? '');
    const code = faults.dynamo(operation);
    if (code) return dynamoError(code);
    return next(args);
  };
  client.middlewareStack.add(middleware as never, { step: 'deserialize', priority: 'low', name: 'chaosDynamoFaults' });
}

export function installS3Faults(client: S3Client, faults: WireFaults): void {
  const middleware: Middleware = (next, context) => async (args) => {
    if (context?.commandName === 'GetObjectCommand') {
      const code = faults.s3GetObject(String(args.input?.Key ?? ''));
      if (code) return s3Error(code);
    }
    return next(args);
  };
  client.middlewareStack.add(middleware as never, { step: 'deserialize', priority: 'low', name: 'chaosS3Faults' });
}
