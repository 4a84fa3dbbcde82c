#!/usr/bin/env node
import { Command, CommanderError, Option } from 'commander';
import { registerAdd } from './commands/add.js';
import { registerAllocate } from './commands/allocate.js';
import { registerDestroy } from './commands/destroy.js';
import { registerDown } from './commands/down.js';
import { registerLogs } from './commands/logs.js';
import { registerPlan } from './commands/plan.js';
import { registerRemove } from './commands/remove.js';
import { registerSecrets } from './commands/secrets.js';
import { registerSpice } from './commands/spice.js';
import { registerSsh } from './commands/ssh.js';
import { registerStatus } from './commands/status.js';
import { registerUp } from './commands/up.js';
import { registerValidate } from './commands/validate.js';
import { registerXml } from './commands/xml.js';
import { EXIT_USAGE, exitCodeOf, ValidationError } from './errors.js';
import { LOG_LEVELS } from './logging.js';

const program = new Command('fleet')
  .description('Declarative fleet manager for AI-agent NixOS VMs on libvirt')
  .option('--dir <dir>', 'fleet repository (default: nearest parent of cwd with agents/fleet.yaml)')
  .option('--json', 'machine-readable output on stdout')
  .addOption(
    new Option('--log-level <level>', 'log level (logs go to stderr)').choices(LOG_LEVELS).default('warn'),
  )
  .exitOverride()
  .showHelpAfterError('(run fleet --help for usage)');

// One line per command; each command lives in commands/<name>.ts.
registerValidate(program);
registerAllocate(program);
registerXml(program);
registerPlan(program);
registerUp(program);
registerDown(program);
registerDestroy(program);
registerStatus(program);
registerSsh(program);
registerSpice(program);
registerLogs(program);
registerAdd(program);
registerRemove(program);
registerSecrets(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  process.exitCode = report(err);
}

/** The one place errors become messages and exit codes. */
function report(err: unknown): number {
  if (err instanceof CommanderError) {
    // Commander already printed help/version/usage text.
    return err.exitCode === 0 ? 0 : EXIT_USAGE;
  }
  const json = process.argv.includes('--json');
  if (err instanceof ValidationError) {
    if (json)
      process.stdout.write(`${JSON.stringify({ ok: false, diagnostics: err.diagnostics }, null, 2)}\n`);
    process.stderr.write(`${err.message}\n`);
    return exitCodeOf(err);
  }
  const message = err instanceof Error ? err.message : String(err);
  if (json) process.stdout.write(`${JSON.stringify({ ok: false, error: message }, null, 2)}\n`);
  process.stderr.write(`fleet: ${message}\n`);
  return exitCodeOf(err);
}
