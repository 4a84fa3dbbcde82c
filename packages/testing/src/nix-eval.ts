// Runs the real nix-instantiate (Debian nix-bin) for the Nix checks. `--store dummy://` keeps
// evaluation away from any Nix store, so it works offline and as non-root; nothing evaluated here
// may therefore copy a path into the store (results stringify paths with toString).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

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

/**
 * ../shared/nix-sources (nixpkgs' lib, home-manager, agenix at pinned revisions): beside the
 * repository, where CI always has it; AGENTFLEET_NIX_SOURCES points elsewhere (e.g. from a git
 * worktree). Missing, the Nix checks cannot run at all, so this throws instead of skipping.
 */
export function nixSources(): string {
  const root = fileURLToPath(new URL('../../../', import.meta.url));
  const dir = process.env.AGENTFLEET_NIX_SOURCES ?? resolve(root, '..', 'shared', 'nix-sources');
  if (!existsSync(join(dir, 'nixpkgs-lib', 'lib', 'default.nix'))) {
    throw new Error(
      `${dir} not found: the Nix checks evaluate against upstream nixpkgs lib, home-manager and agenix kept ` +
        'there (CI has ../shared beside the repository); put them there or set AGENTFLEET_NIX_SOURCES',
    );
  }
  return dir;
}
