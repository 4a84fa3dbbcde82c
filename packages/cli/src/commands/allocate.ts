import { join } from 'node:path';
import { allocate, type HostSnapshot, renderLedger } from '@agentfleet/core';
import type { Command } from 'commander';
import { writeFileAtomic } from '../atomic-write.js';
import { contextOf } from '../context.js';
import { ValidationError } from '../errors.js';
import { isLocalUri, LEDGER_FILE, readFleet, readLedger } from '../fleet-files.js';
import { localHostSnapshot } from '../host-snapshot.js';
import { printResult } from '../output.js';

export function registerAllocate(program: Command): void {
  program
    .command('allocate')
    .description(`allocate ports, cores and MACs for new agents and record them in ${LEDGER_FILE}`)
    .action((_opts, command: Command) => {
      const ctx = contextOf(command);
      const fleet = readFleet(ctx.dir);
      const prev = readLedger(ctx.dir);
      // Only local URIs can be inspected from here; remote hosts keep their recorded entries.
      const uris = [...new Set(fleet.agents.map((a) => a.libvirtUri))].filter(isLocalUri);
      const hosts: HostSnapshot[] = uris.map(localHostSnapshot);
      const result = allocate(prev, fleet, hosts);
      if (!result.ok) throw new ValidationError(result.diagnostics);
      const text = renderLedger(result.value);
      writeFileAtomic(join(ctx.dir, LEDGER_FILE), text);
      ctx.log.info({ file: LEDGER_FILE }, 'ledger written');
      printResult(ctx, text, { ok: true, ledger: result.value });
    });
}
