import type { Command } from 'commander';
import { contextOf } from '../context.js';
import { readFleet, readLedger } from '../fleet-files.js';
import { printResult } from '../output.js';

export function registerValidate(program: Command): void {
  program
    .command('validate')
    .description('check agents/*.yaml and the ledger; exit 2 with file:line:column on problems')
    .action((_opts, command: Command) => {
      const ctx = contextOf(command);
      const fleet = readFleet(ctx.dir);
      readLedger(ctx.dir);
      const names = fleet.agents.map((a) => a.name);
      printResult(ctx, `ok: ${names.length} agent(s): ${names.join(', ')}`, { ok: true, agents: names });
    });
}
