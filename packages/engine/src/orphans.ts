import {
  agentNameOfDomain,
  domainMetadataOf,
  type Hypervisor,
  isActive,
  type Orphan,
} from '@agentfleet/core';
import type { FleetRun } from './fleet-run.js';

/**
 * Domains `agent-<x>` on the fleet's libvirt hosts whose metadata says we defined them for agent
 * x, while agents/ no longer declares x (e.g. its YAML was deleted by hand). Foreign domains,
 * even ones named agent-*, are not ours to mention.
 */
export async function findOrphans(
  run: FleetRun,
  connect: (uri: string) => Promise<Hypervisor>,
): Promise<Orphan[]> {
  const declared = new Set(run.fleet.agents.map((a) => a.name));
  // The hosts the fleet uses (the default one only when no agent is left): an unused default URI
  // may not even be reachable.
  const used = run.fleet.agents.map((a) => a.libvirtUri);
  const uris = [...new Set(used.length > 0 ? used : [run.fleet.config.libvirtUri])];
  const perUri = await Promise.all(
    uris.map(async (uri) => {
      const hv = await connect(uri);
      const found: Orphan[] = [];
      for (const d of await hv.listDomains()) {
        const agent = agentNameOfDomain(d.name);
        if (agent === undefined || declared.has(agent)) continue;
        const xml = await hv.domainXml(d.name, { inactive: true });
        if (xml !== undefined && domainMetadataOf(xml)?.agent === agent) {
          found.push({ agent, domain: d.name, uri, state: d.state });
        }
      }
      return found;
    }),
  );
  return perUri.flat().sort((a, b) => (a.agent < b.agent ? -1 : a.agent > b.agent ? 1 : 0));
}

/** Powers an orphan off and undefines it; what its disk held is the caller's (purge's) to drop. */
export async function undefineOrphan(o: Orphan, hv: Hypervisor): Promise<void> {
  if (isActive(o.state)) await hv.destroy(o.domain);
  await hv.undefine(o.domain);
}
