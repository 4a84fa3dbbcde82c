import { allocationOf } from '@agentfleet/core';
import {
  JsonStateStore,
  knownHostsFile,
  sshConfigFile,
  sshUserOf,
  stateFile,
  writeSshFiles,
} from '@agentfleet/engine';
import type { Runtime } from './runtime.js';

/** ssh_config + known_hosts for every agent whose key is pinned (not just those in this run). */
export async function refreshSshFiles(rt: Runtime): Promise<void> {
  const state = await new JsonStateStore(stateFile(rt.stateDir)).load();
  const entries = rt.fleet.agents.flatMap((agent) => {
    const alloc = allocationOf(rt.run.ledger, agent.libvirtUri, agent.name);
    if (!alloc) return [];
    return [
      {
        agent: agent.name,
        port: alloc.sshPort,
        user: sshUserOf(rt.run, agent),
        identityFile: rt.run.identityFile,
        hostKey: state.agents[agent.name]?.hostKey,
      },
    ];
  });
  await writeSshFiles(entries, {
    sshConfig: sshConfigFile(rt.stateDir),
    knownHosts: knownHostsFile(rt.stateDir),
  });
}
