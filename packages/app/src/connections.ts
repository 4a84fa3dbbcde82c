import type { Hypervisor } from '@agentfleet/core';
import { LibvirtHypervisor } from '@agentfleet/libvirt';

/** Cached libvirt connections, one per URI, closed together at the end of a command. */
export class Connections {
  private readonly open = new Map<string, Promise<Hypervisor>>();

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
    await Promise.all(all.map(async (c) => (await c).close().catch(() => {})));
  }
}
