// Agent disks on a libvirt host through its storage driver (nothing assumes the host is this machine): a dir pool
// per fleet, the base image uploaded once per host as a volume named by its SHA-256, per-agent qcow2 overlays (or
// clones) of it, deleted with virStorageVolDelete.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open as openFile, stat } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import type { DiskInfo, DiskRequest } from '@agentfleet/core';
import type { Connection } from './connection.js';
import { NoSuchStoragePoolError, NoSuchStorageVolError, StorageVolExistsError } from './errors.js';
import type { VolumeInfo } from './storage.js';

/** The dir pool a fleet keeps its volumes in on one host. */
export interface FleetPool {
  name: string;
  /** Its directory on that host: agents' disk paths (in their domain XML) are `<path>/<volume>`. */
  path: string;
}

/** A base image's volume: `base-<sha256 of the image>.qcow2`. */
const BASE_VOLUME = /^base-[0-9a-f]{64}\.qcow2$/;

/** The pool's volumes are the agents' disks and the base image: private to the daemon's user. */
const PRIVATE = '<permissions><mode>0600</mode></permissions>';

export class VolumeDisks {
  private poolReady: Promise<void> | undefined;
  private readonly bases = new Map<string, Promise<VolumeInfo>>();

  constructor(
    private readonly connection: () => Promise<Connection>,
    readonly pool: FleetPool,
  ) {}

  /**
   * Whether the volume behind `path` exists. A remote overlay's backing store is the host's own copy of the base,
   * named by its content and never changed, so no local backing path is reported: a changed local base image does
   * not touch disks already made from the old one (it is uploaded as another volume).
   */
  async inspect(path: string): Promise<DiskInfo> {
    const name = this.volumeOf(path);
    try {
      const info = await (await this.connection()).storage.volumeInfo(this.pool.name, name);
      return { exists: true, format: /<format type='qcow2'\/>/.test(info.xml) ? 'qcow2' : 'raw' };
    } catch (err) {
      if (err instanceof NoSuchStorageVolError || err instanceof NoSuchStoragePoolError)
        return { exists: false };
      throw err;
    }
  }

  /** Uploads the base if this host lacks it, then makes the agent's volume; an existing volume is never replaced. */
  async create(req: DiskRequest, onProgress: (done: number, total: number) => void): Promise<void> {
    const name = this.volumeOf(req.path);
    await this.ensurePool();
    const base = await this.ensureBase(req.base, onProgress);
    const conn = await this.connection();
    const virtualSize = await qcow2VirtualSize(req.base);
    const target = `<target><format type='qcow2'/>${PRIVATE}</target>`;
    const xml =
      req.mode === 'overlay'
        ? `<volume><name>${name}</name><capacity unit='bytes'>${virtualSize}</capacity>${target}` +
          `<backingStore><path>${base.path}</path><format type='qcow2'/></backingStore></volume>`
        : `<volume><name>${name}</name><capacity unit='bytes'>${virtualSize}</capacity>${target}</volume>`;
    try {
      await conn.storage.createVolume(this.pool.name, xml, req.mode === 'overlay' ? undefined : base.name);
    } catch (err) {
      if (err instanceof StorageVolExistsError)
        throw new Error(`refusing to overwrite existing disk ${req.path}`);
      throw err;
    }
  }

  async remove(path: string): Promise<void> {
    try {
      await (await this.connection()).storage.deleteVolume(this.pool.name, this.volumeOf(path));
    } catch (err) {
      if (err instanceof NoSuchStorageVolError || err instanceof NoSuchStoragePoolError) return;
      throw err;
    }
  }

  /**
   * The base volumes in the pool (a leftover of a killed upload included), each with the disk volumes whose backing
   * store it is (their paths); none when the pool does not exist.
   */
  async baseVolumes(): Promise<{ volume: string; users: string[] }[]> {
    const storage = (await this.connection()).storage;
    let names: string[];
    try {
      names = await storage.listVolumes(this.pool.name);
    } catch (err) {
      if (err instanceof NoSuchStoragePoolError) return [];
      throw err;
    }
    const bases = new Map(names.filter((n) => BASE_VOLUME.test(n)).map((n) => [n, [] as string[]]));
    for (const n of names) {
      if (bases.has(n) || n.endsWith('.complete')) continue;
      const xml = (await storage.volumeInfo(this.pool.name, n)).xml;
      const backing = /<backingStore>\s*<path>([^<]+)<\/path>/.exec(xml)?.[1];
      const base =
        backing !== undefined && dirname(backing) === this.pool.path ? basename(backing) : undefined;
      if (base !== undefined) bases.get(base)?.push(`${this.pool.path}/${n}`);
    }
    return [...bases].map(([volume, users]) => ({ volume, users }));
  }

  /** The volume name of the base image `file` on every host: its SHA-256. */
  static async baseVolumeName(file: string): Promise<string> {
    return `base-${await sha256File(file)}.qcow2`;
  }

