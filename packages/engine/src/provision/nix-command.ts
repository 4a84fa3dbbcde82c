import { spawn } from 'node:child_process';

/** nix 2.8 (Debian 12) ships `nix build`/`nix copy` and flakes as experimental features. */
export const NIX_FEATURES = ['--extra-experimental-features', 'nix-command flakes'];

export interface NixRun {
  code: number;
  stdout: string;
}

/**
 * Runs the host's `nix` with `args`: stdout is collected (JSON answers), stderr (build output) is
 * handed over line by line. `env` is added to the inherited environment.
 */
export type NixRunner = (
  args: readonly string[],
  onLine: (line: string) => void,
  env?: Record<string, string>,
  /** `nix-store` realises derivations already evaluated, the same way in every Nix version. */
  program?: 'nix' | 'nix-store',
) => Promise<NixRun>;

export const runNix: NixRunner = (args, onLine, env, program = 'nix') =>
  new Promise((resolve, reject) => {
    const child = spawn(program, [...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...env },
    });
    let stdout = '';
    let partial = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) onLine(line);
    });
    child.on('error', (err: NodeJS.ErrnoException) =>
      reject(err.code === 'ENOENT' ? new Error('nix is not installed on this host') : err),
    );
    child.on('close', (code, signal) => {
      if (partial !== '') onLine(partial);
      resolve({ code: code ?? (signal ? 128 : 1), stdout });
    });
  });
