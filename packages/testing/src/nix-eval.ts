// Runs the real nix-instantiate (Debian nix-bin) for the Nix checks. `--store dummy://` keeps
// evaluation away from any Nix store, so it works offline and as non-root; nothing evaluated here
// may therefore copy a path into the store (results stringify paths with toString).
import { spawnSync } from 'node:child_process';

export interface NixResult {
  ok: boolean;
  stdout: string;
  /** Without Nix's warnings about the missing nixbld group, which Debian's nix-bin prints as root. */
  stderr: string;
}

function nixInstantiate(args: string[], cwd?: string): NixResult {
  const run = spawnSync('nix-instantiate', ['--store', 'dummy://', ...args], { cwd, encoding: 'utf8' });
  if (run.error) throw run.error;
  const stderr = run.stderr
    .split('\n')
    .filter((line) => !line.includes("'build-users-group' does not exist"))
    .join('\n')
    .trim();
  return { ok: run.status === 0, stdout: run.stdout, stderr };
}

/** `nix-instantiate --parse`: syntax and undefined variables. */
export function parseNixFile(file: string): NixResult {
  return nixInstantiate(['--parse', file]);
}

/** Evaluates a Nix expression strictly and returns its JSON value; throws with Nix's message. */
export function evalNixJson(expr: string, cwd?: string): unknown {
  const result = nixInstantiate(['--eval', '--strict', '--json', '-E', expr], cwd);
  if (!result.ok) throw new Error(result.stderr);
  return JSON.parse(result.stdout);
}
