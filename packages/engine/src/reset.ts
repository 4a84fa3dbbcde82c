// `fleet reset NAME` and `fleet up --rebase NAME`: the agent's disk back to (or onto a new) base
// image while it keeps its identity. Its SSH host key becomes the agent's pre-generated key (taken
// from the guest over the pinned session: once a guest has presented its key, the guest alone holds
// it), the new disk gets it through the fw_cfg hand-over at first boot, so the pin, known_hosts and
// secrets.nix stay valid (and the host's copy goes again at its first contact); the
// state goes back to "declared" so the following `up` recreates the disk and provisions again.
import type { AgentConnector, Disks, Hypervisor, SnapshotStore, StateStore } from '@agentfleet/core';
import { isActive } from '@agentfleet/core/plan/compute';
import { agentDisk } from './paths.js';
import { type HostKeyStore, sameKeyLine } from './provision/pregenerated-key.js';

/** Where the test image and the NixOS module (hosts/common/access.nix) keep the host key. */
export const GUEST_HOST_KEY = '/var/ssh/ssh_host_ed25519_key';

/** The agent cannot be reset as asked; the message says what to do (exit 2). */
export class ResetRefusedError extends Error {
  override name = 'ResetRefusedError';
}

export interface ResetDeps {
  hypervisor: Hypervisor;
  snapshots: SnapshotStore;
  disks: Disks;
  state: StateStore;
  connector: AgentConnector;
  stateDir: string;
  /** Where the kept key waits for the new disk's first boot (fw_cfg). */
  hostKeys: HostKeyStore;
  /** "ssh-ed25519 AAAA..." of an OpenSSH private key (packages/ssh). */
  publicKeyOf(privateKey: string): string;
  /** The login user is not root: read the key with sudo. */
  sudo: boolean;
}

export interface ResetTarget {
  agent: string;
  domain: string;
  /** The agent's libvirt host (its disk is a volume there when remote). */
  uri?: string;
}

/**
 * Keeps the identity, then throws the disk away: stops the domain, deletes its snapshots (they live in the
 * disk), removes the disk and resets the agent's progress. Nothing is removed before the key is safe.
 */
export async function resetAgentDisk(
  deps: ResetDeps,
  t: ResetTarget,
): Promise<{ hostKey: string; took: 'kept' | 'guest' }> {
  const state = await deps.state.load();
  const rt = state.agents[t.agent];
  const hostKey = rt?.hostKey;
  if (!hostKey) {
    throw new ResetRefusedError(
      `agent '${t.agent}' has no pinned host key, so there is no identity to keep: run 'fleet up ${t.agent}' first (or 'fleet destroy --purge ${t.agent}' to start over)`,
    );
  }
  const took = await keepHostKey(deps, t, hostKey);

  const domains = await deps.hypervisor.listDomains();
  const dom = domains.find((d) => d.name === t.domain);
  if (dom && isActive(dom.state)) await deps.hypervisor.destroy(t.domain);
  if (dom)
    for (const s of await deps.snapshots.list(t.domain)) await deps.snapshots.delete(t.domain, s.label);
  await deps.disks.remove(rt.disk?.path ?? agentDisk(deps.stateDir, t.agent), t.uri);

  const fresh = await deps.state.load();
  fresh.agents[t.agent] = { phase: 'declared', hostKey, updatedAt: new Date().toISOString() };
  await deps.state.save(fresh);
  return { hostKey, took };
}

async function keepHostKey(deps: ResetDeps, t: ResetTarget, hostKey: string): Promise<'kept' | 'guest'> {
  const pre = await deps.hostKeys.read(t.agent);
  if (pre) {
    if (!sameKeyLine(pre.publicKey, hostKey)) {
      throw new ResetRefusedError(
        `agent '${t.agent}': the pre-generated key in the state dir (${pre.publicKey}) is not the pinned one (${hostKey}); refusing to reset with a different identity`,
      );
    }
    return 'kept';
  }
  const shell = await deps.connector.connect(t.agent, { pinnedHostKey: hostKey }).catch((err: Error) => {
    throw new ResetRefusedError(
      `agent '${t.agent}': fleet must read its host key from the guest before the disk goes, and cannot reach it (${err.message}): start it with 'fleet up ${t.agent}' and run reset again`,
    );
  });
  let privateKey = '';
  try {
    let err = '';
    const code = await shell.exec(`${deps.sudo ? 'sudo ' : ''}cat ${GUEST_HOST_KEY}`, (chunk, stream) => {
      if (stream === 'stdout') privateKey += chunk;
      else err += chunk;
    });
    if (code !== 0)
      throw new Error(`reading ${GUEST_HOST_KEY} in ${t.agent} failed (exit ${code}): ${err.trim()}`);
  } finally {
    await shell.close();
  }
  const pub = deps.publicKeyOf(privateKey);
  if (!sameKeyLine(pub, hostKey)) {
    throw new ResetRefusedError(
      `agent '${t.agent}': ${GUEST_HOST_KEY} in the guest (${pub}) is not the key it presents and fleet pinned (${hostKey}); not resetting`,
    );
  }
  await deps.hostKeys.write(t.agent, { privateKey, publicKey: hostKey });
  return 'guest';
}
