import { LEDGER_FILE, readFleet } from '@agentfleet/app/fleet-files';
import { regenerateAgentsJson } from '@agentfleet/app/nix-data';
import { renderLedger } from '@agentfleet/core/ledger-file';
import type { Command } from 'commander';
import { contextOf } from '../context.js';
import { printResult } from '../output.js';

export function registerAllocate(program: Command): void {
  program
    .command('allocate')
    .description(`allocate ports, cores and MACs for new agents and record them in ${LEDGER_FILE}`)
    .action(async (_opts, command: Command) => {
      const ctx = contextOf(command);
      const fleet = readFleet(ctx.dir);
      // libvirt (a native addon) loads only once the files are known to be valid.
      const { allocateLedger, Connections } = await import('@agentfleet/app/runtime');
      // Checked against this machine's listeners and every libvirt domain on each local URI;
      // remote hosts keep their recorded entries.
      const connections = new Connections();
      try {
        const ledger = await allocateLedger(ctx, fleet, connections, true);
        regenerateAgentsJson(ctx, fleet);
        printResult(ctx, renderLedger(ledger), { ok: true, ledger });
      } finally {
        await connections.closeAll();
      }
    });
}
