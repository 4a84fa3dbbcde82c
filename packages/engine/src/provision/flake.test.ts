import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { flakeFiles, localFlakeDir } from './flake.js';

describe('localFlakeDir', () => {
  it('resolves references to directories on this host against the fleet repo', () => {
    expect(localFlakeDir('.', '/repo')).toBe('/repo');
    expect(localFlakeDir('./nix', '/repo')).toBe('/repo/nix');
    expect(localFlakeDir('/abs/flake', '/repo')).toBe('/abs/flake');
    expect(localFlakeDir('path:/abs/flake', '/repo')).toBe('/abs/flake');
    expect(localFlakeDir('git+file:///home/u/cfg?ref=main', '/repo')).toBe('/home/u/cfg');
  });

  it('leaves remote references to the agent', () => {
    expect(localFlakeDir('github:ncrmro/nixos-config', '/repo')).toBeUndefined();
    expect(localFlakeDir('git+https://example.org/cfg.git', '/repo')).toBeUndefined();
  });
});

describe('flakeFiles', () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'ih-flake-files-'));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  const plant = async (files: Record<string, string>) => {
    for (const [f, text] of Object.entries(files)) {
      await mkdir(dirname(join(root, f)), { recursive: true });
      await writeFile(join(root, f), text);
    }
  };
  const git = (...args: string[]) => execFileSync('git', ['-C', root, ...args], { stdio: 'pipe' });

  it('uploads what git would commit: tracked and untracked-not-ignored files, never ignored ones or the state dir', async () => {
    await plant({
      'flake.nix': '{ }',
      'hosts/common/default.nix': '{ }',
      'hosts/new-host.nix': '{ }', // untracked, not ignored: part of the work in progress
      '.gitignore': '.env\n.direnv/\n*_ed25519\npasswords.txt\n',
      '.env': 'OPENAI_API_KEY=sk-planted',
      'passwords.txt': 'root:hunter2',
      'keys/stray_ed25519': '-----BEGIN OPENSSH PRIVATE KEY-----\nplanted\n',
      '.direnv/flake-profile/env': 'export SECRET=planted',
      'local-only.nix': '{ }', // excluded through .git/info/exclude, not .gitignore
      'state/agent-a.qcow2': 'disk', // the state dir, even though nothing ignores it
      'gone.nix': '{ }',
    });
    git('init', '-q');
    await writeFile(join(root, '.git', 'info', 'exclude'), 'local-only.nix\n');
    git('add', 'flake.nix', 'hosts/common/default.nix', '.gitignore', 'gone.nix');
    await rm(join(root, 'gone.nix')); // tracked, deleted from the work tree: nothing to send
    await symlink('/etc/passwd', join(root, 'link.nix'));

    expect(await flakeFiles(root, [join(root, 'state'), '/elsewhere'])).toEqual([
      '.gitignore',
      'flake.nix',
      'hosts/common/default.nix',
      'hosts/new-host.nix',
    ]);
  });

  it('a flake in a subdirectory of a repository lists only that subdirectory', async () => {
    await plant({ 'nix/flake.nix': '{ }', 'nix/.env': 'x', 'README.md': '', '.gitignore': '.env\n' });
    git('init', '-q');
    expect(await flakeFiles(join(root, 'nix'))).toEqual(['flake.nix']);
  });

  it('refuses a directory that is not in a git repository, with the remedy', async () => {
    await plant({ 'flake.nix': '{ }', '.env': 'SECRET=1' });
    // GIT_CEILING_DIRECTORIES keeps git from finding a repository above the temp dir.
    const before = process.env.GIT_CEILING_DIRECTORIES;
    process.env.GIT_CEILING_DIRECTORIES = dirname(root);
    try {
      await expect(flakeFiles(root)).rejects.toThrow(
        new RegExp(`${root} is not a git repository.*run \`git init\` in ${root}.*\\.gitignore`),
      );
    } finally {
      if (before === undefined) delete process.env.GIT_CEILING_DIRECTORIES;
      else process.env.GIT_CEILING_DIRECTORIES = before;
    }
  });
});
