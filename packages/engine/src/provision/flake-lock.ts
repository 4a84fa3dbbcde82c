import { access, open } from 'node:fs/promises';
import { join } from 'node:path';
import type { AgentShell } from '@agentfleet/core';
import type { AgentLog } from './agent-log.js';
import { REMOTE_FLAKE_DIR } from './flake.js';
import { shq } from './shell-quote.js';

/**
 * One pinned set of inputs for the whole fleet: the repository's flake.lock. With it, every
 * rebuild of every agent runs with `--no-update-lock-file`, so nothing but `nix flake update`
 * (run by a person, committed) moves an input. Without it, the first rebuild resolves the inputs
 * inside its agent, and fleet brings the lock nix wrote there back into the repository; rebuilds
 * waiting meanwhile (other agents of the same run) then use that lock.
 */
export const FLAKE_LOCK = 'flake.lock';

/** Rebuilds of a lock-less flake, by flake root: they take turns until one has written the lock. */
const waiting = new Map<string, Promise<void>>();

const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  );

/**
 * Runs `rebuild(locked)` for a local flake: `locked` says the repository has a flake.lock to
 * rebuild against. When it has none, rebuilds of that flake in this process run one at a time,
 * and the first brings its lock back (`bringBackLock`), so the next ones find it.
 */
export async function withFleetLock<T>(root: string, rebuild: (locked: boolean) => Promise<T>): Promise<T> {
  const lock = join(root, FLAKE_LOCK);
  if (await exists(lock)) return rebuild(true);
  const before = waiting.get(root) ?? Promise.resolve();
  let release = () => {};
  const mine = new Promise<void>((resolve) => {
    release = resolve;
  });
  waiting.set(root, mine);
  try {
    await before;
    return await rebuild(await exists(lock));
  } finally {
    release();
    if (waiting.get(root) === mine) waiting.delete(root);
  }
}

/**
 * Copies the flake.lock nix wrote in the agent into the repository, unless one appeared there
 * meanwhile (never replaced: moving the lock is `nix flake update`'s job).
 */
export async function bringBackLock(shell: AgentShell, root: string, log: AgentLog): Promise<void> {
  const remote = `${REMOTE_FLAKE_DIR}/${FLAKE_LOCK}`;
  let text = '';
  let stderr = '';
  const code = await shell.exec(`cat ${shq(remote)}`, (chunk, stream) => {
    if (stream === 'stdout') text += chunk;
    else stderr += chunk;
  });
  if (code !== 0 || text === '') {
    throw new Error(`nixos-rebuild wrote no ${remote} to pin the fleet's inputs with: ${stderr.trim()}`);
  }
  await keepLock(root, text, log);
}

/**
 * Writes the flake.lock a build resolved into the repository, unless one appeared there meanwhile
 * (never replaced: moving the lock is `nix flake update`'s job).
 */
export async function keepLock(root: string, text: string, log: Pick<AgentLog, 'write'>): Promise<void> {
  const local = join(root, FLAKE_LOCK);
  // 'wx': a lock that appeared since (another fleet run, a person) wins and is left alone.
  const file = await open(local, 'wx', 0o644).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'EEXIST') return undefined;
    throw err;
  });
  if (file === undefined) {
    log.write(`${FLAKE_LOCK}: ${local} appeared meanwhile; kept it\n`);
    return;
  }
  try {
    await file.writeFile(text);
    await file.sync();
  } finally {
    await file.close();
  }
  log.write(
    `${FLAKE_LOCK}: the repository had none; wrote ${local} with the inputs this rebuild resolved. ` +
      `Every later rebuild of every agent uses it; commit it (\`nix flake update\` moves it)\n`,
  );
}
