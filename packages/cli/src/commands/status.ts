import {
  type AgentStatusWithUsage,
  type FleetStatus,
  fleetStatus,
  watchFleetStatus,
} from '@agentfleet/app/status';
import { isLocalUri } from '@agentfleet/core/ssh/host-ssh';
import { sanitizeTerminalText } from '@agentfleet/core/terminal-text';
import type { LifecycleNotice } from '@agentfleet/core/usage';
import { type Command, InvalidArgumentError } from 'commander';
import { paletteFor } from '../colour.js';
import { contextOf } from '../context.js';
import { printResult } from '../output.js';
import { agentNames } from './agent-name.js';
import { colourState } from './plan-colour.js';
import { formatTable } from './table.js';

interface StatusOptions {
  watch?: boolean;
  interval?: number;
}

// A one-shot status waits out its CPU window, and people run it often (and scripts, for a phase):
// a quarter second reads "busy or idle" as well as top's seconds do. A live table refreshes slower.
const ONE_SHOT_WINDOW_S = 0.25;
const WATCH_PERIOD_S = 2;

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
      `CPU % sampling window (default ${ONE_SHOT_WINDOW_S}), and the refresh period of --watch (default ${WATCH_PERIOD_S})`,
      positiveNumber,
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
      const intervalMs = (opts.interval ?? (opts.watch ? WATCH_PERIOD_S : ONE_SHOT_WINDOW_S)) * 1000;
      if (opts.watch) {
        await watchStatus(ctx.json, (signal, onUpdate) =>
          watchFleetStatus(ctx, names, { intervalMs, signal, onUpdate }),
        );
        return;
      }
      const status = await fleetStatus(ctx, names, intervalMs);
      const damage = status.stateDamage
        ? `\nstate.json is damaged (${status.stateDamage}): phases, uptimes and errors are unknown; ` +
          "repair the file or delete it (the next 'fleet up' rebuilds it; pins committed in secrets/hosts still hold)"
        : '';
      printResult(ctx, renderStatus(status.agents) + damage, { ...status });
    });
}

/** Redraws until Ctrl-C (or SIGTERM), which ends the watch cleanly: exit 0, subscriptions closed. */
async function watchStatus(
  json: boolean,
  watch: (
    signal: AbortSignal,
    onUpdate: (status: FleetStatus, event: LifecycleNotice | null) => void,
  ) => Promise<void>,
): Promise<void> {
  const ctl = new AbortController();
  const stop = () => ctl.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const redraw = process.stdout.isTTY && !json;
  try {
    await watch(ctl.signal, (status, event) => {
      const rows = status.agents;
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
    });
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}

function renderStatus(rows: AgentStatusWithUsage[]): string {
  const c = paletteFor(process.stdout);
  // Only fleets spanning hosts get the column: a one-host fleet's table stays as it was.
  const spans = rows.some((r) => r.host !== null || !isLocalUri(r.uri));
  return formatTable(
    [
      'NAME',
      ...(spans ? ['HOST'] : []),
      'STATE',
      'SSH',
      'SPICE',
      'CORES',
      'PHASE',
      'UPTIME',
      'CPU',
      'MEM (GUEST/HOST)',
      'DISK',
    ],
    rows.map((r) => [
      r.name,
      ...(spans ? [r.host ?? r.uri] : []),
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
