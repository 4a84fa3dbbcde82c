import { agentDomainXml } from '@agentfleet/app/xml';
import type { DomainType, NetworkMode, PortForward } from '@agentfleet/core';
import { type Command, Option } from 'commander';
import { contextOf } from '../context.js';
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
      const xml = await agentDomainXml(ctx, name, opts);
      printResult(ctx, xml, { agent: name, xml });
    });
}
