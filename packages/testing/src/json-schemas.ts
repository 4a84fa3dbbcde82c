// The published JSON Schemas of `fleet --json` (docs/json/), for tests that check real output against them.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { expect } from 'vitest';
import { REPO, runCli } from './run-cli.js';

const SCHEMAS = join(REPO, 'docs', 'json');
const ajv = new Ajv2020({ allErrors: true, strictTypes: false });
for (const f of readdirSync(SCHEMAS)) ajv.addSchema(JSON.parse(readFileSync(join(SCHEMAS, f), 'utf8')));

/** The schema files' names (without `.schema.json`). */
export const schemaNames = (): string[] => readdirSync(SCHEMAS).map((f) => f.replace(/\.schema\.json$/, ''));

/** Parses `stdout` and expects it to validate against docs/json/<schema>.schema.json; returns it. */
export function expectSchema(stdout: string, schema: string): Record<string, unknown> {
  const out = JSON.parse(stdout) as Record<string, unknown>;
  const validate = ajv.getSchema(`https://agentfleet.invalid/json/${schema}.schema.json`);
  if (!validate) throw new Error(`no schema ${schema} in docs/json`);
  expect(validate(out) ? [] : validate.errors, stdout).toEqual([]);
  return out;
}

/** Runs `fleet --json ...args` in `dir`, expects exit `exit` and stdout valid against `schema`; returns the output. */
export function jsonRun(
  dir: string,
  args: string[],
  schema: string,
  exit: number,
  env: NodeJS.ProcessEnv = {},
): Record<string, unknown> {
  const r = runCli(['--json', ...args], dir, env);
  expect(r.status, r.stderr).toBe(exit);
  return expectSchema(r.stdout, schema);
}
