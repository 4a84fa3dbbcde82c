import { fleetStatus } from '@agentfleet/app/status';
import type { Command } from 'commander';
import { paletteFor } from '../colour.js';
import { contextOf } from '../context.js';
import { printResult } from '../output.js';
import { agentNames } from './agent-name.js';
import { colourState } from './plan-colour.js';
import { formatTable } from './table.js';

export function registerStatus(program: Command): void {
  program
    .command('status')
    .description('state of every agent: domain state, ports, cores, bring-up phase, uptime')
    .argument('[names...]', 'agents (default: all)', agentNames)
    .addHelpText('after', '\nExamples:\n  fleet status\n  fleet --json status drago | jq .agents[0].phase')
    .action(async (names: string[], _opts, command: Command) => {
      const ctx = contextOf(command);
      const rows = await fleetStatus(ctx, names);
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
