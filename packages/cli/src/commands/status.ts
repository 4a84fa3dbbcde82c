import type { DomainSummary } from '@agentfleet/core';
import { allocationOf } from '@agentfleet/core/ledger';
import { domainName } from '@agentfleet/core/model';
import { isActive } from '@agentfleet/core/plan/compute';
import { describeStep } from '@agentfleet/core/provision/steps';
import { JsonStateStore } from '@agentfleet/engine/adapters/state-store';
import { stateFile } from '@agentfleet/engine/paths';
import type { Command } from 'commander';
import { contextOf } from '../context.js';
import { expandPath, readFleet, readLedger } from '../fleet-files.js';
import { printResult } from '../output.js';
import { agentNames } from './agent-name.js';
import { Connections } from './connections.js';
import { formatTable } from './table.js';

export interface AgentStatus {
  name: string;
  state: string;
  sshPort: number | null;
  spicePort: number | null;
  cores: number[];
  phase: string;
  uptimeSeconds: number | null;
  lastError: string | null;
}

export function registerStatus(program: Command): void {
  program
    .command('status')
    .description('state of every agent: domain state, ports, cores, bring-up phase, uptime')
    .argument('[names...]', 'agents (default: all)', agentNames)
    .action(async (names: string[], _opts, command: Command) => {
      const ctx = contextOf(command);
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
      const agents = names.length ? fleet.agents.filter((a) => names.includes(a.name)) : fleet.agents;
      const now = Date.now();
      let rows: AgentStatus[];
      try {
        rows = await Promise.all(
          agents.map(async (agent): Promise<AgentStatus> => {
            const dom = (await domainsOn(agent.libvirtUri)).get(domainName(agent.name));
            const alloc = allocationOf(ledger, agent.libvirtUri, agent.name);
            const rt = state.agents[agent.name];
            const running = isActive(dom?.state);
            return {
              name: agent.name,
              state: dom?.state ?? 'undefined',
              sshPort: alloc?.sshPort ?? null,
              spicePort: alloc?.spicePort ?? null,
              cores: alloc?.cores ?? [],
              // Once provisioning has started, its step says more than the bring-up phase.
              phase: rt?.provision ? describeStep(rt.phase, rt.provision) : (rt?.phase ?? 'declared'),
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
      const table = formatTable(
        ['NAME', 'STATE', 'SSH', 'SPICE', 'CORES', 'PHASE', 'UPTIME'],
        rows.map((r) => [
          r.name,
          r.state,
          r.sshPort?.toString() ?? '-',
          r.spicePort?.toString() ?? '-',
          r.cores.join(',') || '-',
          r.lastError ? `${r.phase} (failed)` : r.phase,
          r.uptimeSeconds === null ? '-' : formatDuration(r.uptimeSeconds),
        ]),
      );
      printResult(ctx, table, { agents: rows });
    });
}

export function formatDuration(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  return h > 0
    ? `${h}h${String(m).padStart(2, '0')}m`
    : m > 0
      ? `${m}m${String(s).padStart(2, '0')}s`
      : `${s}s`;
}
