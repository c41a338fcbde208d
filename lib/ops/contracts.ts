/**
 * `taskq contracts <module>`: the task contracts a module exports, and their JSON Schemas for
 * producers written in other languages (docs/PROTOCOL.md "Task contracts").
 *
 * The module is the one the app's producer and consumer import (e.g. src/contracts.ts). A
 * compiled `.js`/`.mjs` module loads under plain node; a `.ts` module needs tsx installed
 * next to it (its loader is registered for this import only).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { extname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { isTaskContract, payloadJsonSchema, type TaskContract, type TaskContractDefaults } from '../protocol/contract.ts';
import { OpsError } from './errors.ts';

/** The contracts a module exports: each exported contract, and contracts inside exported arrays or objects (one level). */
export async function loadContracts(modulePath: string, cwd = process.cwd()): Promise<TaskContract[]> {
  const file = resolve(cwd, modulePath);
  let module: Record<string, unknown>;
  try {
    module = /^\.[cm]?tsx?$/.test(extname(file)) ? await importTypeScript(file) : ((await import(pathToFileURL(file).href)) as Record<string, unknown>);
  } catch (error) {
    if (error instanceof OpsError) throw error;
    throw new OpsError('USAGE', `cannot load ${modulePath}: ${(error as Error)?.message ?? String(error)}`);
  }
  const found = new Map<string, TaskContract>();
  const add = (value: unknown) => {
    if (isTaskContract(value)) found.set(value.type, value);
  };
  for (const value of Object.values(module)) {
    add(value);
    if (Array.isArray(value)) value.forEach(add);
    else if (value && typeof value === 'object' && !isTaskContract(value)) Object.values(value).forEach(add);
  }
  if (found.size === 0) throw new OpsError('USAGE', `${modulePath} exports no task contract (made by defineContract)`);
  return [...found.values()].sort((a, b) => a.type.localeCompare(b.type));
}

async function importTypeScript(file: string): Promise<Record<string, unknown>> {
  let tsImport: (specifier: string, parentURL: string) => Promise<unknown>;
  try {
    ({ tsImport } = (await import('tsx/esm/api')) as { tsImport: typeof tsImport });
  } catch {
    throw new OpsError('USAGE', `${file} is TypeScript: install tsx (npm i -D tsx) or point taskq contracts at the compiled .js module`);
  }
  return (await tsImport(pathToFileURL(file).href, import.meta.url)) as Record<string, unknown>;
}

export interface ContractSummary {
  readonly type: string;
  readonly schemaVendor: string;
  readonly defaults: Omit<TaskContractDefaults, 'jsonSchema'>;
}

export function summarize(contract: TaskContract): ContractSummary {
  const { jsonSchema: _ignored, ...defaults } = contract.defaults;
  return { type: contract.type, schemaVendor: contract.schema['~standard'].vendor, defaults };
}

/**
 * One JSON Schema (draft 2020-12) per task type: the payload a producer must send, with the
 * contract's defaults alongside (`x-taskq`). Throws naming every contract whose schema cannot
 * be converted.
 */
export function contractSchemas(contracts: readonly TaskContract[]): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  const problems: string[] = [];
  for (const contract of contracts) {
    try {
      out[contract.type] = { ...payloadJsonSchema(contract), title: `${contract.type} payload`, 'x-taskq': summarize(contract) };
    } catch (error) {
      problems.push((error as Error).message);
    }
  }
  if (problems.length > 0) throw new OpsError('USAGE', problems.join('\n'));
  return out;
}

/** Writes `<dir>/<type>.schema.json` per contract; returns the files written. */
export async function writeContractSchemas(dir: string, schemas: Record<string, Record<string, unknown>>): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const files: string[] = [];
  for (const [type, schema] of Object.entries(schemas)) {
    const file = join(dir, `${type}.schema.json`);
    await writeFile(file, `${JSON.stringify(schema, null, 2)}\n`);
    files.push(file);
  }
  return files;
}
