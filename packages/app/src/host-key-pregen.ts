import { existsSync } from 'node:fs';
import { isLocalUri, publicKeyLine } from '@agentfleet/core';
import { agentDisk, agentDiskOn, JsonStateStore, selectedAgents, stateFile } from '@agentfleet/engine';
import { HostDisks } from './host-disks.js';
import { hostKeyStore, type Runtime } from './runtime.js';

/**
 * `up` (unless --no-pregenerate-host-keys): for each selected agent that has no disk yet, make its
 * SSH host key here, pin it before first boot (so even first contact is verified) and let the domain
 * hand it to the guest through fw_cfg; provisioning then records and rekeys it and needs one rebuild.
 * For an agent on a remote host, QEMU there reads the fw_cfg file from that host's disk: the engine
 * puts a 0600 copy there over SFTP before the domain starts.
 */
export async function pregenerateHostKeys(rt: Runtime): Promise<string[]> {
  const store = new JsonStateStore(stateFile(rt.stateDir));
  const state = await store.load();
  const made: string[] = [];
  const hostKeys = hostKeyStore(rt);
  const disks = new HostDisks(rt.connections, () => rt.run.ledger.fleetId);
  for (const agent of selectedAgents(rt.run)) {
    if (state.agents[agent.name]?.disk || (await hasDisk(rt, disks, agent.name, agent.libvirtUri))) continue;
    if (await hostKeys.read(agent.name)) continue;
    // ssh2 loads only when a key is made: an `up` of existing agents never needs it here.
    const { generateEd25519KeyPair } = await import('@agentfleet/ssh');
    const pair = generateEd25519KeyPair(`root@agent-${agent.name}`);
    const publicKey = publicKeyLine(pair.publicKey);
    await hostKeys.write(agent.name, { privateKey: pair.privateKey, publicKey });
    state.agents[agent.name] = {
      ...(state.agents[agent.name] ?? { phase: 'declared' }),
      hostKey: publicKey,
      updatedAt: new Date().toISOString(),
    };
    made.push(agent.name);
  }
  if (made.length > 0) await store.save(state);
  return made;
}

/** A disk already made (its guest has a key of its own): a file here, a volume of the fleet's pool on a remote host. */
async function hasDisk(rt: Runtime, disks: HostDisks, agent: string, uri: string): Promise<boolean> {
  if (isLocalUri(uri)) return existsSync(agentDisk(rt.stateDir, agent));
  const fleetId = rt.run.ledger.fleetId;
  if (fleetId === undefined) return false;
  return (await disks.inspect(agentDiskOn(rt.stateDir, fleetId, uri, agent), uri)).exists;
}