  /** Deletes a base volume and its marker (marker first: a base left without it is a leftover the next run redoes). */
  async removeBase(volume: string): Promise<void> {
    if (!BASE_VOLUME.test(volume)) throw new Error(`${volume} is not a base volume`);
    const users = (await this.baseVolumes()).find((b) => b.volume === volume)?.users ?? [];
    if (users.length > 0)
      throw new Error(`base volume ${volume} still backs ${users.join(', ')}: not removing it`);
    const storage = (await this.connection()).storage;
    for (const v of [`${volume}.complete`, volume]) {
      try {
        await storage.deleteVolume(this.pool.name, v);
      } catch (err) {
        if (!(err instanceof NoSuchStorageVolError || err instanceof NoSuchStoragePoolError)) throw err;
      }
    }
    this.bases.clear();
  }

  /** Volume names are the disk's file name; a path outside the fleet's pool is no disk of ours on this host. */
  private volumeOf(path: string): string {
    if (dirname(path) !== this.pool.path) {
      throw new Error(
        `disk ${path} is not in the fleet's storage pool ${this.pool.name} (${this.pool.path})`,
      );
    }
    return basename(path);
  }

  /** Defines, builds and starts the fleet's dir pool (autostarted with the daemon) unless it is there. */
  private ensurePool(): Promise<void> {
    this.poolReady ??= (async () => {
      const storage = (await this.connection()).storage;
      const info = await storage.poolInfo(this.pool.name).catch((err: unknown) => {
        if (err instanceof NoSuchStoragePoolError) return undefined;
        throw err;
      });
      if (info === undefined) {
        // 0711 like libvirt's own images directory: QEMU (often its own user) must pass through to the volumes,
        // which are 0600 and handed to it by libvirt's DAC labelling at start; nobody may list them.
        await storage.definePool(
          `<pool type='dir'><name>${this.pool.name}</name><target><path>${this.pool.path}</path>` +
            '<permissions><mode>0711</mode></permissions></target></pool>',
        );
        await storage.buildPool(this.pool.name);
        await storage.setPoolAutostart(this.pool.name, true);
      } else if (!info.xml.includes(`<path>${this.pool.path}</path>`)) {
        throw new Error(
          `storage pool ${this.pool.name} on ${(await this.connection()).uri} is not at ${this.pool.path}: ` +
            `undefine it (virsh pool-undefine ${this.pool.name}) so fleet can define its own`,
        );
      }
      if (!info?.active) await storage.startPool(this.pool.name);
    })();
    this.poolReady.catch(() => {
      this.poolReady = undefined;
    });
    return this.poolReady;
  }

  /**
   * The host's copy of the base image, uploaded once per host: a volume named by the image's SHA-256, complete only
   * once a marker volume says so (libvirt cannot rename a volume, so a killed upload leaves a volume without its
   * marker, which the next run deletes and uploads again). Agents on one host in parallel share one upload.
   */
  private ensureBase(file: string, onProgress: (done: number, total: number) => void): Promise<VolumeInfo> {
    let p = this.bases.get(file);
    if (!p) {
      p = sha256File(file).then((hash) => this.uploadBase(`base-${hash}.qcow2`, file, onProgress));
      this.bases.set(file, p);
      p.catch(() => this.bases.delete(file));
    }
    return p;
  }

  private async uploadBase(
    name: string,
    file: string,
    onProgress: (done: number, total: number) => void,
  ): Promise<VolumeInfo> {
    const storage = (await this.connection()).storage;
    const marker = `${name}.complete`;
    const have = new Set(await storage.listVolumes(this.pool.name));
    if (have.has(name) && have.has(marker)) return storage.volumeInfo(this.pool.name, name);
    // Our own leftovers of a killed upload: no overlay can use a base without its marker (overlays follow it).
    for (const v of [marker, name]) if (have.has(v)) await storage.deleteVolume(this.pool.name, v);
    const { size } = await stat(file);
    await storage.createVolume(
      this.pool.name,
      `<volume><name>${name}</name><capacity unit='bytes'>${size}</capacity><target><format type='raw'/>${PRIVATE}</target></volume>`,
    );
    await storage.upload(this.pool.name, name, file, size, { onProgress: (sent) => onProgress(sent, size) });
    await storage.createVolume(
      this.pool.name,
      `<volume><name>${marker}</name><capacity unit='bytes'>0</capacity><target><format type='raw'/>${PRIVATE}</target></volume>`,
    );
    return storage.volumeInfo(this.pool.name, name);
  }
}

async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** The guest-visible size in a qcow2 header (QEMU docs/interop/qcow2.txt: bytes 24..31); a raw image's own size. */
async function qcow2VirtualSize(path: string): Promise<number> {
  const fh = await openFile(path, 'r');
  try {
    const hdr = Buffer.alloc(32);
    const { bytesRead } = await fh.read(hdr, 0, 32, 0);
    if (bytesRead === 32 && hdr.readUInt32BE(0) === 0x514649fb) return Number(hdr.readBigUInt64BE(24));
    return (await fh.stat()).size;
  } finally {
    await fh.close();
  }
}
