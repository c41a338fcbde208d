/**
 * Packs messages into SendMessageBatch requests: at most SQS_BATCH_MAX_ENTRIES entries and
 * SQS_BATCH_MAX_BYTES in total (sizes as SQS counts them), in as few requests as possible:
 * first-fit decreasing (largest first, each into the first request it fits). Requests that are
 * full are closed at once, so the scan stays short: O(n) for small messages, which fill
 * requests by count. Order is not kept: FIFO batches pack one entry per message group at a
 * time (TaskProducer.sendInGroupOrder).
 */
import { SQS_BATCH_MAX_BYTES, SQS_BATCH_MAX_ENTRIES } from '../protocol/limits.ts';

export interface PackLimits {
  readonly maxEntries: number;
  readonly maxBytes: number;
}

export const SQS_BATCH_LIMITS: PackLimits = { maxEntries: SQS_BATCH_MAX_ENTRIES, maxBytes: SQS_BATCH_MAX_BYTES };

/** Returns groups of indexes into `sizes`. Every size must be ≤ limits.maxBytes. */
export function packBatches(sizes: readonly number[], limits: PackLimits = SQS_BATCH_LIMITS): number[][] {
  const { maxEntries, maxBytes } = limits;
  const n = sizes.length;
  if (n === 0) return [];
  // Fast path: when every run of maxEntries fits, input order is already optimal.
  let largest = 0;
  for (let i = 0; i < n; i++) if (sizes[i]! > largest) largest = sizes[i]!;
  if (largest * maxEntries <= maxBytes) {
    const bins: number[][] = [];
    for (let i = 0; i < n; i += maxEntries) {
      const bin: number[] = [];
      for (let j = i; j < Math.min(n, i + maxEntries); j++) bin.push(j);
      bins.push(bin);
    }
    return bins;
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => sizes[b]! - sizes[a]!);
  const bins: number[][] = [];
  const open: { items: number[]; bytes: number }[] = [];
  for (const i of order) {
    const size = sizes[i]!;
    let placed = false;
    for (let b = 0; b < open.length; b++) {
      const bin = open[b]!;
      if (bin.bytes + size <= maxBytes) {
        bin.items.push(i);
        bin.bytes += size;
        placed = true;
        if (bin.items.length === maxEntries) open.splice(b, 1);
        break;
      }
    }
    if (!placed) {
      const bin = { items: [i], bytes: size };
      bins.push(bin.items);
      if (maxEntries > 1) open.push(bin);
    }
  }
  return bins;
}
