// Base image volumes the plan leaves unused on the fleet's remote hosts: found while planning (`up` and `purge`),
// shown in the plan, removed after its agent actions.
import {
  type BaseVolume,
  type Disks,
  isLocalUri,
  judgeBases,
  type Plan,
  type PlanGoal,
  type UnusedBase,
} from '@agentfleet/core';
import type { FleetRun } from './fleet-run.js';
import type { EngineLog } from './log.js';

/**
 * `up` of the whole fleet and `purge`: every base volume on the fleet's remote hosts that no disk will have as backing store once `plan` is applied and
 * that no agent staying on its host would make a disk from (the current base image's volume, by content). A host
 * that cannot be listed or a base image that cannot be read keeps its volumes: collecting never fails a plan.
 */
export async function unusedBaseVolumes(
  plan: Plan,
  goal: PlanGoal,
  run: FleetRun,
  disks: Disks,
  log: EngineLog,
): Promise<UnusedBase[]> {
  const bases = disks.bases;
  // `up` of named agents leaves the rest of the fleet (and its hosts) alone; a purge frees what it deletes.
  if (!bases || !(goal === 'purge' || (goal === 'up' && run.names.length === 0))) return [];
  const hostOf = new Map(Object.entries(run.fleet.config.hosts).map(([name, h]) => [h.uri, name]));
  const uris = new Set(
    [
      run.fleet.config.libvirtUri,
      ...hostOf.keys(),
      ...run.fleet.agents.map((a) => a.libvirtUri),
      ...(plan.orphans ?? []).map((o) => o.uri),
      ...plan.actions.flatMap((a) => (a.orphan ? [a.orphan.uri] : [])),
    ].filter((u) => !isLocalUri(u)),
  );
  const found: BaseVolume[] = [];
  for (const uri of uris) {
    const host = hostOf.get(uri);
    try {
      for (const b of await bases.list(uri)) found.push({ ...b, ...(host !== undefined && { host }) });
    } catch (err) {
      log.warn({ uri, err: (err as Error).message }, 'cannot list the base volumes there: keeping them');
    }
  }
  const verdict = judgeBases(
    found,
    plan,
    run.fleet.agents.map((a) => ({ name: a.name, uri: a.libvirtUri })),
  );
  if (verdict.unlessCurrent.length === 0) return verdict.unused;
  const current = await bases.nameOf(run.baseImage).catch((err: Error) => {
    log.warn({ err: err.message }, 'cannot read the base image: keeping every base volume agents may need');
    return undefined;
  });
  if (current === undefined) return verdict.unused;
  return [...verdict.unused, ...verdict.unlessCurrent.filter((b) => b.volume !== current)];
}

/** Removes the plan's unused base volumes (each refuses while a disk still has it as backing store). */
export async function removeUnusedBases(plan: Plan, disks: Disks, log: EngineLog): Promise<void> {
  for (const b of plan.unusedBases ?? []) {
    try {
      await disks.bases?.remove(b.uri, b.volume);
      log.info({ uri: b.uri, volume: b.volume }, 'unused base volume removed');
    } catch (err) {
      log.warn({ uri: b.uri, volume: b.volume, err: (err as Error).message }, 'base volume kept');
    }
  }
}
