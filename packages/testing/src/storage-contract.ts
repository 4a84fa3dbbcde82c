// The libvirt binding's storage calls, one suite for libvirt's test driver (no daemon) and the real storage driver
// (libvirtd): what agentfleet relies on (pools it defines, volumes it creates, clones and deletes, never an overwrite).
// Structurally typed so this package needs no dependency on the binding.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

export interface StorageUnderTest {
  poolInfo(pool: string): Promise<{ active: boolean; persistent: boolean; autostart: boolean; xml: string }>;
  definePool(xml: string): Promise<string>;
  buildPool(pool: string): Promise<void>;
  startPool(pool: string): Promise<void>;
  setPoolAutostart(pool: string, on: boolean): Promise<void>;
  stopPool(pool: string): Promise<void>;
  undefinePool(pool: string): Promise<void>;
  listVolumes(pool: string): Promise<string[]>;
  volumeInfo(
    pool: string,
    name: string,
  ): Promise<{ name: string; path: string; capacity: number; xml: string }>;
  createVolume(
    pool: string,
    xml: string,
    cloneFrom?: string,
  ): Promise<{ name: string; path: string; capacity: number; xml: string }>;
  deleteVolume(pool: string, name: string): Promise<void>;
}

export interface StorageContractOptions {
  open(): Promise<{ storage: StorageUnderTest; close(): Promise<void> }>;
  /** A directory the pool may use (made by the pool's build). */
  poolPath: string;
  poolName: string;
}

async function rejection(p: Promise<unknown>): Promise<Error> {
  return p.then(
    () => expect.fail('expected a rejection'),
    (e: unknown) => e as Error,
  );
}

export const volumeXml = (name: string, bytes: number, format = 'raw') =>
  `<volume><name>${name}</name><capacity unit='bytes'>${bytes}</capacity><target><format type='${format}'/></target></volume>`;

export function storageContract(label: string, opts: StorageContractOptions): void {
  describe(label, () => {
    let conn: Awaited<ReturnType<StorageContractOptions['open']>>;
    let s: StorageUnderTest;
    const pool = opts.poolName;

    beforeAll(async () => {
      conn = await opts.open();
      s = conn.storage;
      await s.definePool(
        `<pool type='dir'><name>${pool}</name><target><path>${opts.poolPath}</path></target></pool>`,
      );
      await s.buildPool(pool);
      await s.startPool(pool);
    });
    afterAll(async () => {
      if (!s) return;
      for (const v of await s.listVolumes(pool).catch(() => []))
        await s.deleteVolume(pool, v).catch(() => {});
      await s.stopPool(pool).catch(() => {});
      await s.undefinePool(pool).catch(() => {});
      await conn.close();
    });

    it('defines, starts and autostarts a dir pool, and reports it', async () => {
      await s.setPoolAutostart(pool, true);
      const info = await s.poolInfo(pool);
      expect(info).toMatchObject({ active: true, persistent: true, autostart: true });
      expect(info.xml).toContain(`<path>${opts.poolPath}</path>`);
      const missing = await rejection(s.poolInfo(`${pool}-missing`));
      expect(missing.name).toBe('NoSuchStoragePoolError');
    });

    it('creates volumes, lists and describes them, and deletes them', async () => {
      const v = await s.createVolume(pool, volumeXml('a.img', 1 << 20));
      expect(v).toMatchObject({ name: 'a.img', path: `${opts.poolPath}/a.img`, capacity: 1 << 20 });
      expect(await s.listVolumes(pool)).toContain('a.img');
      expect((await s.volumeInfo(pool, 'a.img')).xml).toContain('<name>a.img</name>');
      await s.deleteVolume(pool, 'a.img');
      expect(await s.listVolumes(pool)).not.toContain('a.img');
      expect((await rejection(s.volumeInfo(pool, 'a.img'))).name).toBe('NoSuchStorageVolError');
      expect((await rejection(s.deleteVolume(pool, 'a.img'))).name).toBe('NoSuchStorageVolError');
    });

    it('never overwrites a volume: a second create of the same name is refused and the first is kept', async () => {
      await s.createVolume(pool, volumeXml('keep.img', 1 << 20));
      const err = await rejection(s.createVolume(pool, volumeXml('keep.img', 2 << 20)));
      expect(err.name).toBe('StorageVolExistsError');
      expect((await s.volumeInfo(pool, 'keep.img')).capacity).toBe(1 << 20);
      // A clone onto an existing name is refused the same way.
      const clone = await rejection(s.createVolume(pool, volumeXml('keep.img', 1 << 20), 'keep.img'));
      expect(clone.name).toBe('StorageVolExistsError');
      await s.deleteVolume(pool, 'keep.img');
    });

    it('clones a volume within the pool (virStorageVolCreateXMLFrom), and names a missing source', async () => {
      await s.createVolume(pool, volumeXml('src.img', 1 << 20));
      const copy = await s.createVolume(pool, volumeXml('copy.img', 1 << 20), 'src.img');
      expect(copy).toMatchObject({ name: 'copy.img', path: `${opts.poolPath}/copy.img` });
      const err = await rejection(s.createVolume(pool, volumeXml('c2.img', 1 << 20), 'nope.img'));
      expect(err.name).toBe('NoSuchStorageVolError');
      await s.deleteVolume(pool, 'copy.img');
      await s.deleteVolume(pool, 'src.img');
    });
  });
}
