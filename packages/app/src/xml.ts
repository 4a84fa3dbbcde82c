import type { DomainType, HostFacts, NetworkMode, PortForward } from '@agentfleet/core';
import { domainXml } from '@agentfleet/core/domain-xml';
import { reservedCoresOn } from '@agentfleet/core/hosts';
import { allocationOf } from '@agentfleet/core/ledger';
import { domainName } from '@agentfleet/core/model';
import { agentDomainInput } from '@agentfleet/engine/desired';
import { chooseForHost } from '@agentfleet/engine/host-choice';
import type { AppContext } from './context.js';
import { noAgentNamed, UsageError } from './errors.js';
import { expandPath, LEDGER_FILE, readFleet, readLedger } from './fleet-files.js';
import { shareDirs } from './share-dirs.js';

/** What to decide instead of fleet.yaml's 'auto' (and the agent's network mode). */
export interface XmlOverrides {
  domainType?: DomainType;
  portForward?: PortForward;
  network?: NetworkMode;
}

/** `fleet xml`: the libvirt domain XML `up` would define for the allocated agent `name`. */
export async function agentDomainXml(
  ctx: AppContext,
  name: string,
  opts: XmlOverrides = {},
): Promise<string> {
  const fleet = readFleet(ctx.dir);
  const agent = fleet.agents.find((a) => a.name === name);
  if (!agent) throw noAgentNamed([name], fleet);
  const ledger = readLedger(ctx.dir);
  const allocation = allocationOf(ledger, agent.libvirtUri, name);
  if (!allocation)
    throw new UsageError(`agent '${name}' has no allocation in ${LEDGER_FILE}; run 'fleet allocate'`);
  const config = {
    ...fleet.config,
    ...(opts.domainType && { domainType: opts.domainType }),
    ...(opts.portForward && { portForward: opts.portForward }),
  };
  // 'auto' is resolved the way `fleet up` resolves it: by what the agent's host proves it can do.
  const choice =
    config.domainType !== 'auto' && config.portForward !== 'auto'
      ? { domainType: config.domainType, portForward: config.portForward }
      : chooseForHost(config, await hostFacts(agent.libvirtUri), ctx.log);
  const stateDir = expandPath(ctx.dir, fleet.config.stateDir);
  const spec = opts.network ? { ...agent, network: opts.network } : agent;
  return domainXml({
    ...agentDomainInput(
      stateDir,
      spec,
      allocation,
      choice,
      reservedCoresOn(fleet.config, spec.libvirtUri),
      shareDirs(ctx.dir, fleet).dirs,
      ledger.fleetId,
    ),
    domainName: domainName(name, fleet.config.domainPrefix),
    // The fleet's identity once it has one (the first `up`/`add`/`allocate` records it).
    ...(ledger.fleetId !== undefined && { fleet: { id: ledger.fleetId, dir: ctx.dir, stateDir } }),
  });
}

async function hostFacts(uri: string): Promise<HostFacts> {
  // libvirt's addon loads only when 'auto' needs the host's answer.
  const { Connections } = await import('./connections.js');
  const connections = new Connections();
  try {
    return await (await connections.connect(uri)).facts();
  } finally {
    await connections.closeAll();
  }
}
