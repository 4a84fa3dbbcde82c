// Runs the built `fleet` CLI as a subprocess, the way users run it.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { repoRoot } from './exec.js';

export const fleetMain = path.join(repoRoot, 'packages/cli/dist/main.js');

export interface FleetResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export function fleet(dir: string, args: string[]): Promise<FleetResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [fleetMain, '--dir', dir, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** Like `fleet`, but a non-zero exit fails with everything the command said. */
export async function fleetOk(dir: string, args: string[]): Promise<FleetResult> {
  const r = await fleet(dir, args);
  if (r.code !== 0) {
    throw new Error(
      `fleet ${args.join(' ')} exited ${r.code ?? r.signal}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`,
    );
  }
  return r;
}

/** Starts `fleet` and leaves it running, for tests that kill it mid-way. */
export function fleetSpawn(dir: string, args: string[]) {
  return spawn(process.execPath, [fleetMain, '--dir', dir, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
}
