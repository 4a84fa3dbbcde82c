import { Connections } from '@agentfleet/app/connections';
import { expandPath, readFleet, readLedger } from '@agentfleet/app/fleet-files';
import type { DomainSummary } from '@agentfleet/core';
import { allocationOf } from '@agentfleet/core/ledger';
import { domainName } from '@agentfleet/core/model';
import { isActive } from '@agentfleet/core/plan/compute';
import { type AgentPhase, agentPhase } from '@agentfleet/core/provision/steps';
import { JsonStateStore } from '@agentfleet/engine/adapters/state-store';
import { stateFile } from '@agentfleet/engine/paths';
import type { Command } from 'commander';
import { paletteFor } from '../colour.js';
import { contextOf } from '../context.js';
import { UsageError } from '../errors.js';
import { printResult } from '../output.js';
import { agentNames } from './agent-name.js';
import { colourState } from './plan-colour.js';
import { formatTable } from './table.js';

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

export function registerStatus(program: Command): void {
  program
    .command('status')
    .description('state of every agent: domain state, ports, cores, bring-up phase, uptime')
    .argument('[names...]', 'agents (default: all)', agentNames)
    .addHelpText('after', '\nExamples:\n  fleet status\n  fleet --json status drago | jq .agents[0].phase')
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
      const c = paletteFor(process.stdout);
      const table = formatTable(
        ['NAME', 'STATE', 'SSH', 'SPICE', 'CORES', 'PHASE', 'UPTIME'],
        rows.map((r) => [
          r.name,
          colourState(r.state, c),
          r.sshPort?.toString() ?? '-',
          r.spicePort?.toString() ?? '-',
          r.cores.join(',') || '-',
          r.failedStep
            ? c.red(`${r.phase} (${r.failedStep} failed)`)
            : r.lastError
              ? c.red(`${r.phase} (failed)`)
              : r.phase,
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
