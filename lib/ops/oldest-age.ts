/**
 * Age of the oldest message in a queue. SQS's GetQueueAttributes does not return it:
 * on AWS it is the CloudWatch metric ApproximateAgeOfOldestMessage (1-minute resolution,
 * so it lags by a minute or two); on the local emulator (fauxqs) it is computed from the
 * emulator's non-destructive inspection endpoint, which never changes visibility or
 * receive counts. Anything else says "unavailable" and why — never a guess.
 */
import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { queueNameFromUrl } from './queue-name.ts';

export interface OldestAge {
  readonly seconds: number | null;
  readonly source: 'cloudwatch' | 'emulator' | 'unavailable';
  /** When it was measured (CloudWatch: the datapoint's timestamp). */
  readonly at?: string;
  readonly note?: string;
}

export type OldestAgeSource = (queueUrl: string) => Promise<OldestAge>;

export function cloudWatchOldestAge(cloudWatch: () => Promise<CloudWatchClient>, now: () => number = Date.now): OldestAgeSource {
  return async (queueUrl) => {
    const { GetMetricDataCommand } = await import('@aws-sdk/client-cloudwatch');
    const end = now();
    const result = await (await cloudWatch()).send(
      new GetMetricDataCommand({
        StartTime: new Date(end - 15 * 60_000),
        EndTime: new Date(end),
        ScanBy: 'TimestampDescending',
        MetricDataQueries: [
          {
            Id: 'oldest',
            MetricStat: {
              Metric: { Namespace: 'AWS/SQS', MetricName: 'ApproximateAgeOfOldestMessage', Dimensions: [{ Name: 'QueueName', Value: queueNameFromUrl(queueUrl) }] },
              Period: 60,
              Stat: 'Maximum',
            },
          },
        ],
      }),
    );
    const series = result.MetricDataResults?.[0];
    const value = series?.Values?.[0];
    const timestamp = series?.Timestamps?.[0];
    if (value === undefined) {
      return { seconds: null, source: 'unavailable', note: 'no CloudWatch datapoint in the last 15 minutes' };
    }
    return { seconds: Math.round(value), source: 'cloudwatch', ...(timestamp ? { at: timestamp.toISOString() } : {}) };
  };
}

interface InspectedMessage {
  sentTimestamp?: number;
}

/** fauxqs's `GET /_fauxqs/queues/<name>`: every message by state, read without touching it. */
export function emulatorOldestAge(endpoint: string, now: () => number = Date.now): OldestAgeSource {
  return async (queueUrl) => {
    const url = `${endpoint.replace(/\/+$/, '')}/_fauxqs/queues/${encodeURIComponent(queueNameFromUrl(queueUrl))}`;
    let body: { messages?: { ready?: InspectedMessage[]; inflight?: { message?: InspectedMessage }[] } };
    try {
      const response = await fetch(url);
      if (!response.ok) return { seconds: null, source: 'unavailable', note: `the emulator has no inspection endpoint (HTTP ${response.status})` };
      body = (await response.json()) as typeof body;
    } catch (error) {
      return { seconds: null, source: 'unavailable', note: `the emulator's inspection endpoint did not answer: ${(error as Error).message}` };
    }
    const sent = [
      ...(body.messages?.ready ?? []).map((m) => m.sentTimestamp),
      ...(body.messages?.inflight ?? []).map((m) => m.message?.sentTimestamp),
    ].filter((t): t is number => typeof t === 'number');
    const at = new Date(now()).toISOString();
    if (sent.length === 0) return { seconds: 0, source: 'emulator', at };
    return { seconds: Math.max(0, Math.floor((now() - Math.min(...sent)) / 1000)), source: 'emulator', at };
  };
}

export const unavailableOldestAge =
  (note: string): OldestAgeSource =>
  async () => ({ seconds: null, source: 'unavailable', note });
