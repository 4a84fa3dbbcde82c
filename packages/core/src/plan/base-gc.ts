// Base volumes on remote hosts that no agent uses any more (the last overlay on them purged, or the fleet's
// baseImage changed): removed by a plan action, never while a disk volume has one as its backing store.
import type { Plan, UnusedBase } from './types.js';

/** A base image volume in the fleet's pool on a host, with the disk volumes (their paths) backed by it. */
export interface BaseVolume {
  uri: string;
  /** The fleet.yaml host `uri` belongs to, when it is one. */
  host?: string;
  volume: string;
  users: readonly string[];
}

export interface BaseVerdict {
  /** Used by no disk once the plan's deletions are done, on a host no agent of the fleet stays on. */
  unused: UnusedBase[];
  /**
   * Used by no disk either, but on a host where an agent stays (declared, not purged by this plan), which makes its
   * next disk from the current base image: unused unless it is that image's volume (which only hashing tells).
   */
  unlessCurrent: UnusedBase[];
}

/** Judges each base volume against the plan: the disks it deletes, the agents that stay on each host. */
export function judgeBases(
  bases: readonly BaseVolume[],
  plan: Plan,
  declared: readonly { name: string; uri: string }[],
): BaseVerdict {
  const deleted = new Set<string>();
  const purged = new Set<string>();
  for (const a of plan.actions) {
    if (!a.steps.includes('delete-disk')) continue;
    purged.add(a.agent);
    const disk = a.orphan ? a.orphan.disk : a.after?.disk.path;
    if (disk !== undefined) deleted.add(disk);
  }
  const staying = new Set(declared.filter((a) => !purged.has(a.name)).map((a) => a.uri));
  const verdict: BaseVerdict = { unused: [], unlessCurrent: [] };
  for (const b of bases) {
    if (b.users.some((u) => !deleted.has(u))) continue;
    const it: UnusedBase = { uri: b.uri, volume: b.volume, ...(b.host !== undefined && { host: b.host }) };
    (staying.has(b.uri) ? verdict.unlessCurrent : verdict.unused).push(it);
  }
  return verdict;
}
