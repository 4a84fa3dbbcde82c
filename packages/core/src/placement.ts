// Which fleet.yaml host an agent that names none runs on. Placement is an allocation like ports and cores:
// recorded (the agent's ledger entry sits under its host's URI), stable, moved only on request.
import { type Diagnostic, fail, ok, type Result } from './diagnostics.js';
import type { HostSnapshot } from './host-snapshot.js';
import { reservedCoresOn } from './hosts.js';
import type { Ledger } from './ledger.js';
import type { AgentSpec, Fleet } from './model.js';
import { sharesNeedLocalSystem } from './shares.js';
import { createLocator } from './yaml-source.js';

/** The fleet with every placed agent that the ledger records on one of fleet.yaml's hosts put there. */
export function recordedPlacements(fleet: Fleet, ledger: Ledger): Fleet {
  const agents = fleet.agents.map((a) => {
    const host = a.placed ? recordedHost(fleet, ledger, a.name) : undefined;
    return host ? { ...a, libvirtUri: host.uri, host: host.name } : a;
  });
  return { ...fleet, agents };
}

/** What is left on one host for new agents. */
export interface HostCapacity {
  host: string;
  uri: string;
  /** Unreserved cores nobody pins, sharing or not (exclusive agents need one per vCPU). */
  freeCores: number;
  /** Memory not given to any domain or agent; undefined when the host did not say. */
  freeMemoryMiB?: number;
}

/**
 * The fleet with every placed agent on a host: recorded placements first (they never move), then each new one,
 * in name order, on the host with the most free cores that fits it (exclusive vCPUs, memory), ties broken by
 * free memory, then host name. Hosts without a snapshot (unreachable) take no new agents.
 */
export function placeAgents(prev: Ledger, fleet: Fleet, hosts: readonly HostSnapshot[]): Result<Fleet> {
  const placedFleet = recordedPlacements(fleet, prev);
  const recorded = new Set(
    placedFleet.agents.filter((a) => a.placed && recordedHost(fleet, prev, a.name)).map((a) => a.name),
  );
  const pending = placedFleet.agents.filter((a) => a.placed && !recorded.has(a.name));
  if (pending.length === 0) return ok(placedFleet);
  const settled = placedFleet.agents.filter((a) => !pending.includes(a));
  const capacities = hostCapacities(prev, placedFleet, settled, hosts);
  const diagnostics: Diagnostic[] = [];
  const locate = createLocator();
  const chosen = new Map<string, { name: string; uri: string }>();
  for (const a of pending) {
    const fits = capacities.filter(
      (c) =>
        // Shares are directories of this machine: an agent with shares stays on its system libvirt.
        (a.shares.length === 0 || sharesNeedLocalSystem(c.uri)) &&
        (a.shareCores || c.freeCores >= a.vcpus) &&
        (c.freeMemoryMiB === undefined || c.freeMemoryMiB >= a.memoryMiB),
    );
    const best = fits.sort(
      (x, y) =>
        y.freeCores - x.freeCores ||
        (y.freeMemoryMiB ?? 0) - (x.freeMemoryMiB ?? 0) ||
        x.host.localeCompare(y.host),
    )[0];
    if (!best) {
      const path = '';
      diagnostics.push({
        file: a.file,
        ...locate(a.file, fleet.texts[a.file], path),
        path,
        message: `no host fits agent ${a.name} (${a.vcpus} exclusive vCPU(s), ${a.memoryMiB} MiB${a.shares.length > 0 ? ', shares: only qemu:///system' : ''}): ${describe(capacities, fleet)} (name a host with \`host:\`, add a host to fleet.yaml hosts, or set shareCores: true)`,
      });
      continue;
    }
    best.freeCores = Math.max(0, best.freeCores - a.vcpus);
    if (best.freeMemoryMiB !== undefined) best.freeMemoryMiB -= a.memoryMiB;
    chosen.set(a.name, { name: best.host, uri: best.uri });
  }
  if (diagnostics.length > 0) return fail(diagnostics);
  return ok({
    ...placedFleet,
    agents: placedFleet.agents.map((a) => {
      const c = chosen.get(a.name);
      return c ? { ...a, libvirtUri: c.uri, host: c.name } : a;
    }),
  });
}

/** Capacity of each fleet.yaml host with a snapshot, after what runs there and what settled agents claim. */
export function hostCapacities(
  prev: Ledger,
  fleet: Fleet,
  settled: readonly AgentSpec[],
  hosts: readonly HostSnapshot[],
): HostCapacity[] {
  const out: HostCapacity[] = [];
  for (const [name, h] of Object.entries(fleet.config.hosts).sort(([x], [y]) => x.localeCompare(y))) {
    const snap = hosts.find((s) => s.uri === h.uri);
    if (!snap) continue;
    const reserved = reservedCoresOn(fleet.config, h.uri);
    const here = settled.filter((a) => a.libvirtUri === h.uri);
    const names = new Set(here.map((a) => a.name));
    const pinned = new Set<number>();
    for (const d of snap.domains)
      if (d.agent === undefined || !names.has(d.agent)) for (const c of d.cores) pinned.add(c);
    let unpinnedVcpus = 0;
    for (const a of here) {
      // A sharing agent's cores are no use to an exclusive one either (allocate gives those only wholly free cores).
      const cores = a.cores ?? prev.hosts[h.uri]?.[a.name]?.cores;
      if (cores) for (const c of cores) pinned.add(c);
      else unpinnedVcpus += a.vcpus;
    }
    const usable = Array.from({ length: snap.cpus }, (_, c) => c).filter(
      (c) => !reserved.includes(c) && !pinned.has(c),
    );
    const capacity: HostCapacity = {
      host: name,
      uri: h.uri,
      freeCores: Math.max(0, usable.length - unpinnedVcpus),
    };
    if (snap.memoryMiB !== undefined) {
      const foreign = snap.domains
        .filter((d) => d.agent === undefined || !names.has(d.agent))
        .reduce((sum, d) => sum + (d.memoryMiB ?? 0), 0);
      const ours = here.reduce((sum, a) => sum + a.memoryMiB, 0);
      capacity.freeMemoryMiB = snap.memoryMiB - foreign - ours;
    }
    out.push(capacity);
  }
  return out;
}

function describe(capacities: readonly HostCapacity[], fleet: Fleet): string {
  const reachable = new Set(capacities.map((c) => c.host));
  const parts = capacities.map(
    (c) =>
      `${c.host} has ${c.freeCores} free core(s)${c.freeMemoryMiB === undefined ? '' : ` and ${c.freeMemoryMiB} MiB`}`,
  );
  for (const name of Object.keys(fleet.config.hosts).sort())
    if (!reachable.has(name)) parts.push(`${name} is unreachable (no snapshot)`);
  return parts.join('; ');
}

function recordedHost(
  fleet: Fleet,
  ledger: Ledger,
  agent: string,
): { name: string; uri: string } | undefined {
  for (const [name, h] of Object.entries(fleet.config.hosts).sort(([x], [y]) => x.localeCompare(y)))
    if (ledger.hosts[h.uri]?.[agent] !== undefined) return { name, uri: h.uri };
  return undefined;
}
