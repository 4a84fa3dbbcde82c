// Test support: run the built CLI (packages/cli/dist/main.js, from `npm run build`) as a user would.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll } from 'vitest';

export const CLI = fileURLToPath(new URL('../../cli/dist/main.js', import.meta.url));
/** The CLI's modules as tsc built them, before scripts/bundle-cli.mjs bundles them: for tests of the module graph. */
export const CLI_UNBUNDLED = fileURLToPath(new URL('../../cli/dist/cli.js', import.meta.url));
export const REPO = fileURLToPath(new URL('../../../', import.meta.url));

export interface CliRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI in `cwd`; `env` adds to (or, e.g. PATH, replaces in) the test's environment. */
export function runCli(args: string[], cwd: string, env: NodeJS.ProcessEnv = {}, entry = CLI): CliRun {
  const r = spawnSync(process.execPath, [entry, ...args], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1', ...env },
  });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

// Every temp fleet is removed after the test file that made it, so runs do not pile up in /tmp
// (vitest isolates each file's modules, so this hook is registered once per test file).
const made: string[] = [];
afterAll(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'agentfleet-cli-'));
  made.push(dir);
  return dir;
}

/** A temp fleet repo holding `files` (repo-relative path -> text). */
export function tempFleet(files: Record<string, string>): string {
  const dir = tempDir();
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

/** A temp copy of the repo's shipped agents/ directory. */
export function shippedFleet(): string {
  const dir = tempDir();
  cpSync(join(REPO, 'agents'), join(dir, 'agents'), { recursive: true });
  return dir;
}
