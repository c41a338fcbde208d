/**
 * The cost model of schedules (bench/lib/lifecycle-cost.ts) and the figures docs/BENCHMARKS.md
 * states from it: one source per figure.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { breakEvenDelayHours, BURST_EVENTS_MODEL, completionEventsUsdPerMillion, DEFAULT_HOP_MODEL, groupUsdPerMillionGroups, groupUsdPerMillionMembers, TRICKLE_EVENTS_MODEL, notBeforeHopUsdPerMillionPerDay, oneTimeScheduleUsdPerMillion, scheduledOccurrenceUsdPerMillion } from '../../bench/lib/lifecycle-cost.ts';

const benchmarks = readFileSync(new URL('../../docs/BENCHMARKS.md', import.meta.url), 'utf8');
const section = (benchmarks.split('\n## Cost model: schedules')[1] ?? '').split('\n## ')[0]!;
const eventsSection = (benchmarks.split('\n## Cost model: completion events')[1] ?? '').split('\n## ')[0]!;
const groupsSection = benchmarks.split('\n## Cost model: groups')[1] ?? '';
const usd = (v: number) => `$${v.toFixed(2)}`;

describe('cost model: schedules', () => {
  it('the hops: 7 SQS requests and 0.3 invocations per cycle of 2 × 42,960 s + 900 s', () => {
    const perCycle = 7 * 0.4 + 0.3 * 0.2;
    expect(notBeforeHopUsdPerMillionPerDay()).toBeCloseTo((perCycle * 86_400) / (2 * 42_960 + 900), 10);
    // A longer visibility timeout shortens each hop: more cycles per day.
    expect(notBeforeHopUsdPerMillionPerDay({ ...DEFAULT_HOP_MODEL, visibilityTimeoutSeconds: 900 })).toBeGreaterThan(notBeforeHopUsdPerMillionPerDay());
  });

  it('docs/BENCHMARKS.md states the model\'s figures', () => {
    expect(section).toContain(`| ${usd(scheduledOccurrenceUsdPerMillion())} (the Scheduler invocation`);
    expect(section).toContain(`| ${usd(notBeforeHopUsdPerMillionPerDay())} per day of delay |`);
    expect(section).toContain(`| ${usd(oneTimeScheduleUsdPerMillion())} |`);
    expect(section).toContain(`about ${breakEvenDelayHours().toFixed(1)} hours`);
    const figures = [...section.matchAll(/\$(\d+\.\d+)/g)].map((m) => m[0]);
    expect(new Set(figures)).toEqual(new Set([usd(scheduledOccurrenceUsdPerMillion()), usd(notBeforeHopUsdPerMillionPerDay())]));
  });
});

describe('cost model: completion events', () => {
  it('PutEvents plus the function: requests and arm64 GB-seconds', () => {
    // Trickle: 1e6 invocations × $0.20/M + 1e6 × 0.05 s × 0.25 GB × $0.0000133334.
    expect(completionEventsUsdPerMillion(TRICKLE_EVENTS_MODEL)).toBeCloseTo(1 + 0.2 + 12_500 * 0.0000133334, 10);
    expect(completionEventsUsdPerMillion(BURST_EVENTS_MODEL)).toBeLessThan(completionEventsUsdPerMillion(TRICKLE_EVENTS_MODEL));
  });

  it('docs/BENCHMARKS.md states the model\'s figures', () => {
    expect(eventsSection).toContain(`| ${usd(completionEventsUsdPerMillion(TRICKLE_EVENTS_MODEL))} |`);
    expect(eventsSection).toContain(`| ${usd(completionEventsUsdPerMillion(BURST_EVENTS_MODEL))} |`);
  });
});

describe('cost model: groups', () => {
  it('per member 4 write units and 1 read unit; per group 5 write units, 1 read unit and 1 SQS request', () => {
    expect(groupUsdPerMillionMembers()).toBeCloseTo(4 * 0.625 + 0.125, 10);
    expect(groupUsdPerMillionGroups()).toBeCloseTo(5 * 0.625 + 0.125 + 0.4, 10);
  });

  it('docs/BENCHMARKS.md and docs/PRODUCER.md state the model\'s figures', () => {
    expect(groupsSection).toContain(`| ${usd(groupUsdPerMillionMembers())} per million members |`);
    expect(groupsSection).toContain(`| ${usd(groupUsdPerMillionGroups())} per million groups |`);
    const producer = readFileSync(new URL('../../docs/PRODUCER.md', import.meta.url), 'utf8');
    expect(producer).toContain(`about ${usd(groupUsdPerMillionMembers())} per million members`);
  });
});
