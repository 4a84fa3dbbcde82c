import { allocateFleet } from '@agentfleet/app/allocate';
import { LEDGER_FILE } from '@agentfleet/app/fleet-files';
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
      const ledger = await allocateFleet(ctx);
      printResult(ctx, renderLedger(ledger), { ok: true, ledger });
    });
}
