// Typed wrapper of libvirt's storage pools and volumes on one connection, addressed by name (the
// addon looks the objects up per call and frees them before it returns: no handles to track).
import { withCallerStack } from './errors.js';
import type { NativeConnection, NativePoolInfo, NativeVolInfo } from './native.js';

export type PoolInfo = NativePoolInfo;
export type VolumeInfo = NativeVolInfo;

export interface UploadOptions {
  /** Bytes sent so far: every few MiB and once at the end, on the main thread. */
  onProgress?: (sent: number) => void;
}

export class Storage {
  /** @internal Connection.storage. */
  constructor(private readonly native: NativeConnection) {}

  /** virStoragePoolGetInfo + flags + XML; rejects with NoSuchStoragePoolError. */
  poolInfo(pool: string): Promise<PoolInfo> {
    return withCallerStack(() => this.native.storagePoolInfo(pool));
  }

  /** virStoragePoolDefineXML: a persistent (inactive) pool; resolves with its name. */
  definePool(xml: string): Promise<string> {
    return withCallerStack(() => this.native.storagePoolDefine(xml, 0));
  }

  /** virStoragePoolBuild: makes the pool's target (a directory for `dir` pools). */
  buildPool(pool: string): Promise<void> {
    return withCallerStack(() => this.native.storagePoolBuild(pool, 0));
  }

  /** virStoragePoolCreate: starts (activates) a defined pool. */
  startPool(pool: string): Promise<void> {
    return withCallerStack(() => this.native.storagePoolCreate(pool, 0));
  }

  /** virStoragePoolRefresh: rescans the pool's volumes. */
  refreshPool(pool: string): Promise<void> {
    return withCallerStack(() => this.native.storagePoolRefresh(pool, 0));
  }

  /** virStoragePoolSetAutostart: the daemon starts the pool when it starts. */
  setPoolAutostart(pool: string, on: boolean): Promise<void> {
    return withCallerStack(() => this.native.storagePoolSetAutostart(pool, on ? 1 : 0));
  }

  /** virStoragePoolDestroy: stops the pool (its volumes stay). */
  stopPool(pool: string): Promise<void> {
    return withCallerStack(() => this.native.storagePoolDestroy(pool));
  }

  /** virStoragePoolUndefine. */
  undefinePool(pool: string): Promise<void> {
    return withCallerStack(() => this.native.storagePoolUndefine(pool));
  }

  /** virStoragePoolListAllVolumes: names of the pool's volumes. */
  listVolumes(pool: string): Promise<string[]> {
    return withCallerStack(() => this.native.storageVolList(pool));
  }

  /** Path, key, sizes and XML of a volume; rejects with NoSuchStorageVolError. */
  volumeInfo(pool: string, name: string): Promise<VolumeInfo> {
    return withCallerStack(() => this.native.storageVolInfo(pool, name));
  }

  /**
   * virStorageVolCreateXML, or virStorageVolCreateXMLFrom when `cloneFrom` names a volume of the
   * same pool (the copy runs on the pool's host). A name already in the pool rejects with
   * StorageVolExistsError: libvirt never overwrites a volume.
   */
  createVolume(pool: string, xml: string, cloneFrom?: string): Promise<VolumeInfo> {
    return withCallerStack(() => this.native.storageVolCreate(pool, xml, cloneFrom ?? null, 0));
  }

  /** virStorageVolDelete. */
  deleteVolume(pool: string, name: string): Promise<void> {
    return withCallerStack(() => this.native.storageVolDelete(pool, name, 0));
  }

  /**
   * virStorageVolUpload from offset 0: streams the first `length` bytes of the local `file` into
   * the volume through a virStream (over the connection's transport, so to a remote host too).
   * Resolves with the bytes sent.
   */
  upload(
    pool: string,
    name: string,
    file: string,
    length: number,
    opts: UploadOptions = {},
  ): Promise<number> {
    return withCallerStack(() =>
      this.native.storageVolUpload(pool, name, file, length, opts.onProgress ?? null),
    );
  }
}
