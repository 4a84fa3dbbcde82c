import { type Disks, domainMetadataOf, domainOwner, type Hypervisor, type Orphan } from '@agentfleet/core';
import { type AgentFileStore, agentFiles } from './agent-files.js';
import type { FleetRun } from './fleet-run.js';
import { agentDiskOn } from './paths.js';

/**
 * Domains on the fleet's libvirt hosts whose metadata says this fleet (its id) defined them for
 * an agent that agents/ no longer declares (e.g. its YAML was deleted by hand). Other fleets'
 * domains and domains without our metadata are not ours to mention, whatever their names.
 * With `stores`, each orphan also lists the files a purge would delete.
 */
export async function findOrphans(
  run: FleetRun,
  connect: (uri: string) => Promise<Hypervisor>,
  stores?: { disks: Disks; files: AgentFileStore },
): Promise<Orphan[]> {
  const fleetId = run.ledger.fleetId;
  if (fleetId === undefined) return []; // a fleet without an id has defined nothing yet
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
        const xml = await hv.domainXml(d.name, { inactive: true });
        const owner = domainOwner(xml === undefined ? undefined : domainMetadataOf(xml), fleetId);
        if (owner.kind !== 'ours' || declared.has(owner.agent)) continue;
        const orphan: Orphan = { agent: owner.agent, domain: d.name, uri, state: d.state };
        if (stores) {
          // Only the disk fleet itself would have made for this agent, never a path read from the XML.
          const disk = agentDiskOn(run.stateDir, fleetId, uri, owner.agent);
          if ((await stores.disks.inspect(disk, uri)).exists) orphan.disk = disk;
          const files = await Promise.resolve()
            .then(() => stores.files.existing(agentFiles(run.stateDir, owner.agent)))
            .catch(() => []);
          orphan.files = files.filter((f) => f.what !== 'disk');
        }
        found.push(orphan);
      }
      return found;
    }),
  );
  return perUri.flat().sort((a, b) => (a.agent < b.agent ? -1 : a.agent > b.agent ? 1 : 0));
}
