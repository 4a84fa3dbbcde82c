import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
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
  it('lists the repository without VCS data, build output or the state dir', async () => {
    const root = await mkdtemp(join(tmpdir(), 'flake-files-'));
    try {
      for (const f of [
        'flake.nix',
        'hosts/common/default.nix',
        '.git/HEAD',
        'node_modules/x/y.js',
        'state/d.qcow2',
        // Another agent's host key half-written by the secrets writer / the engine's writer.
        'secrets/hosts/.rl1.pub.0a1b2c3d4e5f.tmp',
        'secrets/hosts/.rl2.pub.4242.0a1b2c3d.tmp',
        'secrets/hosts/rl3.pub',
      ]) {
        await mkdir(join(root, f, '..'), { recursive: true });
        await writeFile(join(root, f), '');
      }
      expect(await flakeFiles(root, [join(root, 'state'), '/elsewhere'])).toEqual([
        'flake.nix',
        'hosts/common/default.nix',
        'secrets/hosts/rl3.pub',
      ]);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
