import { existsSync } from 'node:fs';
import { isLocalUri, publicKeyLine } from '@agentfleet/core';
import { agentDisk, FileHostKeyStore, JsonStateStore, selectedAgents, stateFile } from '@agentfleet/engine';
import type { Runtime } from './runtime.js';

/**
 * `up` (unless --no-pregenerate-host-keys): for each selected agent on this machine that has no disk
 * yet, make its SSH host key here, pin it before first boot (so even first contact is verified) and
 * let the domain hand it to the guest through fw_cfg; provisioning then records and rekeys it and
 * needs one rebuild. An agent on another libvirt host is left to make its own: QEMU there reads
 * fw_cfg files from that host's disk, where this state dir's key file is not.
 */
export async function pregenerateHostKeys(rt: Runtime): Promise<string[]> {
  const store = new JsonStateStore(stateFile(rt.stateDir));
  const state = await store.load();
  const made: string[] = [];
  const hostKeys = new FileHostKeyStore(rt.stateDir);
  for (const agent of selectedAgents(rt.run)) {
    // A blocked agent (a port of its held by another process) gets nothing made for it in this run.
    if (!isLocalUri(agent.libvirtUri) || rt.run.held?.[agent.name]) continue;
    if (existsSync(agentDisk(rt.stateDir, agent.name)) || state.agents[agent.name]?.disk) continue;
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
