// `fleet snapshot`, `snapshots`, `revert`, `snapshot --delete`: the engine's snapshot workflows on
// the agent's own libvirt host.
import type { SnapshotInfo } from '@agentfleet/core';
import {
  type AgentDomain,
  deleteSnapshot,
  listSnapshots,
  revertSnapshot,
  SnapshotUsageError,
  takeSnapshot,
} from '@agentfleet/engine/snapshots';
import { type LibvirtHypervisor, LibvirtSnapshots } from '@agentfleet/libvirt';
import { agentHandle, domainOf } from './agent-handle.js';
import { Connections } from './connections.js';
import type { AppContext } from './context.js';
import { UsageError } from './errors.js';

/** The agent's domain and a snapshot store on its libvirt host, for one call. */
async function withSnapshots<T>(
  ctx: AppContext,
  name: string,
  use: (store: LibvirtSnapshots, a: AgentDomain) => Promise<T>,
): Promise<T> {
  const h = agentHandle(ctx, name);
  const connections = new Connections();
  try {
    const hv = (await connections.connect(h.agent.libvirtUri)) as LibvirtHypervisor;
    return await use(new LibvirtSnapshots(hv.connection), { agent: name, domain: domainOf(h) });
  } catch (err) {
    if (err instanceof SnapshotUsageError) throw new UsageError(err.message);
    throw err;
  } finally {
    await connections.closeAll();
  }
}

/** Takes a snapshot of the agent (its memory too when it runs); the label defaults to the UTC time. */
export function snapshotAgent(ctx: AppContext, name: string, label?: string): Promise<SnapshotInfo> {
  return withSnapshots(ctx, name, (store, a) => takeSnapshot(store, a, label));
}

/** Deletes the agent's snapshot `label`; returns what it was. */
export function deleteAgentSnapshot(ctx: AppContext, name: string, label: string): Promise<SnapshotInfo> {
  return withSnapshots(ctx, name, (store, a) => deleteSnapshot(store, a, label));
}

/** The agent's snapshots, oldest first. */
export function agentSnapshots(ctx: AppContext, name: string): Promise<SnapshotInfo[]> {
  return withSnapshots(ctx, name, listSnapshots);
}

/** Puts the agent back to its snapshot `label` (disk, and memory for a snapshot taken while it ran). */
export function revertAgent(ctx: AppContext, name: string, label: string): Promise<SnapshotInfo> {
  return withSnapshots(ctx, name, (store, a) => revertSnapshot(store, a, label));
}
