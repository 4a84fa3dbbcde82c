import {
  type BaseIdentity,
  type BaseVolumes,
  type DiskInfo,
  type DiskRequest,
  type Disks,
  isLocalUri,
} from '@agentfleet/core';
import { fleetPool, LocalDisks } from '@agentfleet/engine';
import { type LibvirtHypervisor, VolumeDisks } from '@agentfleet/libvirt';
import type { Connections } from './connections.js';

/**
 * Disks where each agent runs: files in the state dir for this machine's libvirt, volumes of the fleet's storage pool
 * (through libvirt, over its connection) for a remote host.
 */
export class HostDisks implements Disks {
  private readonly local = new LocalDisks();
  private readonly remote = new Map<string, VolumeDisks>();

  constructor(
    private readonly connections: Connections,
    private readonly fleetId: () => string | undefined,
  ) {}

  inspect(path: string, uri?: string): Promise<DiskInfo> {
    const on = this.on(uri);
    return on ? on.inspect(path) : this.local.inspect(path);
  }

  baseIdentity(base: string): Promise<BaseIdentity> {
    return this.local.baseIdentity(base);
  }

  create(req: DiskRequest, onProgress: (done: number, total: number) => void): Promise<void> {
    const on = this.on(req.uri);
    return on ? on.create(req, onProgress) : this.local.create(req, onProgress);
  }

  remove(path: string, uri?: string): Promise<void> {
    const on = this.on(uri);
    return on ? on.remove(path) : this.local.remove(path);
  }

  readonly bases: BaseVolumes = {
    list: async (uri) =>
      (await this.on(uri)?.baseVolumes())?.map((b) => ({ uri, volume: b.volume, users: b.users })) ?? [],
    nameOf: (file) => VolumeDisks.baseVolumeName(file),
    remove: async (uri, volume) => this.on(uri)?.removeBase(volume),
  };

  private on(uri: string | undefined): VolumeDisks | undefined {
    if (uri === undefined || isLocalUri(uri)) return undefined;
    let v = this.remote.get(uri);
    if (!v) {
      const id = this.fleetId();
      if (id === undefined) throw new Error(`the fleet has no id yet, so it has no storage pool on ${uri}`);
      v = new VolumeDisks(
        async () => ((await this.connections.connect(uri)) as LibvirtHypervisor).connection,
        fleetPool(id),
      );
      this.remote.set(uri, v);
    }
    return v;
  }
}
