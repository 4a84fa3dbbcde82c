#!/usr/bin/env node
import { Command, CommanderError, Option } from 'commander';
import { commandWord } from './command-line.js';
import { EXIT_USAGE, exitCodeOf, ValidationError } from './errors.js';
import { LOG_LEVELS } from './logging.js';
import { printNote } from './output.js';

const program = new Command('fleet')
  .description('Declarative fleet manager for AI-agent NixOS VMs on libvirt')
  .option('--dir <dir>', 'fleet repository (default: nearest parent of cwd with agents/fleet.yaml)')
  .option('--json', 'machine-readable output on stdout')
  .addOption(
    new Option('--log-level <level>', 'log level (logs go to stderr)').choices(LOG_LEVELS).default('warn'),
  )
  .exitOverride()
  .showHelpAfterError('(run fleet --help for usage)');

type Registrar = (program: Command) => void;

// One line per command; each command lives in commands/<name>.ts. Only the invoked command's
// module is loaded, so `fleet validate` neither pays for nor depends on libvirt, ssh2 or the engine.
const COMMANDS: Record<string, () => Promise<Registrar>> = {
  validate: async () => (await import('./commands/validate.js')).registerValidate,
  allocate: async () => (await import('./commands/allocate.js')).registerAllocate,
  xml: async () => (await import('./commands/xml.js')).registerXml,
  plan: async () => (await import('./commands/plan.js')).registerPlan,
  up: async () => (await import('./commands/up.js')).registerUp,
  down: async () => (await import('./commands/down.js')).registerDown,
  destroy: async () => (await import('./commands/destroy.js')).registerDestroy,
  status: async () => (await import('./commands/status.js')).registerStatus,
  ssh: async () => (await import('./commands/ssh.js')).registerSsh,
  spice: async () => (await import('./commands/spice.js')).registerSpice,
  logs: async () => (await import('./commands/logs.js')).registerLogs,
  add: async () => (await import('./commands/add.js')).registerAdd,
  remove: async () => (await import('./commands/remove.js')).registerRemove,
  secrets: async () => (await import('./commands/secrets.js')).registerSecrets,
  provision: async () => (await import('./commands/provision.js')).registerProvision,
  rebuild: async () => (await import('./commands/rebuild.js')).registerRebuild,
  keys: async () => (await import('./commands/keys.js')).registerKeys,
};

try {
  const word = commandWord(process.argv.slice(2));
  // Help, `help <cmd>` and unknown commands (for suggestions) need every command registered.
  const wanted = word !== undefined && word in COMMANDS ? [word] : Object.keys(COMMANDS);
  // Sequential: concurrent dynamic imports of one CommonJS dependency trip Node 20's loader
  // ("request for 'commander' is not in cache").
  for (const name of wanted) (await COMMANDS[name]?.())?.(program);
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
    printNote(err.message);
    return exitCodeOf(err);
  }
  const message = err instanceof Error ? err.message : String(err);
  if (json) process.stdout.write(`${JSON.stringify({ ok: false, error: message }, null, 2)}\n`);
  // A failure can quote guest output (a rebuild's last lines).
  printNote(`fleet: ${message}`);
  return exitCodeOf(err);
}
