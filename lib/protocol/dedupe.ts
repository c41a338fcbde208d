/**
 * What producer and consumer agree on for deduplication and debounce on send
 * (lib/client/dedupe.ts writes, lib/runtime/flow/debounce.ts reads): the dedupe items' keys
 * in the task table, and the message attribute a debounced task carries.
 */

/**
 * A debounced task's message attribute: `<version>:<windowMs>:<dedupe key>`. The consumer runs
 * the task only when its version is the key's latest and the key has been quiet for the window.
 */
export const DEBOUNCE_ATTRIBUTE = 'taskq.debounce';

export interface DebounceMark {
  readonly key: string;
  readonly version: number;
  readonly windowMs: number;
}

/**
 * Dedupe items live in the task table under keys that start with U+001F: no idempotency key
 * may contain a control character, so they never collide with a task's record.
 */
export function dedupeItemKey(mode: 'simple' | 'throttle' | 'debounce', type: string, key: string): string {
  return `\u001fdedupe:${mode}:${type}:${key}`;
}

export function encodeDebounce(mark: DebounceMark): string {
  return `${mark.version}:${mark.windowMs}:${mark.key}`;
}

/** Undefined when the attribute is not a debounce mark this version understands. */
export function decodeDebounce(value: string | undefined): DebounceMark | undefined {
  if (value === undefined) return undefined;
  const match = /^(\d{1,15}):(\d{1,15}):(.+)$/s.exec(value);
  if (!match) return undefined;
  return { version: Number(match[1]), windowMs: Number(match[2]), key: match[3]! };
}
