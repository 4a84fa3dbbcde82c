// The host side of agent YAML `shares:`: each source resolved (fleet-repo-relative, ~, symlinks) and checked on this
// machine's filesystem against what must never reach a guest. core/shares.ts holds the rules; this gathers the facts.
import { realpathSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Diagnostic, Fleet } from '@agentfleet/core';
import { type GuardedPath, shareSourceProblem } from '@agentfleet/core/shares';
import { createLocator } from '@agentfleet/core/yaml-source';
import { expandPath } from './fleet-files.js';

export interface ShareDirs {
  /** Each share source as written -> the absolute host directory libvirt gets (symlinks resolved). */
  dirs: Record<string, string>;
  /** One per source that is missing, not a directory, or must never be shared, located in its YAML. */
  diagnostics: Diagnostic[];
}

/** Symlinks resolved where the path exists, so a link cannot smuggle a guarded path past the comparison. */
function real(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

/** What no share may be, hold or lie in: keys and disks of this fleet and of the host. */
function guardedPaths(dir: string, fleet: Fleet): GuardedPath[] {
  const c = fleet.config;
  const home = homedir();
  const guarded: GuardedPath[] = [
    { path: expandPath(dir, c.stateDir), what: "the fleet's state dir (agents' disks and host keys)" },
    { path: expandPath(dir, c.ssh.identityFile), what: "fleet's SSH private key" },
    { path: join(home, '.ssh'), what: 'your SSH keys' },
    { path: join(home, '.gnupg'), what: 'your GnuPG keys' },
    { path: join(home, '.config', 'age'), what: 'your age keys' },
    { path: '/etc', what: "the host's configuration (its SSH host keys, shadow)" },
    { path: '/root/.ssh', what: "root's SSH keys" },
    { path: '/var/lib/libvirt', what: "libvirt's VM storage" },
    { path: '/boot', what: "the host's kernels" },
  ];
  if (c.adminIdentity !== undefined)
    guarded.push({
      path: expandPath(dir, c.adminIdentity),
      what: 'the admin identity that decrypts every secret',
    });
  return guarded.map((g) => ({ ...g, path: real(g.path) }));
}

export function shareDirs(dir: string, fleet: Fleet): ShareDirs {
  const dirs: Record<string, string> = {};
  const diagnostics: Diagnostic[] = [];
  if (!fleet.agents.some((a) => a.shares.length > 0)) return { dirs, diagnostics };
  const guarded = guardedPaths(dir, fleet);
  const locate = createLocator();
  for (const agent of fleet.agents) {
    agent.shares.forEach((share, i) => {
      const path = `shares.${i}.source`;
      const problem = (message: string) =>
        diagnostics.push({
          file: agent.file,
          ...locate(agent.file, fleet.texts[agent.file], path),
          path,
          message,
        });
      const resolved = real(expandPath(dir, share.source));
      dirs[share.source] = resolved;
      const isDir = statSync(resolved, { throwIfNoEntry: false })?.isDirectory();
      if (isDir === undefined)
        problem(`${resolved} does not exist: create the directory, or fix the path (relative to ${dir})`);
      else if (!isDir) problem(`${resolved} is not a directory: share the directory that holds it`);
      else {
        const refused = shareSourceProblem(resolved, guarded);
        if (refused) problem(refused);
      }
    });
  }
  return { dirs, diagnostics };
}
