import { allocationOf } from '@agentfleet/core/ledger';
import { domainName } from '@agentfleet/core/model';
import { isActive } from '@agentfleet/core/plan/compute';
import { DamagedStateError, emptyFleetState } from '@agentfleet/core/plan/state';
import { type AgentPhase, agentPhase } from '@agentfleet/core/provision/steps';
import { sanitizeTerminalText } from '@agentfleet/core/terminal-text';
import { JsonStateStore } from '@agentfleet/engine/adapters/state-store';
import { measureUsage, type UsageTable, watchUsage } from '@agentfleet/engine/agent-usage';
import { stateFile } from '@agentfleet/engine/paths';
import { type LibvirtHypervisor, LibvirtUsage } from '@agentfleet/libvirt';
import { type Command, InvalidArgumentError } from 'commander';
import { paletteFor } from '../colour.js';
import { contextOf } from '../context.js';
import { UsageError } from '../errors.js';
import { expandPath, readFleet, readLedger } from '../fleet-files.js';
import { printResult } from '../output.js';
import { agentNames } from './agent-name.js';
import { Connections } from './connections.js';
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

interface StatusOptions {
  watch?: boolean;
  interval: number;
}

export function registerStatus(program: Command): void {
  program
    .command('status')
    .description(
      'state of every agent: domain state, ports, cores, bring-up phase, uptime, CPU %, memory and disk use',
    )
    .argument('[names...]', 'agents (default: all)', agentNames)
    .option(
      '-w, --watch',
      'live table: redrawn on every libvirt lifecycle event and every --interval; Ctrl-C exits',
    )
    .option(
      '-i, --interval <seconds>',
      'CPU % sampling window, and the refresh period of --watch',
      positiveNumber,
      2,
    )
    .addHelpText(
      'after',
      `
CPU is the share of the agent's vCPUs used over the sampling window (status samples twice,
--interval apart, when an agent runs). MEM is the guest's memory (balloon) and the QEMU process's
resident memory on the host; DISK is what the agent's own disk file holds on the host (an overlay
holds only what changed from the base) over the disk's size.
With --json, --watch prints one JSON object per line (NDJSON): {"event": {"domain", "kind"} | null, "agents": [...]}.

Examples:
  fleet status
  fleet --json status drago | jq .agents[0].phase
  fleet status --watch
  fleet --json status --watch | jq -c '{event, states: [.agents[] | .state]}'`,
    )
    .action(async (names: string[], opts: StatusOptions, command: Command) => {
      const ctx = contextOf(command);
      const fleet = readFleet(ctx.dir);
      const ledger = readLedger(ctx.dir);
      const stateDir = expandPath(ctx.dir, fleet.config.stateDir);
      const unknown = names.filter((n) => !fleet.agents.some((a) => a.name === n));
      if (unknown.length > 0) {
        throw new UsageError(
          `no agent named ${unknown.map((n) => `'${n}'`).join(', ')} (agents: ${fleet.agents.map((a) => a.name).join(', ') || 'none'})`,
        );
      }
      const agents = names.length ? fleet.agents.filter((a) => names.includes(a.name)) : fleet.agents;
      const uris = [...new Set(agents.map((a) => a.libvirtUri))];
      const connections = new Connections();
      try {
        const hosts = await Promise.all(
          uris.map(async (uri) => {
            const hv = (await connections.connect(uri)) as LibvirtHypervisor;
            return new LibvirtUsage(hv.connection);
          }),
        );
        // Status only reads: a damaged state.json costs the phases, uptimes and errors it recorded,
        // never the view of the domains, and the damage is named.
        let stateDamage: string | undefined;
        const rowsFor = async (usage: UsageTable): Promise<AgentStatusWithUsage[]> => {
          const state = await new JsonStateStore(stateFile(stateDir)).load().catch((err: unknown) => {
            if (!(err instanceof DamagedStateError)) throw err;
            stateDamage = err.message;
            return emptyFleetState();
          });
          const now = Date.now();
          return agents.map((agent) => {
            const u = usage.get(domainName(agent.name, fleet.config.domainPrefix));
            const alloc = allocationOf(ledger, agent.libvirtUri, agent.name);
            const rt = state.agents[agent.name];
            const running = isActive(u?.state);
            return {
              name: agent.name,
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
        };
        const intervalMs = opts.interval * 1000;
        if (!opts.watch) {
          const rows = await rowsFor(await measureUsage(hosts, intervalMs));
          const damage = stateDamage
            ? `\nstate.json is damaged (${stateDamage}): phases, uptimes and errors are unknown; ` +
              "repair the file or delete it (the next 'fleet up' rebuilds it; pins committed in secrets/hosts still hold)"
            : '';
          printResult(ctx, renderStatus(rows) + damage, {
            agents: rows,
            ...(stateDamage && { stateDamage }),
          });
          return;
        }
        await watchStatus(ctx.json, hosts, intervalMs, rowsFor);
      } finally {
        await connections.closeAll();
      }
    });
}

/** Redraws until Ctrl-C (or SIGTERM), which ends the watch cleanly: exit 0, subscriptions closed. */
async function watchStatus(
  json: boolean,
  hosts: LibvirtUsage[],
  intervalMs: number,
  rowsFor: (usage: UsageTable) => Promise<AgentStatusWithUsage[]>,
): Promise<void> {
  const ctl = new AbortController();
  const stop = () => ctl.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const redraw = process.stdout.isTTY && !json;
  try {
    await watchUsage({
      hosts: hosts.map((h) => ({ usage: h, events: h })),
      intervalMs,
      signal: ctl.signal,
      onUpdate: async (usage, reason) => {
        const rows = await rowsFor(usage);
        const event = reason.kind === 'event' ? reason.event : null;
        if (json) {
          process.stdout.write(`${JSON.stringify({ event, agents: rows })}\n`);
          return;
        }
        const head = event
          ? `${new Date().toLocaleTimeString()}  ${event.domain} ${event.kind}`
          : new Date().toLocaleTimeString();
        // Home + clear on a terminal; a log (pipe) keeps every table, one after another.
        process.stdout.write(
          sanitizeTerminalText(`${redraw ? '\x1b[H\x1b[2J' : ''}${head}\n${renderStatus(rows)}\n`),
        );
      },
    });
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}

function renderStatus(rows: AgentStatusWithUsage[]): string {
  const c = paletteFor(process.stdout);
  return formatTable(
    ['NAME', 'STATE', 'SSH', 'SPICE', 'CORES', 'PHASE', 'UPTIME', 'CPU', 'MEM (GUEST/HOST)', 'DISK'],
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
      r.cpuPercent === null ? '-' : `${r.cpuPercent.toFixed(1)}%`,
      r.memoryKiB === null
        ? '-'
        : `${formatBytes(r.memoryKiB * 1024)}/${r.rssKiB === null ? '-' : formatBytes(r.rssKiB * 1024)}`,
      r.diskUsedBytes === null
        ? '-'
        : `${formatBytes(r.diskUsedBytes)}/${r.diskCapacityBytes === null ? '-' : formatBytes(r.diskCapacityBytes)}`,
    ]),
  );
}

/** 1536 -> "1.5K", binary units, like `ls -h`. */
export function formatBytes(n: number): string {
  const units = ['B', 'K', 'M', 'G', 'T'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${v}B` : `${v < 10 ? v.toFixed(1) : Math.round(v)}${units[i]}`;
}

function positiveNumber(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('must be a positive number of seconds');
  return n;
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
