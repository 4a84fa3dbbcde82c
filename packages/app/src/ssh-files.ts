import { allocationOf, publicKeyLine } from '@agentfleet/core';
import {
  committedHostKey,
  JsonStateStore,
  knownHostsFile,
  pinnedHostKey,
  type SshEntry,
  sshConfigFile,
  sshUserOf,
  stateFile,
  writeSshFiles,
} from '@agentfleet/engine';
import type { Runtime } from './runtime.js';

/** ssh_config + known_hosts for every agent whose key is pinned (not just those in this run). */
export async function refreshSshFiles(rt: Runtime): Promise<void> {
  const state = await new JsonStateStore(stateFile(rt.stateDir)).load();
  const entries: SshEntry[] = [];
  for (const agent of rt.fleet.agents) {
    const alloc = allocationOf(rt.run.ledger, agent.libvirtUri, agent.name);
    if (!alloc) continue;
    const login = await rt.connections.hosts.login(agent.libvirtUri);
    // A lost state.json keeps the pin committed in secrets/hosts, as the SSH wait does.
    const hostKey = await pinnedHostKey(state.agents[agent.name], () =>
      committedHostKey(rt.run.fleetDir, agent.name),
    );
    entries.push({
      agent: agent.name,
      port: alloc.sshPort,
      user: sshUserOf(rt.run, agent),
      identityFile: rt.run.identityFile,
      hostKey,
      ...(login && {
        via: {
          alias: `libvirt-host-${login.host}${login.port === 22 ? '' : `-${login.port}`}`,
          host: login.host,
          port: login.port,
          user: login.user,
          identityFile: login.identityFile,
          hostKey: publicKeyLine(login.hostKey),
        },
      }),
    });
  }
  await writeSshFiles(entries, {
    sshConfig: sshConfigFile(rt.stateDir),
    knownHosts: knownHostsFile(rt.stateDir),
  });
}
