/**
 * The one price table the cost model uses: AWS list prices, us-east-1, on-demand,
 * no free tier. Every cost in bench/RESULTS.md is a counted quantity × one of these.
 */
import type { Meter } from './meter.ts';

export const PRICE_TABLE = {
  region: 'us-east-1',
  /** When the prices were checked against the pages below (the figures the project design doc lists, checked against these pages). */
  asOf: '2026-11-28',
  sources: [
    'https://aws.amazon.com/sqs/pricing/ (standard queue, beyond free tier; each 64 KB chunk of a payload is 1 request)',
    'https://aws.amazon.com/lambda/pricing/ (arm64; duration billed per 1 ms)',
    'https://aws.amazon.com/dynamodb/pricing/on-demand/ (on-demand, standard table class)',
    'https://aws.amazon.com/s3/pricing/ (S3 Standard requests — HEAD is GET-class, DELETE free — and storage, first 50 TB)',
  ],
  usd: {
    sqsPerMillionRequests: 0.4,
    lambdaPerMillionRequests: 0.2,
    lambdaPerGbSecondArm64: 0.0000133334,
    dynamoPerMillionWru: 0.625,
    dynamoPerMillionRru: 0.125,
    s3PerThousandPut: 0.005,
    s3PerThousandGet: 0.0004,
    s3PerGbMonth: 0.023,
  },
} as const;

/** S3 operations billed at the PUT/COPY/POST/LIST rate; GET and all others at the GET rate; DELETE free. */
const S3_PUT_CLASS = new Set(['PutObject', 'CopyObject', 'CreateMultipartUpload', 'UploadPart', 'CompleteMultipartUpload', 'ListObjects', 'ListObjectsV2', 'ListBuckets']);
const S3_FREE = new Set(['DeleteObject', 'DeleteObjects', 'AbortMultipartUpload']);

export interface CostBreakdown {
  /** USD for the whole run, per component. */
  sqs: number;
  lambdaRequests: number;
  lambdaCompute: number;
  dynamoWrite: number;
  dynamoRead: number;
  s3Put: number;
  s3Get: number;
  /** Claim objects kept until the bucket's lifecycle rule expires them. */
  s3Storage: number;
  total: number;
}

export interface Quantities {
  sqsBilledRequests: number;
  sqsHttpRequests: number;
  /** Empty receives (idle polling): reported, not charged to tasks. */
  sqsEmptyReceives: number;
  lambdaInvocations: number;
  lambdaGbSeconds: number;
  dynamoWru: number;
  dynamoRru: number;
  dynamoRequests: number;
  s3Put: number;
  s3Get: number;
  /** GB-months of claim objects: each object's bytes × how long it lived — until a counted delete, else the lifecycle's lifetime. */
  s3GbMonths: number;
  /** Bytes PUT whose object a counted DeleteObject(s) removed during the run (billed only for the time they lived). */
  s3DeletedBytes: number;
}

/** Average month, days (GB-month = GB stored for this long). */
const DAYS_PER_MONTH = 30.4375;

/**
 * Quantities from a meter. Empty ReceiveMessage calls are excluded from the billed SQS
 * requests charged to the tasks: how many there are depends on how long pollers sit idle
 * (on AWS, the event source's pollers long-poll an idle queue at a fixed rate whatever the
 * load), not on the tasks. They are counted and reported separately.
 */
export function quantities(meter: Meter, memoryMb: number, claimLifetimeDays: number): Quantities {
  let sqsBilled = 0;
  let sqsHttp = 0;
  let empty = 0;
  let wru = 0;
  let rru = 0;
  let ddb = 0;
  let s3Put = 0;
  let s3Get = 0;
  let s3PutBytes = 0;
  for (const [key, s] of meter.ops) {
    const [service, op] = key.split(':') as [string, string];
    if (service === 'sqs') {
      sqsHttp += s.requests;
      sqsBilled += s.billed - (op === 'ReceiveMessage' ? s.empty : 0);
      empty += s.empty;
    } else if (service === 'dynamodb') {
      wru += s.wru;
      rru += s.rru;
      ddb += s.requests;
    } else if (service === 's3') {
      if (S3_FREE.has(op)) continue;
      if (op === 'PutObject') s3PutBytes += s.payloadBytes;
      if (S3_PUT_CLASS.has(op)) s3Put += s.requests;
      else s3Get += s.requests;
    }
  }
  // Objects deleted during the run are billed for the time they lived (S3 Standard has no minimum duration).
  let deletedBytes = 0;
  let deletedGbMonths = 0;
  for (const life of meter.s3Objects.values()) {
    if (life.deletedAt === undefined) continue;
    deletedBytes += life.bytes;
    deletedGbMonths += (life.bytes / 2 ** 30) * ((life.deletedAt - life.putAt) / 86_400_000 / DAYS_PER_MONTH);
  }
  return {
    sqsBilledRequests: sqsBilled,
    sqsHttpRequests: sqsHttp,
    sqsEmptyReceives: empty,
    lambdaInvocations: meter.lambda.invocations,
    lambdaGbSeconds: (meter.lambda.billedMs / 1000) * (memoryMb / 1024),
    dynamoWru: wru,
    dynamoRru: rru,
    dynamoRequests: ddb,
    s3Put,
    s3Get,
    s3GbMonths: ((s3PutBytes - deletedBytes) / 2 ** 30) * (claimLifetimeDays / DAYS_PER_MONTH) + deletedGbMonths,
    s3DeletedBytes: deletedBytes,
  };
}

export function price(q: Quantities): CostBreakdown {
  const p = PRICE_TABLE.usd;
  const c = {
    sqs: (q.sqsBilledRequests / 1e6) * p.sqsPerMillionRequests,
    lambdaRequests: (q.lambdaInvocations / 1e6) * p.lambdaPerMillionRequests,
    lambdaCompute: q.lambdaGbSeconds * p.lambdaPerGbSecondArm64,
    dynamoWrite: (q.dynamoWru / 1e6) * p.dynamoPerMillionWru,
    dynamoRead: (q.dynamoRru / 1e6) * p.dynamoPerMillionRru,
    s3Put: (q.s3Put / 1000) * p.s3PerThousandPut,
    s3Get: (q.s3Get / 1000) * p.s3PerThousandGet,
    s3Storage: q.s3GbMonths * p.s3PerGbMonth,
  };
  return { ...c, total: Object.values(c).reduce((a, b) => a + b, 0) };
}

/** Scales a run's cost to USD per million tasks. */
export function perMillion(cost: CostBreakdown, tasks: number): CostBreakdown {
  const f = 1e6 / tasks;
  return Object.fromEntries(Object.entries(cost).map(([k, v]) => [k, v * f])) as unknown as CostBreakdown;
}
