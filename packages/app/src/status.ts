import type { DomainSummary } from '@agentfleet/core';
import { allocationOf } from '@agentfleet/core/ledger';
import { domainName } from '@agentfleet/core/model';
import { isActive } from '@agentfleet/core/plan/compute';
import { type AgentPhase, agentPhase } from '@agentfleet/core/provision/steps';
import { JsonStateStore } from '@agentfleet/engine/adapters/state-store';
import { stateFile } from '@agentfleet/engine/paths';
import { Connections } from './connections.js';
import type { AppContext } from './context.js';
import { UsageError } from './errors.js';
import { expandPath, readFleet, readLedger } from './fleet-files.js';

export interface AgentStatus {
  name: string;
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

/** Every named agent (default: all) as libvirt, the ledger and state.json see it; takes no lock. */
export async function fleetStatus(ctx: AppContext, names: readonly string[]): Promise<AgentStatus[]> {
  const fleet = readFleet(ctx.dir);
  const ledger = readLedger(ctx.dir);
  const stateDir = expandPath(ctx.dir, fleet.config.stateDir);
  const state = await new JsonStateStore(stateFile(stateDir)).load();
  const connections = new Connections();
  const domains = new Map<string, Promise<Map<string, DomainSummary>>>();
  const domainsOn = (uri: string) => {
    let p = domains.get(uri);
    if (!p) {
      p = connections
        .connect(uri)
        .then(async (hv) => new Map((await hv.listDomains()).map((d) => [d.name, d])));
      domains.set(uri, p);
    }
    return p;
  };
  const unknown = names.filter((n) => !fleet.agents.some((a) => a.name === n));
  if (unknown.length > 0) {
    throw new UsageError(
      `no agent named ${unknown.map((n) => `'${n}'`).join(', ')} (agents: ${fleet.agents.map((a) => a.name).join(', ') || 'none'})`,
    );
  }
  const agents = names.length ? fleet.agents.filter((a) => names.includes(a.name)) : fleet.agents;
  const now = Date.now();
  let rows: AgentStatus[];
  try {
    rows = await Promise.all(
      agents.map(async (agent): Promise<AgentStatus> => {
        const dom = (await domainsOn(agent.libvirtUri)).get(
          domainName(agent.name, fleet.config.domainPrefix),
        );
        const alloc = allocationOf(ledger, agent.libvirtUri, agent.name);
        const rt = state.agents[agent.name];
        const running = isActive(dom?.state);
        return {
          name: agent.name,
          state: dom?.state ?? 'undefined',
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
        };
      }),
    );
  } finally {
    await connections.closeAll();
  }
  return rows;
}
