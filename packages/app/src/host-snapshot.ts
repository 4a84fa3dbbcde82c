import type { HostSnapshot, Hypervisor } from '@agentfleet/core';
import { resourcesOfDomainXml } from '@agentfleet/core/domain-resources';
import { domainMetadataOf } from '@agentfleet/core/domain-xml';
import { domainOwner } from '@agentfleet/core/ownership';
// Type only: `validate` imports isLocalUri from here and must not load the engine.
import type { TcpListener } from '@agentfleet/engine';

export { isLocalUri } from '@agentfleet/core/ssh/host-ssh';

/**
 * The host of `uri`: its CPUs and memory (libvirt's node info), the ports its listeners hold (any address: this
 * machine's /proc for a local URI, `ss` over the host's SSH for a remote one) and every libvirt domain on `uri`
 * with the ports, cores and memory its XML holds, so allocation never hands out what another domain (ours or not)
 * already uses.
 */
export async function hostSnapshotWithDomains(
  uri: string,
  hv: Hypervisor,
  listeners: readonly Pick<TcpListener, 'port'>[],
  fleetId: string,
  /** Listening ports known to be an agent's own (its passt's SSH forward): port -> `agent-<name>`. */
  owners: ReadonlyMap<number, string> = new Map(),
): Promise<HostSnapshot> {
  const ports = [...new Set(listeners.map((l) => l.port))].sort((a, b) => a - b);
  const node = await hv.node();
  const snapshot: HostSnapshot = {
    uri,
    cpus: node.cpus,
    memoryMiB: node.memoryMiB,
    listeningPorts: ports.map((port) => {
      const owner = owners.get(port);
      return owner === undefined ? { port } : { port, owner };
    }),
    domains: [],
  };
  for (const d of await hv.listDomains()) {
    const xml = await hv.domainXml(d.name, { inactive: true });
    if (!xml) continue;
    const owner = domainOwner(domainMetadataOf(xml), fleetId);
    snapshot.domains.push({
      name: d.name,
      ...(owner.kind === 'ours' && { agent: owner.agent }),
      ...resourcesOfDomainXml(xml),
    });
  }
  return snapshot;
}

/**
 * The snapshots again, with each listener that holds a port for nobody known named by its process
 * (pid, command line): what a port conflict then says. Asked only once allocation failed, as
 * finding a socket's process reads every process's descriptors.
 */
export async function withListenerHolders(
  hosts: readonly HostSnapshot[],
  listeners: readonly TcpListener[],
): Promise<HostSnapshot[]> {
  const { listenerHolders } = await import('@agentfleet/engine/adapters/listeners');
  const processes = await listenerHolders(listeners);
  return hosts.map((h) => ({
    ...h,
    listeningPorts: h.listeningPorts.map((l) => {
      const owner = l.owner ?? processes.get(l.port);
      return owner === undefined ? l : { ...l, owner };
    }),
  }));
}
