import { availableParallelism } from 'node:os';
import { readFleet, readLedger } from '@agentfleet/app/fleet-files';
import { isLocalUri } from '@agentfleet/app/host-snapshot';
import { agentsJsonDiagnostics } from '@agentfleet/app/nix-data';
import { shareDirs } from '@agentfleet/app/share-dirs';
import { hostFitDiagnostics } from '@agentfleet/core/host-fit';
import type { Command } from 'commander';
import { contextOf } from '../context.js';
import { ValidationError } from '../errors.js';
import { printResult } from '../output.js';

export function registerValidate(program: Command): void {
  program
    .command('validate')
    .description('check agents/*.yaml and the ledger; exit 2 with file:line:column on problems')
    .action((_opts, command: Command) => {
      const ctx = contextOf(command);
      const fleet = readFleet(ctx.dir);
      readLedger(ctx.dir);
      // Agents on this machine must also fit its CPUs; remote hosts are checked by `allocate`.
      const uris = [...new Set(fleet.agents.map((a) => a.libvirtUri))].filter(isLocalUri);
      const misfits = uris.flatMap((uri) => hostFitDiagnostics(fleet, { uri, cpus: availableParallelism() }));
      const problems = [
        ...misfits,
        ...agentsJsonDiagnostics(ctx, fleet),
        ...shareDirs(ctx.dir, fleet).diagnostics,
      ];
      if (problems.length > 0) throw new ValidationError(problems);
      const names = fleet.agents.map((a) => a.name);
      printResult(ctx, `ok: ${names.length} agent(s): ${names.join(', ')}`, { ok: true, agents: names });
    });
}
