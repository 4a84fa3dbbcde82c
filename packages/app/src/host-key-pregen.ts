import { type Disks, isLocalUri, publicKeyLine, type StateStore } from '@agentfleet/core';
import {
  agentDisk,
  FileHostKeyStore,
  type FleetRun,
  type HostKeyPair,
  type HostKeyStore,
  JsonStateStore,
  LocalDisks,
  selectedAgents,
  stateFile,
} from '@agentfleet/engine';

/** Where pregeneration looks and writes: the state dir's interfaces (tests: the in-memory ones). */
export interface PregenStores {
  state: StateStore;
  hostKeys: HostKeyStore;
  /** This machine's disks (only local agents get a key made here). */
  disks: Pick<Disks, 'inspect'>;
  /** Makes a key pair for the agent (default: ssh2's ed25519). */
  makeKeyPair?(agent: string): Promise<HostKeyPair>;
}

/** The state dir's own stores. */
export function stateDirStores(stateDir: string): PregenStores {
  return {
    state: new JsonStateStore(stateFile(stateDir)),
    hostKeys: new FileHostKeyStore(stateDir),
    disks: new LocalDisks(),
  };
}

async function ed25519KeyPair(agent: string): Promise<HostKeyPair> {
  // ssh2 loads only when a key is made: an `up` of existing agents never needs it here.
  const { generateEd25519KeyPair } = await import('@agentfleet/ssh');
  const pair = generateEd25519KeyPair(`root@agent-${agent}`);
  return { privateKey: pair.privateKey, publicKey: publicKeyLine(pair.publicKey) };
}

/**
 * `up` (unless --no-pregenerate-host-keys): for each selected agent on this machine that has no disk
 * yet, make its SSH host key here, pin it before first boot (so even first contact is verified) and
 * let the domain hand it to the guest through fw_cfg; provisioning then records and rekeys it and
 * needs one rebuild. An agent on another libvirt host is left to make its own: QEMU there reads
 * fw_cfg files from that host's disk, where this state dir's key file is not.
 */
export async function pregenerateHostKeys(
  run: FleetRun,
  stores: PregenStores = stateDirStores(run.stateDir),
): Promise<string[]> {
  const state = await stores.state.load();
  const made: string[] = [];
  const makeKeyPair = stores.makeKeyPair ?? ed25519KeyPair;
  for (const agent of selectedAgents(run)) {
    if (!isLocalUri(agent.libvirtUri)) continue;
    if (
      state.agents[agent.name]?.disk ||
      (await stores.disks.inspect(agentDisk(run.stateDir, agent.name))).exists
    )
      continue;
    if (await stores.hostKeys.read(agent.name)) continue;
    const pair = await makeKeyPair(agent.name);
    await stores.hostKeys.write(agent.name, pair);
    state.agents[agent.name] = {
      ...(state.agents[agent.name] ?? { phase: 'declared' }),
      hostKey: pair.publicKey,
      updatedAt: new Date().toISOString(),
    };
    made.push(agent.name);
  }
  if (made.length > 0) await stores.state.save(state);
  return made;
}
