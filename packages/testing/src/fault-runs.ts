// Running `fleet` under faults (a SIGKILL, a daemon restart at a chosen point) and looking for what a run left
// behind: shared by the fault e2e test and the randomized kill benchmark (bench/kill-up.run.ts).
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fleetSpawn } from './fleet-cli.js';

export type FleetChild = ReturnType<typeof fleetSpawn>;

export interface FaultRun {
  /** The exit code, or 'hung' when the run outlived its bound (it is then killed). */
  code: number | null | 'hung';
  signal: NodeJS.Signals | null;
  /** stdout and stderr as they arrived (progress lines and, with --log-level debug, the log). */
  output: string;
  /** Whether the marker showed (and `at` ran). */
  hit: boolean;
}

/**
 * Runs `fleet --log-level debug <args>` in `dir` and calls `at` once its output matches `marker` (a phase's progress
 * line or log message), or at once for 'spawn'; resolves once the run ended and `at` finished.
 */
export async function runFleetUntil(
  dir: string,
  args: string[],
  marker: RegExp | 'spawn',
  at: (child: FleetChild) => unknown,
  hungMs: number,
): Promise<FaultRun> {
  const child = fleetSpawn(dir, ['--log-level', 'debug', ...args]);
  let output = '';
  let hit = false;
  let acting: Promise<unknown> = Promise.resolve();
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  const closed = new Promise<void>((resolve) => child.on('close', () => resolve()));
  const act = () => {
    hit = true;
    acting = Promise.resolve(at(child));
  };
  if (marker === 'spawn') act();
  const collect = (d: Buffer) => {
    output += d;
    if (!hit && marker !== 'spawn' && marker.test(output)) act();
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  let timer: NodeJS.Timeout | undefined;
  const end = await Promise.race([
    exited,
    new Promise<'hung'>((r) => {
      timer = setTimeout(() => r('hung'), hungMs);
    }),
  ]);
  clearTimeout(timer);
  if (end === 'hung') child.kill('SIGKILL');
  // 'exit' may come before the last of the output was read (a run's final error line): what it said ends when its
  // streams close. Bounded: a child of the run that outlived it would hold them open (strayProcesses finds those).
  let grace: NodeJS.Timeout | undefined;
  await Promise.race([closed, new Promise((r) => (grace = setTimeout(r, 30_000)))]);
  clearTimeout(grace);
  await acting;
  return end === 'hung'
    ? { code: 'hung', signal: null, output, hit }
    : { code: end.code, signal: end.signal, output, hit };
}

const processes = () =>
  spawnSync('ps', ['-e', '-o', 'pid=,args='], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean);

/**
 * Processes (pid and command line) that name `dir`, but a guest's QEMU and passt, which outlive fleet by design:
 * after a fleet run ended, whatever else is there was left behind by it (cp, qemu-img, ssh, nix).
 */
export function strayProcesses(dir: string): string[] {
  return processes()
    .filter((l) => l.includes(dir) && !/qemu-system|^\s*\d+\s+passt\s|^\s*\d+\s+ps\s/.test(l))
    .map((l) => l.trim());
}

/** Files under `root` that no finished run may leave: atomic writers' temps, partial disks, lock reap tokens. */
export function leftoverFiles(root: string): string[] {
  return readdirSync(root, { withFileTypes: true, recursive: true })
    .map((e) => join(e.parentPath, e.name))
    .filter((p) => !p.includes('/.git/') && /\.tmp$|\.partial$|\.reap$/.test(p));
}

/** Polls `check` (up to `ms`) until it returns an empty list; returns its last answer. */
export async function settles<T>(check: () => T[], ms = 10_000): Promise<T[]> {
  const deadline = Date.now() + ms;
  let left = check();
  while (left.length > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    left = check();
  }
  return left;
}

/** Open file descriptors of a process (its /proc/<pid>/fd entries), or undefined when it is gone. */
export function openFds(pid: number): number | undefined {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return undefined;
  }
}
