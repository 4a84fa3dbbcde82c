// Agent disks as volumes of a fleet's pool on a real libvirtd (the same calls a remote host gets over its
// transport): the base uploaded once per host, overlays backed by it, never an overwrite, deletion.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureLibvirtd } from '@agentfleet/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Connection, open } from './connection.js';
import { VolumeDisks } from './volume-disks.js';

const URI = 'qemu:///system';
const tag = `${process.pid.toString(36)}${Date.now().toString(36)}`;
const dir = mkdtempSync(join(tmpdir(), 'storage-vd-'));
const pool = { name: `st-vd-${tag}`, path: join(dir, 'pool') };
const base = join(dir, 'base.qcow2');
let conn: Connection;
let disks: VolumeDisks;

beforeAll(async () => {
  await ensureLibvirtd(URI);
  execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', base, '32M']);
  execFileSync('qemu-io', ['-c', 'write -P 0x33 0 12M', base], { stdio: 'ignore' });
  conn = await open(URI);
  disks = new VolumeDisks(async () => conn, pool);
});
afterAll(async () => {
  if (conn) {
    for (const v of await conn.storage.listVolumes(pool.name).catch(() => [])) {
      await conn.storage.deleteVolume(pool.name, v).catch(() => {});
    }
    await conn.storage.stopPool(pool.name).catch(() => {});
    await conn.storage.undefinePool(pool.name).catch(() => {});
    await conn.close();
  }
  rmSync(dir, { recursive: true, force: true });
});

const volumes = async () => (await conn.storage.listVolumes(pool.name)).sort();

