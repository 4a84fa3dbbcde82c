// `fleet snapshot`, `snapshots`, `revert`, `snapshot --delete`: internal qcow2 snapshots of an
// agent's own disk through the SnapshotStore port. A label names one snapshot of one agent.
import {
  defaultSnapshotLabel,
  isHypervisorError,
  type SnapshotInfo,
  type SnapshotStore,
  snapshotLabelProblem,
} from '@agentfleet/core';

/** A request the user can fix (bad or unknown label): the CLI exits 2 with the message. */
export class SnapshotUsageError extends Error {
  override name = 'SnapshotUsageError';
}

/** An agent never brought up (or destroyed) has no domain to hold snapshots: a failure with its remedy. */
export class AgentWithoutDomainError extends Error {
  override name = 'AgentWithoutDomainError';
  readonly remedy: string;
  constructor(agent: string) {
    super(`agent ${agent} has no domain yet`);
    this.remedy = `run \`fleet up ${agent}\``;
  }
}

export interface AgentDomain {
  agent: string;
  domain: string;
}

/** The agent's snapshots; an agent without a domain gets the remedy, not libvirt's "Domain not found". */
async function snapshotsOf(store: SnapshotStore, a: AgentDomain): Promise<SnapshotInfo[]> {
  try {
    return await store.list(a.domain);
  } catch (err) {
    if (isHypervisorError(err, 'no-such-domain')) throw new AgentWithoutDomainError(a.agent);
    throw err;
  }
}

function checkLabel(label: string): void {
  const problem = snapshotLabelProblem(label);
  if (problem) throw new SnapshotUsageError(problem);
}

async function existing(store: SnapshotStore, a: AgentDomain, label: string): Promise<SnapshotInfo> {
  checkLabel(label);
  const all = await snapshotsOf(store, a);
  const found = all.find((s) => s.label === label);
  if (!found) {
    throw new SnapshotUsageError(
      `agent '${a.agent}' has no snapshot '${label}' (snapshots: ${all.map((s) => s.label).join(', ') || 'none'}; see fleet snapshots ${a.agent})`,
    );
  }
  return found;
}

/** Takes a snapshot (memory too when the agent runs); the label defaults to the UTC time. */
export async function takeSnapshot(
  store: SnapshotStore,
  a: AgentDomain,
  label: string | undefined,
  now: Date = new Date(),
): Promise<SnapshotInfo> {
  const name = label ?? defaultSnapshotLabel(now);
  checkLabel(name);
  if ((await snapshotsOf(store, a)).some((s) => s.label === name)) {
    throw new SnapshotUsageError(
      `agent '${a.agent}' already has a snapshot '${name}': pick another label or delete it first (fleet snapshot ${a.agent} ${name} --delete)`,
    );
  }
  await store.create(a.domain, name, `fleet snapshot of agent ${a.agent}`);
  const made = (await store.list(a.domain)).find((s) => s.label === name);
  if (!made)
    throw new Error(`libvirt reported snapshot '${name}' of ${a.domain} created, but does not list it`);
  return made;
}

export function listSnapshots(store: SnapshotStore, a: AgentDomain): Promise<SnapshotInfo[]> {
  return snapshotsOf(store, a);
}

/** Puts the agent's disk (and, for a snapshot of a running agent, its memory) back to `label`. */
export async function revertSnapshot(
  store: SnapshotStore,
  a: AgentDomain,
  label: string,
): Promise<SnapshotInfo> {
  const snap = await existing(store, a, label);
  await store.revert(a.domain, label);
  return snap;
}

export async function deleteSnapshot(
  store: SnapshotStore,
  a: AgentDomain,
  label: string,
): Promise<SnapshotInfo> {
  const snap = await existing(store, a, label);
  await store.delete(a.domain, label);
  return snap;
}
