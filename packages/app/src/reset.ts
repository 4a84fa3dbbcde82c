import { domainName, publicKeyLine } from '@agentfleet/core';
import {
  FileHostKeyStore,
  JsonStateStore,
  ResetRefusedError,
  resetAgentDisk,
  sshUserOf,
  stateFile,
} from '@agentfleet/engine';
import { type LibvirtHypervisor, LibvirtSnapshots } from '@agentfleet/libvirt';
import { publicKeyOfPrivateKey } from '@agentfleet/ssh';
import { agentConnector } from './agent-connector.js';
import { UsageError } from './errors.js';
import { HostDisks } from './host-disks.js';
import type { Runtime } from './runtime.js';

/**
 * `reset` and `up --rebase` under the run's lock, before the plan (runGoal's `before`): each agent's
 * disk and snapshots go while its identity (host key, pin, secrets) is kept for the new disk.
 */
export async function resetDisks(
  rt: Runtime,
  names: readonly string[],
  onReset: (agent: string, result: { hostKey: string; took: 'kept' | 'guest' }) => void,
): Promise<void> {
  for (const name of names) {
    const agent = rt.fleet.agents.find((a) => a.name === name);
    if (!agent) throw new UsageError(`no agent named '${name}'`);
    const hv = (await rt.connections.connect(agent.libvirtUri)) as LibvirtHypervisor;
    try {
      const r = await resetAgentDisk(
        {
          hypervisor: hv,
          snapshots: new LibvirtSnapshots(hv.connection),
          disks: new HostDisks(rt.connections, () => rt.run.ledger.fleetId),
          state: new JsonStateStore(stateFile(rt.stateDir)),
          connector: agentConnector(rt),
          stateDir: rt.stateDir,
          hostKeys: new FileHostKeyStore(rt.stateDir),
          publicKeyOf: (k) => publicKeyLine(publicKeyOfPrivateKey(k)),
          sudo: sshUserOf(rt.run, agent) !== 'root',
        },
        { agent: name, domain: domainName(name, rt.fleet.config.domainPrefix), uri: agent.libvirtUri },
      );
      onReset(name, r);
    } catch (err) {
      if (err instanceof ResetRefusedError) throw new UsageError(err.message);
      throw err;
    }
  }
}
