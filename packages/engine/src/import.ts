import {
  type AdoptedField,
  adoptAllocation,
  allocationOf,
  describeOwner,
  diffResources,
  domainMetadataOf,
  domainOwner,
  domainProjection,
  type FieldChange,
  type Ledger,
  resourcesOfDomainXml,
} from '@agentfleet/core';
import { desiredAgents } from './desired.js';
import type { EngineDeps } from './engine.js';
import { agentDomain, type FleetRun, fleetIdentity, selectedAgents } from './fleet-run.js';
import { agentDisk } from './paths.js';
import { StateBook } from './state-book.js';

export class ImportError extends Error {
  override name = 'ImportError';
}

export interface ImportResult {
  agent: string;
  domain: string;
  uri: string;
  /** The domain already carried this fleet's metadata: nothing to do. */
  alreadyOurs: boolean;
  running: boolean;
  /** Each recorded field: kept from the domain, or replaced and why. */
  fields: AdoptedField[];
  /** How the domain's definition changes when fleet redefines it (memory, pins, ports...). */
  changes: FieldChange[];
  /** The ledger with the adopted allocation (the caller writes it). */
  ledger: Ledger;
  applied: boolean;
}

/**
 * `fleet import <agent>`: adopts the existing domain named like the agent, which no fleet owns
 * (made by hand or by a fleet from before fleets had ids). Its ports, cores, MAC and disk are
 * recorded when they fit the fleet's rules; `writeLedger` records them, then the domain is
 * redefined from the agent's spec, carrying this fleet's metadata. A dry run only reports.
 */
export async function importAgent(
  run: FleetRun,
  deps: Pick<EngineDeps, 'connect' | 'disks' | 'state' | 'log' | 'hostKeys'>,
  name: string,
  opts: { dryRun: boolean; writeLedger: (ledger: Ledger) => Promise<void> | void },
): Promise<ImportResult> {
  const [agent] = selectedAgents({ ...run, names: [name] });
  if (!agent) throw new ImportError(`no agent named '${name}'`);
  const uri = agent.libvirtUri;
  const domain = agentDomain(run, name);
  const hv = await deps.connect(uri);
  const summary = (await hv.listDomains()).find((d) => d.name === domain);
  const xml = summary && (await hv.domainXml(domain, { inactive: true }));
  if (!summary || xml === undefined) throw new ImportError(`no domain ${domain} on ${uri} to import`);
  const identity = fleetIdentity(run);
  const owner = domainOwner(domainMetadataOf(xml), identity.id);
  const running = summary.state === 'running';
  const base = { agent: name, domain, uri, running, changes: [], ledger: run.ledger };
  if (owner.kind === 'ours') return { ...base, alreadyOurs: true, fields: [], applied: false };
  if (owner.kind === 'fleet') {
    throw new ImportError(
      `domain ${domain} on ${uri} belongs to ${describeOwner(owner)}: import adopts only domains no fleet owns`,
    );
  }

  const projection = domainProjection(xml);
  const found = {
    cores: resourcesOfDomainXml(xml).cores,
    ...portOf('sshPort', /:(\d+)->\d+/.exec(projection.ssh ?? '')?.[1]),
    ...portOf('spicePort', /:(\d+)$/.exec(projection.spice ?? '')?.[1]),
    ...(projection.mac !== undefined && { mac: projection.mac }),
    ...(projection.disk !== undefined && { disk: projection.disk }),
  };
  if (found.disk === undefined) throw new ImportError(`domain ${domain} has no disk to adopt`);
  const disk = await deps.disks.inspect(found.disk);
  if (!disk.exists) throw new ImportError(`the disk of ${domain}, ${found.disk}, does not exist`);
  if (disk.format !== 'qcow2') {
    throw new ImportError(
      `the disk of ${domain}, ${found.disk}, is ${disk.format ?? 'not qcow2'}: fleet runs qcow2 disks`,
    );
  }
  const current = allocationOf(run.ledger, uri, name);
  if (!current) throw new ImportError(`agent '${name}' has no allocation on ${uri}`);
  const sameHost = Object.entries(run.ledger.hosts[uri] ?? {})
    .filter(([n]) => n !== name)
    .map(([, a]) => a);
  const allMacs = Object.values(run.ledger.hosts).flatMap((h) =>
    Object.entries(h)
      .filter(([n]) => n !== name)
      .map(([, a]) => a.mac),
  );
  const adopted = adoptAllocation({
    agent,
    config: run.fleet.config,
    found,
    current,
    others: { sameHost, allMacs },
    defaultDisk: agentDisk(run.stateDir, name),
  });
  const ledger: Ledger = {
    ...run.ledger,
    hosts: { ...run.ledger.hosts, [uri]: { ...run.ledger.hosts[uri], [name]: adopted.allocation } },
  };
  const adoptedRun = { ...run, ledger, names: [name] };
  const baseIdentity = await deps.disks.baseIdentity(run.baseImage);
  const [desired] = await desiredAgents(adoptedRun, deps.connect, baseIdentity, deps.log, deps.hostKeys);
  if (!desired) throw new ImportError(`agent '${name}' has no desired state`);
  const result = { ...base, alreadyOurs: false, fields: adopted.fields, ledger };
  const changes = diffResources(projection, desired.resources);
  if (opts.dryRun) return { ...result, changes, applied: false };

  // Ledger first: a run stopped before the define leaves a domain import can adopt again.
  await opts.writeLedger(ledger);
  await hv.define(desired.xml);
  const book = await StateBook.open(deps.state);
  await book.update(name, { phase: running ? 'started' : 'defined' });
  return { ...result, changes, applied: true };
}

function portOf<K extends string>(key: K, text: string | undefined): { [k in K]?: number } {
  return text === undefined ? {} : ({ [key]: Number(text) } as { [k in K]?: number });
}
