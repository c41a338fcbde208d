import { describe, expect, it } from 'vitest';
import { packBatches } from '../../../lib/client/batch-packing.ts';
import { SQS_BATCH_MAX_BYTES, SQS_BATCH_MAX_ENTRIES } from '../../../lib/protocol/limits.ts';

function check(sizes: number[], bins: number[][]) {
  const seen = bins.flat().sort((a, b) => a - b);
  expect(seen).toEqual(sizes.map((_, i) => i)); // every message exactly once
  for (const bin of bins) {
    expect(bin.length).toBeGreaterThan(0);
    expect(bin.length).toBeLessThanOrEqual(SQS_BATCH_MAX_ENTRIES);
    expect(bin.reduce((sum, i) => sum + sizes[i]!, 0)).toBeLessThanOrEqual(SQS_BATCH_MAX_BYTES);
  }
}

const KiB = 1024;

describe('packBatches', () => {
  it('fills requests by count when messages are small', () => {
    const sizes = Array.from({ length: 25 }, () => 200);
    const bins = packBatches(sizes);
    check(sizes, bins);
    expect(bins.map((b) => b.length)).toEqual([10, 10, 5]);
  });

  it('never exceeds 1 MiB per request and uses few requests for mixed sizes', () => {
    // 5 × 600 KiB, 5 × 400 KiB, 20 × 1 KiB: each 600 KiB pairs with a 400 KiB one.
    const sizes = [...Array(5).fill(600 * KiB), ...Array(5).fill(400 * KiB - 64), ...Array(20).fill(KiB)];
    const bins = packBatches(sizes);
    check(sizes, bins);
    // The bytes bound is 5 requests (each 600 KiB message needs its own); the small ones fit beside the pairs.
    expect(bins.length).toBe(5);
  });

  it('packs a message of exactly 1 MiB alone', () => {
    const sizes = [SQS_BATCH_MAX_BYTES, 10, 10];
    const bins = packBatches(sizes);
    check(sizes, bins);
    expect(bins).toHaveLength(2);
  });

  it('handles nothing', () => {
    expect(packBatches([])).toEqual([]);
  });

  it('respects both limits on random inputs', () => {
    for (let round = 0; round < 50; round++) {
      const sizes = Array.from({ length: 1 + Math.floor(Math.random() * 60) }, () => 1 + Math.floor(Math.random() * SQS_BATCH_MAX_BYTES));
      check(sizes, packBatches(sizes));
    }
  });
});
