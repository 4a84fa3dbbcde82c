import { readdir } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import type { AgentShell } from '@agentfleet/core';
import { shq } from './shell-quote.js';

/** Where an uploaded flake lives inside the agent. */
export const REMOTE_FLAKE_DIR = '/var/lib/agentfleet/flake';

/** Build output, tooling and VCS data a NixOS evaluation never reads: not uploaded. */
const SKIPPED = new Set(['.git', 'node_modules', 'dist', 'build', '.cache', 'coverage', 'result']);

/**
 * Temp files of fleet's atomic writers (`.<name>.<...>.tmp`), e.g. another agent's host key being recorded in
 * secrets/hosts/ while this upload runs: half-written, never part of a flake.
 */
const ATOMIC_TEMP = /^\..+\.tmp$/;

/**
 * A flake reference from fleet.yaml is either remote (`github:owner/repo`, `git+https://...`),
 * used as it is, or names a directory on this host (`.`, `./x`, `/abs`, `path:...`,
 * `git+file://...`): the fleet's own repository, which the agent cannot see and so gets uploaded.
 */
export function localFlakeDir(ref: string, fleetDir: string): string | undefined {
  let path = ref;
  if (ref.startsWith('path:')) path = ref.slice('path:'.length);
  else if (ref.startsWith('git+file://')) path = ref.slice('git+file://'.length);
  path = path.replace(/\?.*$/, '');
  if (path === '.' || path.startsWith('./') || path.startsWith('../') || isAbsolute(path)) {
    return resolve(fleetDir, path);
  }
  return undefined;
}

/** Every file of a local flake that is uploaded, relative to its root, sorted. */
export async function flakeFiles(root: string, skipDirs: readonly string[] = []): Promise<string[]> {
  const skipped = skipDirs
    .map((d) => relative(root, resolve(d)))
    .filter((r) => r !== '' && !r.startsWith('..'));
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  const files: string[] = [];
  for (const e of entries) {
    if (!e.isFile() || ATOMIC_TEMP.test(e.name)) continue;
    const rel = relative(root, join(e.parentPath, e.name));
    if (rel.split('/').some((part) => SKIPPED.has(part))) continue;
    if (skipped.some((s) => rel.startsWith(`${s}/`))) continue;
    files.push(rel);
  }
  return files.sort();
}

/**
 * Uploads a local flake next to REMOTE_FLAKE_DIR and swaps it in, so a file deleted locally is
 * gone remotely and a half-finished upload is never what nixos-rebuild reads.
 */
export async function uploadFlake(
  shell: AgentShell,
  root: string,
  sudo: boolean,
  skipDirs: readonly string[],
): Promise<string> {
  const staging = `${REMOTE_FLAKE_DIR}.new`;
  const files = await flakeFiles(root, skipDirs);
  // The parent belongs to the login user, so only creating it needs root.
  const parent = dirname(REMOTE_FLAKE_DIR);
  const makeParent = sudo
    ? `sudo mkdir -p ${shq(parent)} && sudo chown "$(id -u)" ${shq(parent)}`
    : `mkdir -p ${shq(parent)}`;
  await mustExec(shell, `${makeParent} && rm -rf ${shq(staging)} && mkdir ${shq(staging)}`);
  await shell.upload(files.map((f) => ({ local: join(root, f), remote: `${staging}/${f}` })));
  await mustExec(shell, `rm -rf ${shq(REMOTE_FLAKE_DIR)} && mv ${shq(staging)} ${shq(REMOTE_FLAKE_DIR)}`);
  return REMOTE_FLAKE_DIR;
}

async function mustExec(shell: AgentShell, command: string): Promise<void> {
  let output = '';
  const code = await shell.exec(command, (chunk) => {
    output += chunk;
  });
  if (code !== 0) throw new Error(`\`${command}\` exited with ${code}: ${output.trim()}`);
}
