import { join } from 'node:path';
import { allocationOf, type DomainType, domainName, domainXml, type PortForward } from '@agentfleet/core';
import { type Command, Option } from 'commander';
import { contextOf } from '../context.js';
import { UsageError } from '../errors.js';
import { expandPath, LEDGER_FILE, readFleet, readLedger } from '../fleet-files.js';

interface XmlOptions {
  domainType?: DomainType;
  portForward?: PortForward;
}

export function registerXml(program: Command): void {
  program
    .command('xml')
    .description('print the libvirt domain XML of an agent (from the YAML and the ledger)')
    .argument('<name>', 'agent name')
    .addOption(
      new Option('--domain-type <type>', 'domain type when fleet.yaml says auto').choices(['kvm', 'qemu']),
    )
    .addOption(
      new Option('--port-forward <mode>', 'SSH forwarding when fleet.yaml says auto').choices([
        'passt',
        'hostfwd',
      ]),
    )
    .action((name: string, opts: XmlOptions, command: Command) => {
      const ctx = contextOf(command);
      const fleet = readFleet(ctx.dir);
      const agent = fleet.agents.find((a) => a.name === name);
      if (!agent)
        throw new UsageError(
          `no agent named '${name}' (agents: ${fleet.agents.map((a) => a.name).join(', ')})`,
        );
      const allocation = allocationOf(readLedger(ctx.dir), agent.libvirtUri, name);
      if (!allocation)
        throw new UsageError(`agent '${name}' has no allocation in ${LEDGER_FILE}; run 'fleet allocate'`);
      // Without probing a host, 'auto' resolves to what works everywhere (TCG + hostfwd).
      const domainType =
        opts.domainType ?? (fleet.config.domainType === 'auto' ? 'qemu' : fleet.config.domainType);
      const portForward =
        opts.portForward ?? (fleet.config.portForward === 'auto' ? 'hostfwd' : fleet.config.portForward);
      const stateDir = expandPath(ctx.dir, fleet.config.stateDir);
      const xml = domainXml({
        agent,
        allocation,
        domainType,
        portForward,
        diskPath: join(stateDir, `${domainName(name)}.qcow2`),
        consoleLogPath: join(stateDir, `${domainName(name)}.console.log`),
      });
      process.stdout.write(xml.endsWith('\n') ? xml : `${xml}\n`);
    });
}
