// The binding's storage calls on the real storage driver (libvirtd): the shared contract, plus uploads through a
// virStream (virStorageVolUpload) with progress, and a qcow2 overlay volume with a backing store on the upload.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureLibvirtd } from '@agentfleet/testing';
import { storageContract, volumeXml } from '@agentfleet/testing/storage-contract';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Connection, open } from './connection.js';
import { LibvirtError } from './errors.js';

const URI = 'qemu:///system';
const tag = `${process.pid.toString(36)}${Date.now().toString(36)}`;
const dir = mkdtempSync(join(tmpdir(), 'storage-it-'));

beforeAll(() => ensureLibvirtd(URI));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

storageContract('storage on qemu:///system', {
  open: () => open(URI),
  poolName: `st-contract-${tag}`,
  poolPath: join(dir, 'contract'),
});

describe('uploads on qemu:///system', () => {
  let conn: Connection;
  const pool = `st-upload-${tag}`;
  const poolPath = join(dir, 'upload');
  const src = join(dir, 'src.qcow2');
  let size = 0;

  beforeAll(async () => {
    // A real qcow2 with data in it, a little over a few progress steps (8 MiB each) and not a multiple of the chunk.
    execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', src, '64M']);
    execFileSync('qemu-io', ['-c', 'write -P 0x5a 1M 20M', src], { stdio: 'ignore' });
    size = statSync(src).size;
    conn = await open(URI);
    await conn.storage.definePool(
      `<pool type='dir'><name>${pool}</name><target><path>${poolPath}</path></target></pool>`,
    );
    await conn.storage.buildPool(pool);
    await conn.storage.startPool(pool);
  });
  afterAll(async () => {
    if (!conn) return;
    for (const v of await conn.storage.listVolumes(pool).catch(() => [])) {
      await conn.storage.deleteVolume(pool, v).catch(() => {});
    }
    await conn.storage.stopPool(pool).catch(() => {});
    await conn.storage.undefinePool(pool).catch(() => {});
    await conn.close();
  });

  it('streams a file into a volume byte for byte, reporting progress in bytes', async () => {
    await conn.storage.createVolume(pool, volumeXml('base.qcow2', size));
    const seen: number[] = [];
    const sent = await conn.storage.upload(pool, 'base.qcow2', src, size, {
      onProgress: (n) => seen.push(n),
    });
    expect(sent).toBe(size);
    expect(seen.at(-1)).toBe(size);
    expect(seen.length).toBeGreaterThan(1);
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
    const digest = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');
    expect(digest(join(poolPath, 'base.qcow2'))).toBe(digest(src));
    // After a refresh the storage driver reads the uploaded header: a qcow2 of the image's virtual size.
    await conn.storage.refreshPool(pool);
    const info = await conn.storage.volumeInfo(pool, 'base.qcow2');
    expect(info.capacity).toBe(64 << 20);
    expect(info.xml).toContain("<format type='qcow2'/>");
  });

  it('creates a qcow2 overlay volume backed by the upload, which qemu-img reads through', async () => {
    const base = await conn.storage.volumeInfo(pool, 'base.qcow2');
    const overlay = await conn.storage.createVolume(
      pool,
      `<volume><name>agent.qcow2</name><capacity unit='bytes'>${base.capacity}</capacity>` +
        "<target><format type='qcow2'/></target>" +
        `<backingStore><path>${base.path}</path><format type='qcow2'/></backingStore></volume>`,
    );
    expect(overlay.xml).toContain(`<backingStore>\n    <path>${base.path}</path>`);
    const img = JSON.parse(
      execFileSync('qemu-img', ['info', '--output=json', overlay.path], { encoding: 'utf8' }),
    );
    expect(img).toMatchObject({ format: 'qcow2', 'backing-filename': base.path, 'virtual-size': 64 << 20 });
    // The data written into the source reads back through the overlay.
    const read = execFileSync('qemu-io', ['-r', '-c', 'read -P 0x5a 1M 20M', overlay.path], {
      encoding: 'utf8',
    });
    expect(read).not.toMatch(/Pattern verification failed/);
  });

  it('rejects an upload whose source is missing or shorter than the length, naming the cause', async () => {
    await conn.storage.createVolume(pool, volumeXml('short.img', size + 4096));
    const missing = await conn.storage
      .upload(pool, 'short.img', join(dir, 'nope'), 10)
      .catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(LibvirtError);
    expect((missing as Error).message).toMatch(/cannot open .*nope/);
    const short = join(dir, 'short');
    writeFileSync(short, 'abc');
    const err = await conn.storage.upload(pool, 'short.img', short, 4096).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/ended before the length/);
    // The connection is still usable after an aborted stream.
    expect(await conn.storage.listVolumes(pool)).toContain('short.img');
  });
});
