import { LEDGER_FILE } from '@agentfleet/app/fleet-files';
import { importDomain } from '@agentfleet/app/import';
import { changeToJson } from '@agentfleet/core';
import type { ImportResult } from '@agentfleet/engine';
import type { Command } from 'commander';
import { contextOf } from '../context.js';
import { printResult } from '../output.js';
import { agentName } from './agent-name.js';
import { lockHolder } from './runtime.js';

export function registerImport(program: Command): void {
  program
    .command('import')
    .description(
      "adopt an existing domain named like a declared agent: record its ports, cores, MAC and disk in the ledger when they fit, then give it this fleet's metadata",
    )
    .argument('<name>', 'agent (declare it first, e.g. with fleet add)', agentName)
    .option('--dry-run', 'show what would be recorded and what would change, change nothing', false)
    .action(async (name: string, opts: { dryRun: boolean }, command: Command) => {
      const ctx = contextOf(command);
      const result = await importDomain(ctx, name, {
        dryRun: opts.dryRun,
        lock: lockHolder(ctx, `fleet import ${name}`),
      });
      // The ledger is the caller's to write; raw QEMU arguments are named, not shown (docs/json.md).
      const { ledger: _, ...shown } = result;
      printResult(ctx, render(result), { ...shown, changes: result.changes.map(changeToJson) });
    });
}

function render(r: ImportResult): string {
  if (r.alreadyOurs) return `domain ${r.domain} on ${r.uri} is already this fleet's: nothing to import`;
  const lines = [
    `${r.applied ? 'Imported' : 'Would import'} domain ${r.domain} on ${r.uri} as agent ${r.agent}:`,
  ];
  for (const f of r.fields) {
    lines.push(
      f.why === undefined
        ? `  ${f.field}: ${f.recorded} (kept)`
        : `  ${f.field}: ${f.found ?? '(none)'} -> ${f.recorded} (${f.why})`,
    );
  }
  lines.push(`  recorded in ${LEDGER_FILE}${r.applied ? '' : ' (not yet)'}`);
  if (r.changes.length > 0) {
    lines.push('  the definition changes:');
    for (const c of r.changes)
      lines.push(`    ~ ${c.field}: ${c.before ?? '(none)'} -> ${c.after ?? '(none)'}`);
  }
  if (r.applied) {
    lines.push("  the domain now carries this fleet's metadata");
    if (r.running && r.changes.length > 0) {
      lines.push(
        `  it is running: the new definition applies at its next start (fleet down ${r.agent}; fleet up ${r.agent})`,
      );
    }
  } else {
    lines.push('Dry run: nothing changed.');
  }
  return lines.join('\n');
}
