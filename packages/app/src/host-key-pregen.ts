import { type Disks, isLocalUri, publicKeyLine, type StateStore } from '@agentfleet/core';
import {
  agentDiskOn,
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
  /** Where each agent's disk would be: this machine's files, a remote host's volumes. */
  disks: Pick<Disks, 'inspect'>;
  /** Makes a key pair for the agent (default: a new ed25519 pair). */
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
  // Loaded only when a key is made: an `up` of existing agents never needs it.
  const { generateEd25519KeyPair } = await import('@agentfleet/secrets/openssh-key');
  const pair = generateEd25519KeyPair(`root@agent-${agent}`);
  return { privateKey: pair.privateKey, publicKey: publicKeyLine(pair.publicKey) };
}

/**
 * `up` (unless --no-pregenerate-host-keys): for each selected agent that has no disk yet, make its
 * SSH host key here, pin it before first boot (so even first contact is verified) and let the domain
 * hand it to the guest through fw_cfg; provisioning then records and rekeys it and needs one rebuild.
 * For an agent on a remote host, QEMU there reads the fw_cfg file from that host's disk: the engine
 * puts a 0600 copy there over SFTP before the domain starts (and removes it with the hand-over).
 */
export async function pregenerateHostKeys(
  run: FleetRun,
  stores: PregenStores = stateDirStores(run.stateDir),
): Promise<string[]> {
  const state = await stores.state.load();
  const made: string[] = [];
  const makeKeyPair = stores.makeKeyPair ?? ed25519KeyPair;
  for (const agent of selectedAgents(run)) {
    // A blocked agent (a port or core of its held by something outside the fleet) gets nothing made in this run.
    if (run.held?.[agent.name]) continue;
    if (state.agents[agent.name]?.disk || (await hasDisk(run, stores, agent.name, agent.libvirtUri)))
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

/** A disk already made (its guest has a key of its own): a file here, a volume of the fleet's pool on a remote host. */
async function hasDisk(run: FleetRun, stores: PregenStores, agent: string, uri: string): Promise<boolean> {
  // Without the fleet's id there is no pool on any remote host yet, so no volume.
  if (!isLocalUri(uri) && run.ledger.fleetId === undefined) return false;
  const path = agentDiskOn(run.stateDir, run.ledger.fleetId as string, uri, agent);
  return (await stores.disks.inspect(path, uri)).exists;
}
