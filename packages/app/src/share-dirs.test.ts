import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatDiagnostic } from '@agentfleet/core';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { readFleet } from './fleet-files.js';
import { shareDirs } from './share-dirs.js';

let dir: string;
let home: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'shares-dirs-'));
  home = join(dir, 'home');
  mkdirSync(join(home, '.ssh'), { recursive: true });
  mkdirSync(join(dir, 'agents'));
  mkdirSync(join(dir, 'state', 'hostkeys'), { recursive: true });
  mkdirSync(join(dir, 'projects'));
  writeFileSync(join(dir, 'projects', 'file.txt'), 'x');
  symlinkSync(join(dir, 'state'), join(dir, 'projects-link'));
  writeFileSync(join(dir, 'agents', 'fleet.yaml'), `libvirtUri: qemu:///system\nstateDir: ${dir}/state\n`);
  vi.stubEnv('HOME', home);
});
afterEach(() => {
  vi.unstubAllEnvs();
  rmSync(dir, { recursive: true, force: true });
});

const check = (...sources: string[]) => {
  const shares = sources.map((s, i) => `  - { source: "${s}", target: /mnt/s${i} }\n`).join('');
  writeFileSync(join(dir, 'agents', 'x.yaml'), `git: { email: x@example.org }\nshares:\n${shares}`);
  return shareDirs(dir, readFleet(dir));
};

describe('share sources on the host', () => {
  it('resolve relative to the fleet repository, ~ and symlinks, and pass when they are plain directories', () => {
    const r = check('projects', '~/work/..', `${dir}/projects/`);
    expect(r.dirs).toEqual({
      projects: join(dir, 'projects'),
      '~/work/..': home,
      [`${dir}/projects/`]: join(dir, 'projects'),
    });
    // ~ itself holds ~/.ssh and fleet's own key (~/.ssh/id_ed25519 by default): refused, with its position.
    expect(r.diagnostics.map(formatDiagnostic)).toEqual([
      `agents/x.yaml:4:15: shares.1.source: ${home} contains fleet's SSH private key (${home}/.ssh/id_ed25519): share a directory that does not, e.g. a project directory`,
    ]);
  });

  it('refuse a missing path, a file, the state dir, a symlink into it, a parent of it, and /etc', () => {
    const r = check('missing', 'projects/file.txt', 'state', 'projects-link', '.', '/etc/ssh');
    expect(r.diagnostics.map(formatDiagnostic)).toEqual([
      `agents/x.yaml:3:15: shares.0.source: ${dir}/missing does not exist: create the directory, or fix the path (relative to ${dir})`,
      `agents/x.yaml:4:15: shares.1.source: ${dir}/projects/file.txt is not a directory: share the directory that holds it`,
      `agents/x.yaml:5:15: shares.2.source: ${dir}/state contains the fleet's state dir (agents' disks and host keys) (${dir}/state): share a directory that does not, e.g. a project directory`,
      `agents/x.yaml:6:15: shares.3.source: ${dir}/state contains the fleet's state dir (agents' disks and host keys) (${dir}/state): share a directory that does not, e.g. a project directory`,
      `agents/x.yaml:7:15: shares.4.source: ${dir} contains the fleet's state dir (agents' disks and host keys) (${dir}/state): share a directory that does not, e.g. a project directory`,
      "agents/x.yaml:8:15: shares.5.source: /etc/ssh is inside the host's configuration (its SSH host keys, shadow) (/etc): it must never reach a guest",
    ]);
  });
});
