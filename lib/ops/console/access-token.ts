/**
 * The console's per-run access token: 32 random bytes, base64url (URL-safe, so it travels in
 * the printed address unescaped). Compared in constant time, so response timing does not
 * reveal how much of a guess was right.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';

export function newAccessToken(): string {
  return randomBytes(32).toString('base64url');
}

export function tokenMatches(expected: string, presented: string | undefined | null): boolean {
  if (typeof presented !== 'string') return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(presented);
  return a.length === b.length && timingSafeEqual(a, b);
}
