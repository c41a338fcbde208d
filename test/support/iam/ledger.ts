/**
 * What the enforcement evaluated, kept across processes: each process appends the distinct
 * (principal, action, resource) triples it checked, and every refusal, to its own file in
 * the run's ledger directory; the global teardown adds them up (summarizeLedger).
 */
import { appendFileSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { threadId } from 'node:worker_threads';
import { iamFiles } from './run-directory.ts';

export interface Triple {
  /** A principal of PRINCIPALS, or a service principal such as cloudwatch.amazonaws.com. */
  readonly principal: string;
  readonly action: string;
  /** The resource ARN in the synthesized template (fake account). */
  readonly resource: string;
}

export interface Denial {
  /** TASKQ_IAM_SESSION of the process that made the call (child processes), else 'in-process'. */
  readonly session: string;
  readonly message: string;
}

const seen = new Set<string>();
const pending: Denial[] = [];

function processFile(kind: 'triples' | 'denials', session?: string): string {
  const dir = iamFiles.ledger();
  mkdirSync(dir, { recursive: true });
  return join(dir, session ? `${kind}-${session}.jsonl` : `${kind}-${process.pid}-${threadId}.jsonl`);
}

export function recordTriple(triple: Triple): void {
  const key = JSON.stringify([triple.principal, triple.action, triple.resource]);
  if (seen.has(key)) return;
  seen.add(key);
  appendFileSync(processFile('triples'), `${key}\n`);
}

/**
 * A refusal. A child process writes it to its session's file at once (the test reads it
 * after the child exits); in a test worker it waits for the test's end (takeDenials), so a
 * refusal a test provokes on purpose and takes itself is not counted as one.
 */
export function recordDenial(message: string): void {
  const session = process.env.TASKQ_IAM_SESSION;
  if (session) appendFileSync(processFile('denials', session), `${JSON.stringify({ session, message })}\n`);
  else pending.push({ session: 'in-process', message });
}

/** Refusals in this process not yet taken. */
export function takeDenials(): Denial[] {
  return pending.splice(0, pending.length);
}

/** Counts refusals that fail a test (worker-setup.ts) in the run's summary. */
export function reportDenials(denials: readonly Denial[]): void {
  for (const denial of denials) appendFileSync(processFile('denials'), `${JSON.stringify(denial)}\n`);
}

/** Refusals recorded by the child processes started with this session id. */
export function childDenials(session: string): Denial[] {
  let text: string;
  try {
    text = readFileSync(processFile('denials', session), 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Denial);
}

export interface LedgerSummary {
  readonly triples: number;
  readonly byPrincipal: Record<string, number>;
  readonly denials: number;
}

/** Distinct triples and refusals over every process of the run. */
export function summarizeLedger(): LedgerSummary {
  const dir = iamFiles.ledger();
  let files: string[];
  try {
    files = readdirSync(dir);
  } catch {
    return { triples: 0, byPrincipal: {}, denials: 0 };
  }
  const triples = new Set<string>();
  const denials = new Set<string>();
  for (const file of files) {
    const lines = readFileSync(join(dir, file), 'utf8').split('\n').filter((line) => line !== '');
    if (file.startsWith('triples-')) for (const line of lines) triples.add(line);
    if (file.startsWith('denials-')) for (const line of lines) denials.add((JSON.parse(line) as Denial).message);
  }
  const byPrincipal: Record<string, number> = {};
  for (const line of triples) {
    const [principal] = JSON.parse(line) as [string];
    byPrincipal[principal] = (byPrincipal[principal] ?? 0) + 1;
  }
  return { triples: triples.size, byPrincipal, denials: denials.size };
}
