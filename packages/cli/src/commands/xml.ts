import { expandPath, LEDGER_FILE, readFleet, readLedger } from '@agentfleet/app/fleet-files';
import { shareDirs } from '@agentfleet/app/share-dirs';
import type { DomainType, HostFacts, NetworkMode, PortForward } from '@agentfleet/core';
import { domainXml } from '@agentfleet/core/domain-xml';
import { reservedCoresOn } from '@agentfleet/core/hosts';
import { allocationOf } from '@agentfleet/core/ledger';
import { domainName } from '@agentfleet/core/model';
import { agentDomainInput } from '@agentfleet/engine/desired';
import { chooseForHost } from '@agentfleet/engine/host-choice';
import { type Command, Option } from 'commander';
import { contextOf } from '../context.js';
import { noAgentNamed, UsageError } from '../errors.js';
import { printResult } from '../output.js';
import { agentName } from './agent-name.js';

interface XmlOptions {
  domainType?: DomainType;
  portForward?: PortForward;
  network?: NetworkMode;
}

export function registerXml(program: Command): void {
  program
    .command('xml')
    .description('print the libvirt domain XML `fleet up` would define for an agent')
    .argument('<name>', 'agent name', agentName)
    .addOption(
      new Option('--domain-type <type>', "instead of probing the host when fleet.yaml says 'auto'").choices([
        'kvm',
        'qemu',
      ]),
    )
    .addOption(
      new Option('--port-forward <mode>', "instead of probing the host when fleet.yaml says 'auto'").choices([
        'passt',
        'hostfwd',
      ]),
    )
    .addOption(
      new Option('--network <mode>', "instead of the agent's network mode").choices([
        'isolated',
        'open',
        'none',
      ]),
    )
    .action(async (name: string, opts: XmlOptions, command: Command) => {
      const ctx = contextOf(command);
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
      const xml = domainXml({
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
      printResult(ctx, xml, { agent: name, xml });
    });
}

async function hostFacts(uri: string): Promise<HostFacts> {
  const { Connections } = await import('@agentfleet/app/connections');
  const connections = new Connections();
  try {
    return await (await connections.connect(uri)).facts();
  } finally {
    await connections.closeAll();
  }
}
