import { chmod, chown, mkdir, mkdtemp, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { securePrivateDir } from './state-dir.js';

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'ih-state-dir-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

const mode = async (p: string) => (await stat(p)).mode & 0o777;

describe('securePrivateDir', () => {
  it('creates a missing state dir 0700', async () => {
    const dir = join(root, 'new', 'state');
    await securePrivateDir(dir);
    expect(await mode(dir)).toBe(0o700);
  });

  it('tightens a fleet an older version left open: dirs 0700, files 0600, symlinks not followed', async () => {
    const dir = join(root, 'state');
    await mkdir(join(dir, 'hostkeys'), { recursive: true });
    await mkdir(join(dir, 'logs'));
    const files = [
      'agent-a.qcow2',
      'state.json',
      'known_hosts',
      'hostkeys/agent-a_ed25519',
      'logs/agent-a.provision.log',
    ];
    for (const f of files) await writeFile(join(dir, f), 'x', { mode: 0o644 });
    for (const d of ['', 'hostkeys', 'logs']) await chmod(join(dir, d), 0o755);
    const outside = join(root, 'base.qcow2');
    await writeFile(outside, 'base', { mode: 0o644 });
    await symlink(outside, join(dir, 'base-link'));

    await securePrivateDir(dir);

    for (const d of ['', 'hostkeys', 'logs']) expect(await mode(join(dir, d))).toBe(0o700);
    for (const f of files) expect(await mode(join(dir, f))).toBe(0o600);
    expect(await mode(outside)).toBe(0o644);
  });

  it.runIf(process.getuid?.() === 0)(
    'leaves what another user owns (a disk libvirt handed to QEMU) as it is',
    async () => {
      const dir = join(root, 'state');
      await mkdir(dir);
      const disk = join(dir, 'agent-b.qcow2');
      await writeFile(disk, 'x', { mode: 0o640 });
      await chown(disk, 65534, 65534);
      await securePrivateDir(dir);
      expect(await mode(disk)).toBe(0o640);
      expect(await mode(dir)).toBe(0o700);
    },
  );
});
