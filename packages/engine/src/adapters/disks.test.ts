import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LocalDisks } from './disks.js';

const dir = mkdtempSync(join(tmpdir(), 'fleet-disks-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A 64 MiB sparse file with two small data regions. */
async function sparseBase(name: string): Promise<string> {
  const path = join(dir, name);
  const fh = await open(path, 'w');
  await fh.write(Buffer.alloc(4096, 7), 0, 4096, 0);
  await fh.write(Buffer.from('middle'), 0, 6, 40 * 1024 * 1024);
  await fh.truncate(64 * 1024 * 1024);
  await fh.close();
  return path;
}

describe('LocalDisks', () => {
  const disks = new LocalDisks();

  it('copies sparsely: same bytes, holes stay holes, progress reaches the total', async () => {
    const base = await sparseBase('base.raw');
    const target = join(dir, 'copy.img');
    let last = [0, 0];
    await disks.create({ path: target, base, mode: 'copy' }, (done, total) => {
      last = [done, total];
    });
    expect(readFileSync(target).equals(readFileSync(base))).toBe(true);
    expect(last).toEqual([64 * 1024 * 1024, 64 * 1024 * 1024]);
    expect(statSync(target).blocks * 512).toBeLessThan(16 * 1024 * 1024);
  });

  it('never overwrites an existing disk, and leaves no temp file behind', async () => {
    const base = await sparseBase('base2.raw');
    const target = join(dir, 'taken.img');
    writeFileSync(target, 'precious');
    await expect(disks.create({ path: target, base, mode: 'copy' }, () => {})).rejects.toThrow(
      /refusing to overwrite existing disk/,
    );
    expect(readFileSync(target, 'utf8')).toBe('precious');
    expect(() => statSync(join(dir, '.taken.img.partial'))).toThrow();
  });

  it('discards the half-written temp of a killed run and builds the disk again', async () => {
    const base = await sparseBase('base3.raw');
    const target = join(dir, 'resumed.img');
    writeFileSync(join(dir, '.resumed.img.partial'), 'torn');
    await disks.create({ path: target, base, mode: 'copy' }, () => {});
    expect(readFileSync(target).equals(readFileSync(base))).toBe(true);
  });

  it('creates a qcow2 overlay whose header names the base; inspect reads it back', async () => {
    const base = join(dir, 'base.qcow2');
    execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', base, '64M']);
    const target = join(dir, 'overlay.qcow2');
    await disks.create({ path: target, base, mode: 'overlay' }, () => {});
    expect(await disks.inspect(target)).toEqual({ exists: true, format: 'qcow2', backingFile: base });
    const info = JSON.parse(
      execFileSync('qemu-img', ['info', '--output=json', '-U', target], { encoding: 'utf8' }),
    );
    expect(info['backing-filename']).toBe(base);
    expect(await disks.inspect(base)).toEqual({ exists: true, format: 'qcow2' });
    expect(await disks.inspect(join(dir, 'absent.qcow2'))).toEqual({ exists: false });
  });

  it('refuses a base image or disk that is a directory or a FIFO, naming it, without opening (a FIFO would block)', async () => {
    const fifo = join(dir, 'base.fifo');
    execFileSync('mkfifo', [fifo]);
    await expect(disks.baseIdentity(fifo)).rejects.toThrow(
      `base image ${fifo} is a FIFO, not a regular file`,
    );
    await expect(disks.inspect(fifo)).rejects.toThrow(`agent disk ${fifo} is a FIFO`);
    await expect(disks.baseIdentity(dir)).rejects.toThrow(`base image ${dir} is a directory`);
    await expect(disks.baseIdentity(join(dir, 'missing.qcow2'))).rejects.toThrow(
      `base image ${join(dir, 'missing.qcow2')} does not exist`,
    );
  });

  it('identifies a base by size and content head, so a rebuilt base is told apart', async () => {
    const a = await sparseBase('ida.raw');
    const first = await disks.baseIdentity(a);
    expect(first).toMatchObject({ path: a, size: 64 * 1024 * 1024 });
    writeFileSync(a, 'rebuilt');
    const second = await disks.baseIdentity(a);
    expect(second.headSha256).not.toBe(first.headSha256);
  });
});
