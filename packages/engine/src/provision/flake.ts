import { execFile } from 'node:child_process';
import { lstat, stat } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { promisify } from 'node:util';
import type { AgentShell } from '@agentfleet/core';
import { OutputTail } from './output-tail.js';
import { shq } from './shell-quote.js';

const run = promisify(execFile);

/** Where an uploaded flake lives inside the agent. */
export const REMOTE_FLAKE_DIR = '/var/lib/agentfleet/flake';

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

/**
 * Every file of a local flake that is uploaded, relative to its root, sorted: what git would
 * commit, i.e. tracked files plus untracked files that no .gitignore (or info/exclude, or the
 * user's excludes file) excludes; never anything under `skipDirs` (the state dir). Only regular
 * files: symlinks, submodules and tracked files deleted from the work tree are not uploaded.
 * A directory that is not in a git repository is refused: without git's view of what is local
 * (.env, keys, .direnv/) there is no safe way to tell what may leave the host.
 */
export async function flakeFiles(root: string, skipDirs: readonly string[] = []): Promise<string[]> {
  const skipped = skipDirs
    .map((d) => relative(root, resolve(d)))
    .filter((r) => r !== '' && !r.startsWith('..'));
  const listed = await gitListFiles(root);
  const files = new Set<string>();
  for (const rel of listed) {
    if (skipped.some((s) => rel === s || rel.startsWith(`${s}/`))) continue;
    const st = await lstat(join(root, rel)).catch(() => undefined);
    if (st?.isFile()) files.add(rel);
  }
  return [...files].sort();
}

async function gitListFiles(root: string): Promise<string[]> {
  try {
    const { stdout } = await run(
      'git',
      ['-C', root, 'ls-files', '-z', '--cached', '--others', '--exclude-standard'],
      { maxBuffer: 256 * 1024 * 1024 },
    );
    return stdout.split('\0').filter((f) => f !== '');
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === 'ENOENT')
      throw new Error(`cannot list the flake's files in ${root}: git is not installed`);
    const said = (e.stderr ?? '').trim();
    if (/not a git repository/i.test(said)) {
      throw new Error(
        `${root} is not a git repository, so fleet cannot tell what may be uploaded to agents: ` +
          'it uploads only what git would commit (tracked files and untracked files no .gitignore excludes). ' +
          `Remedy: run \`git init\` in ${root} and list what must stay on this host (.env, keys, .direnv/) in .gitignore.`,
      );
    }
    throw new Error(`cannot list the flake's files in ${root}: git ls-files failed: ${said || e.message}`);
  }
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
  // The fleet's pinned inputs go up whatever the file selection: a lock fleet just brought back
  // is not committed yet, and without it `--no-update-lock-file` fails.
  if (!files.includes('flake.lock') && (await stat(join(root, 'flake.lock')).catch(() => undefined))) {
    files.push('flake.lock');
  }
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
  const output = new OutputTail(4096);
  const code = await shell.exec(command, (chunk) => output.push(chunk));
  if (code !== 0) throw new Error(`\`${command}\` exited with ${code}: ${output.toString().trim()}`);
}
