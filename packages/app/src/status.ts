import { allocationOf } from '@agentfleet/core/ledger';
import { type AgentSpec, domainName } from '@agentfleet/core/model';
import { isActive } from '@agentfleet/core/plan/compute';
import { DamagedStateError, emptyFleetState } from '@agentfleet/core/plan/state';
import { type AgentPhase, agentPhase } from '@agentfleet/core/provision/steps';
import type { LifecycleNotice, LifecycleSource } from '@agentfleet/core/usage';
import { JsonStateStore } from '@agentfleet/engine/adapters/state-store';
import { measureUsage, type UsageTable, watchUsage } from '@agentfleet/engine/agent-usage';
import { stateFile } from '@agentfleet/engine/paths';
import { type LibvirtHypervisor, LibvirtUsage } from '@agentfleet/libvirt';
import { Connections } from './connections.js';
import type { AppContext } from './context.js';
import { noAgentNamed } from './errors.js';
import { expandPath, readFleet, readLedger } from './fleet-files.js';

export interface AgentStatus {
  name: string;
  /** The fleet.yaml host it runs on, when its URI is one of them. */
  host: string | null;
  uri: string;
  state: string;
  sshPort: number | null;
  spicePort: number | null;
  cores: number[];
  phase: AgentPhase;
  /** The provisioning step that failed last, if the agent is stuck on one. */
  failedStep: string | null;
  uptimeSeconds: number | null;
  lastError: string | null;
}

export interface AgentStatusWithUsage extends AgentStatus {
  /** Share of the agent's vCPUs in use (0-100), measured over the sampling interval. */
  cpuPercent: number | null;
  memoryKiB: number | null;
  /** Resident memory of the agent's QEMU process on the host. */
  rssKiB: number | null;
  /** Bytes the agent's own disk file holds on the host, and the disk's virtual size. */
  diskUsedBytes: number | null;
  diskCapacityBytes: number | null;
}

export interface FleetStatus {
  agents: AgentStatusWithUsage[];
  /**
   * Why state.json could not be read: status only reads, so a damaged file costs the phases,
   * uptimes and errors it recorded, never the view of the domains.
   */
  stateDamage?: string;
}

/** Every named agent (default: all) as libvirt, the ledger and state.json see it, CPU % sampled over `intervalMs`; takes no lock. */
export async function fleetStatus(
  ctx: AppContext,
  names: readonly string[],
  intervalMs: number,
): Promise<FleetStatus> {
  const view = openStatus(ctx, names);
  try {
    return await view.rowsFor(await measureUsage(await view.hosts(), intervalMs));
  } finally {
    await view.close();
  }
}

/**
 * fleetStatus at start, after every libvirt lifecycle event and every `intervalMs`, until `signal`
 * aborts (then every subscription is closed).
 */
export async function watchFleetStatus(
  ctx: AppContext,
  names: readonly string[],
  opts: {
    intervalMs: number;
    signal: AbortSignal;
    onUpdate(status: FleetStatus, event: LifecycleNotice | null): void | Promise<void>;
  },
): Promise<void> {
  const view = openStatus(ctx, names);
  try {
    const hosts = await view.hosts();
    await watchUsage({
      hosts: hosts.map((h) => ({ usage: h, events: eventsOf(h, view.domains) })),
      intervalMs: opts.intervalMs,
      signal: opts.signal,
      onUpdate: async (usage, reason) =>
        opts.onUpdate(await view.rowsFor(usage), reason.kind === 'event' ? reason.event : null),
    });
  } finally {
    await view.close();
  }
}

/**
 * A host's lifecycle events for `domains` only: libvirt reports every domain on the host, and another
 * fleet's VM stopping is not this fleet's news.
 */
export function eventsOf(source: LifecycleSource, domains: ReadonlySet<string>): LifecycleSource {
  return {
    onLifecycle: (listener) =>
      source.onLifecycle((ev) => {
        if (domains.has(ev.domain)) listener(ev);
      }),
  };
}

function openStatus(ctx: AppContext, names: readonly string[]) {
  const fleet = readFleet(ctx.dir);
  const ledger = readLedger(ctx.dir);
  const stateDir = expandPath(ctx.dir, fleet.config.stateDir);
  const unknown = names.filter((n) => !fleet.agents.some((a) => a.name === n));
  if (unknown.length > 0) throw noAgentNamed(unknown, fleet);
  const agents: AgentSpec[] = names.length
    ? fleet.agents.filter((a) => names.includes(a.name))
    : fleet.agents;
  const uris = [...new Set(agents.map((a) => a.libvirtUri))];
  const connections = new Connections();
  return {
    domains: new Set(agents.map((a) => domainName(a.name, fleet.config.domainPrefix))),
    hosts: () =>
      Promise.all(
        uris.map(async (uri) => {
          const hv = (await connections.connect(uri)) as LibvirtHypervisor;
          return new LibvirtUsage(hv.connection);
        }),
      ),
    rowsFor: async (usage: UsageTable): Promise<FleetStatus> => {
      let stateDamage: string | undefined;
      const state = await new JsonStateStore(stateFile(stateDir)).load().catch((err: unknown) => {
        if (!(err instanceof DamagedStateError)) throw err;
        stateDamage = err.message;
        return emptyFleetState();
      });
      const now = Date.now();
      const rows = agents.map((agent): AgentStatusWithUsage => {
        const u = usage.get(domainName(agent.name, fleet.config.domainPrefix));
        const alloc = allocationOf(ledger, agent.libvirtUri, agent.name);
        const rt = state.agents[agent.name];
        const running = isActive(u?.state);
        return {
          name: agent.name,
          host: agent.host ?? null,
          uri: agent.libvirtUri,
          state: u?.state ?? 'undefined',
          sshPort: alloc?.sshPort ?? null,
          spicePort: alloc?.spicePort ?? null,
          cores: alloc?.cores ?? [],
          phase: agentPhase(rt?.phase, rt?.provision),
          failedStep: rt?.provision?.failure?.step ?? null,
          uptimeSeconds:
            running && rt?.startedAt
              ? Math.max(0, Math.round((now - Date.parse(rt.startedAt)) / 1000))
              : null,
          lastError: rt?.lastError ?? null,
          cpuPercent: running ? (u?.cpuPercent ?? null) : null,
          memoryKiB: running ? (u?.memoryKiB ?? null) : null,
          rssKiB: running ? (u?.rssKiB ?? null) : null,
          diskUsedBytes: u?.diskUsedBytes ?? null,
          diskCapacityBytes: u?.diskCapacityBytes ?? null,
        };
      });
      return { agents: rows, ...(stateDamage && { stateDamage }) };
    },
    close: () => connections.closeAll(),
  };
}
