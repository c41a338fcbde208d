/**
 * The payload argument of `taskq send`: inline JSON, `@path/to/file.json`, or `@-` for
 * standard input.
 */
import { readFile } from 'node:fs/promises';
import { OpsError } from './errors.ts';

export async function readPayloadArgument(argument: string, readStdin: () => Promise<string> = readAllStdin): Promise<unknown> {
  let text = argument;
  let source = 'the payload argument';
  if (argument.startsWith('@')) {
    const path = argument.slice(1);
    if (path === '-') {
      text = await readStdin();
      source = 'standard input';
    } else {
      try {
        text = await readFile(path, 'utf8');
      } catch (error) {
        throw new OpsError('USAGE', `cannot read payload file ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
      }
      source = path;
    }
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new OpsError('USAGE', `${source} is not valid JSON (${(error as Error).message}) — pass JSON such as '{"to":"a@example.com"}' or @file.json`);
  }
}

async function readAllStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