describe('VolumeDisks on qemu:///system', () => {
  it('defines the fleet pool, uploads the base once with progress, and makes a qcow2 overlay on it', async () => {
    const seen: [number, number][] = [];
    const a = join(pool.path, 'agent-a.qcow2');
    expect(await disks.inspect(a)).toEqual({ exists: false });
    await disks.create({ path: a, base, mode: 'overlay' }, (done, total) => seen.push([done, total]));
    const size = statSync(base).size;
    expect(seen.at(-1)).toEqual([size, size]);
    const info = await conn.storage.poolInfo(pool.name);
    expect(info).toMatchObject({ active: true, persistent: true, autostart: true });
    const names = await volumes();
    const baseVol = names.find((n) => /^base-[0-9a-f]{64}\.qcow2$/.test(n));
    expect(names).toEqual(['agent-a.qcow2', baseVol, `${baseVol}.complete`]);
    expect(await disks.inspect(a)).toEqual({ exists: true, format: 'qcow2' });
    // Nobody but the daemon's user lists the pool or reads a disk (QEMU may pass through to its own).
    expect(statSync(pool.path).mode & 0o777).toBe(0o711);
    for (const v of names) expect(statSync(join(pool.path, v as string)).mode & 0o777, v).toBe(0o600);
    const img = JSON.parse(execFileSync('qemu-img', ['info', '--output=json', a], { encoding: 'utf8' }));
    expect(img).toMatchObject({
      'backing-filename': join(pool.path, baseVol as string),
      'virtual-size': 32 << 20,
    });
    const read = execFileSync('qemu-io', ['-r', '-c', 'read -P 0x33 0 12M', a], { encoding: 'utf8' });
    expect(read).not.toMatch(/verification failed/);
  });

  it('a second agent on the host reuses the uploaded base (no transfer); a full copy is a clone', async () => {
    const seen: number[] = [];
    await disks.create({ path: join(pool.path, 'agent-b.qcow2'), base, mode: 'overlay' }, (d) =>
      seen.push(d),
    );
    // A fresh adapter (the next `fleet up`) finds the marked base on the host as well.
    const again = new VolumeDisks(async () => conn, pool);
    await again.create({ path: join(pool.path, 'agent-c.qcow2'), base, mode: 'copy' }, (d) => seen.push(d));
    expect(seen).toEqual([]);
    const c = JSON.parse(
      execFileSync('qemu-img', ['info', '--output=json', join(pool.path, 'agent-c.qcow2')], {
        encoding: 'utf8',
      }),
    );
    expect(c['backing-filename']).toBeUndefined();
    expect(c['virtual-size']).toBe(32 << 20);
  });

  it('never overwrites a disk: creating an existing one is refused and it is left as it was', async () => {
    const a = join(pool.path, 'agent-a.qcow2');
    const before = statSync(a);
    await expect(disks.create({ path: a, base, mode: 'overlay' }, () => {})).rejects.toThrow(
      `refusing to overwrite existing disk ${a}`,
    );
    expect(statSync(a).mtimeMs).toBe(before.mtimeMs);
  });

  it('replaces a base left without its completion marker (a killed upload) before any overlay uses it', async () => {
    const names = await volumes();
    const baseVol = names.find((n) => n.endsWith('.complete'))?.replace(/\.complete$/, '') as string;
    for (const n of names) await conn.storage.deleteVolume(pool.name, n);
    // What a killed upload leaves: the volume, part of the data, no marker.
    await conn.storage.createVolume(
      pool.name,
      `<volume><name>${baseVol}</name><capacity unit='bytes'>4096</capacity><target><format type='raw'/></target></volume>`,
    );
    const seen: number[] = [];
    const fresh = new VolumeDisks(async () => conn, pool);
    await fresh.create({ path: join(pool.path, 'agent-d.qcow2'), base, mode: 'overlay' }, (d) =>
      seen.push(d),
    );
    expect(seen.at(-1)).toBe(statSync(base).size);
    expect(statSync(join(pool.path, baseVol)).size).toBe(statSync(base).size);
  });

  it('removes a disk with virStorageVolDelete, and removing a missing one is no error', async () => {
    const d = join(pool.path, 'agent-d.qcow2');
    await disks.remove(d);
    expect(existsSync(d)).toBe(false);
    await disks.remove(d);
    expect(await volumes()).not.toContain('agent-d.qcow2');
  });

  it('lists each base with the overlays it backs; removes one only once no overlay does (marker first)', async () => {
    const e = join(pool.path, 'agent-e.qcow2');
    await disks.create({ path: e, base, mode: 'overlay' }, () => {});
    const copy = join(pool.path, 'agent-f.qcow2');
    await disks.create({ path: copy, base, mode: 'copy' }, () => {});
    const name = await VolumeDisks.baseVolumeName(base);
    // A clone is no user of the base: only the overlay is.
    expect(await disks.baseVolumes()).toEqual([{ volume: name, users: [e] }]);
    await expect(disks.removeBase(name)).rejects.toThrow(
      `base volume ${name} still backs ${e}: not removing it`,
    );
    expect(await volumes()).toContain(name);
    await disks.remove(e);
    await disks.removeBase(name);
    expect(await volumes()).toEqual(['agent-f.qcow2']);
    expect(await disks.baseVolumes()).toEqual([]);
    // The next disk uploads it again (the adapter forgot it had it).
    const seen: number[] = [];
    await disks.create({ path: e, base, mode: 'overlay' }, (d) => seen.push(d));
    expect(seen.at(-1)).toBe(statSync(base).size);
    for (const p of [e, copy]) await disks.remove(p);
    await expect(disks.removeBase('agent-x.qcow2')).rejects.toThrow('agent-x.qcow2 is not a base volume');
    // No pool at all: no bases.
    expect(
      await new VolumeDisks(async () => conn, { name: `${pool.name}-none`, path: dir }).baseVolumes(),
    ).toEqual([]);
  });

  it('refuses a path outside the pool, and a pool of that name elsewhere', async () => {
    await expect(disks.inspect('/elsewhere/agent-a.qcow2')).rejects.toThrow(
      /is not in the fleet's storage pool/,
    );
    const moved = new VolumeDisks(async () => conn, { name: pool.name, path: join(dir, 'other') });
    await expect(
      moved.create({ path: join(dir, 'other', 'x.qcow2'), base, mode: 'overlay' }, () => {}),
    ).rejects.toThrow(/is not at .*other: undefine it/);
  });
});
