import { availableParallelism } from 'node:os';
import type { HostSnapshot, Hypervisor } from '@agentfleet/core';
import { resourcesOfDomainXml } from '@agentfleet/core/domain-resources';
import { domainMetadataOf } from '@agentfleet/core/domain-xml';
import { domainOwner } from '@agentfleet/core/ownership';
// Type only: `validate` imports isLocalUri from here and must not load the engine.
import type { TcpListener } from '@agentfleet/engine';

/** True for URIs naming this machine (no remote host part): only those can be probed from here. */
export function isLocalUri(uri: string): boolean {
  return !/^[a-z0-9]+(\+[a-z0-9]+)?:\/\/[^/]/.test(uri);
}

/**
 * This machine for `uri`: its CPUs, the ports its listeners hold (read by the engine's
 * /proc/net/tcp parser, any address) and every libvirt domain on `uri` with the ports and cores
 * its XML holds, so allocation never hands out what another domain (ours or not) already uses.
 */
export async function hostSnapshotWithDomains(
  uri: string,
  hv: Hypervisor,
  listeners: readonly TcpListener[],
  fleetId: string,
  /** Listening ports known to be an agent's own (its passt's SSH forward): port -> `agent-<name>`. */
  owners: ReadonlyMap<number, string> = new Map(),
): Promise<HostSnapshot> {
  const ports = [...new Set(listeners.map((l) => l.port))].sort((a, b) => a - b);
  const snapshot: HostSnapshot = {
    uri,
    cpus: availableParallelism(),
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
