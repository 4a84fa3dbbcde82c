import type { Hypervisor } from '@agentfleet/core';
import { LibvirtHypervisor } from '@agentfleet/libvirt';
import { HostAccess } from './host-access.js';

/** Cached libvirt connections, one per URI, closed together at the end of a command. */
export class Connections {
  private readonly open = new Map<string, Promise<Hypervisor>>();
  /** SSH to remote libvirt hosts, for what libvirt does not carry (their listeners and loopback). */
  readonly hosts = new HostAccess();

  connect = (uri: string): Promise<Hypervisor> => {
    let c = this.open.get(uri);
    if (!c) {
      c = LibvirtHypervisor.connect(uri);
      this.open.set(uri, c);
    }
    return c;
  };

  async closeAll(): Promise<void> {
    const all = [...this.open.values()];
    this.open.clear();
    await this.hosts.closeAll();
    await Promise.all(all.map(async (c) => (await c).close().catch(() => {})));
  }
}
