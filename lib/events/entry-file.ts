/**
 * Where the completion-events function's entry is: lib/events/handler.ts in this repository,
 * dist/lib/events/handler.js in the installed package. The construct bundles it; the local
 * system runs it from source when it has no bundle.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export function completionEventsEntry(): string {
  for (const extension of ['.ts', '.js']) {
    const file = fileURLToPath(new URL(`./handler${extension}`, import.meta.url));
    if (existsSync(file)) return file;
  }
  throw new Error('the completion-events handler (lib/events/handler) is missing from the taskq package');
}
