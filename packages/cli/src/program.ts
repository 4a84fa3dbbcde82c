// The `fleet` command tree: global options, and each command registered from its own module.
import { createRequire } from 'node:module';
import { Command, Option } from 'commander';
import { addHelpExamples } from './help-examples.js';
import { LOG_FORMATS, LOG_LEVELS } from './logging.js';

/**
 * The `fleet` command line with `word`'s command registered (all of them for help, `help <cmd>`,
 * an unknown word that wants suggestions, or no word; none for `versionOnly`).
 */
export async function fleetProgram(
  word: string | undefined,
  opts: { versionOnly?: boolean } = {},
): Promise<Command> {
  const program = new Command('fleet')
    .description('Declarative fleet manager for AI-agent NixOS VMs on libvirt')
    .option('--dir <dir>', 'fleet repository (default: nearest parent of cwd with agents/fleet.yaml)')
    .option('--json', 'machine-readable output on stdout')
    .addOption(
      new Option('--log-level <level>', 'log level (logs go to stderr)').choices(LOG_LEVELS).default('warn'),
    )
    .addOption(
      new Option(
        '--log-format <format>',
        'log format (default: pretty on a terminal, json otherwise)',
      ).choices(LOG_FORMATS),
    )
    .version(packageVersion(), '-V, --version', 'print the version')
    // Subcommand help lists --dir, --json... too: they work after the command word as well.
    .configureHelp({ showGlobalOptions: true })
    .exitOverride()
    .showHelpAfterError('(run fleet --help for usage)');
  // Help, `help <cmd>` and unknown commands (for suggestions) need every command registered.
  const wanted = opts.versionOnly
    ? []
    : word !== undefined && word in COMMANDS
      ? [word]
      : Object.keys(COMMANDS);
  // Sequential: concurrent dynamic imports of one CommonJS dependency trip Node 20's loader
  // ("request for 'commander' is not in cache").
  for (const name of wanted) (await COMMANDS[name]?.())?.(program);
  addHelpExamples(program);
  return program;
}

/** The CLI package's version (what `fleet --version` prints). */
function packageVersion(): string {
  return (createRequire(import.meta.url)('../package.json') as { version: string }).version;
}

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
  console: async () => (await import('./commands/console.js')).registerConsole,
  restart: async () => (await import('./commands/restart.js')).registerRestart,
  exec: async () => (await import('./commands/exec.js')).registerExec,
  snapshot: async () => (await import('./commands/snapshot.js')).registerSnapshot,
  snapshots: async () => (await import('./commands/snapshot.js')).registerSnapshots,
  revert: async () => (await import('./commands/snapshot.js')).registerRevert,
  reset: async () => (await import('./commands/reset.js')).registerReset,
  cp: async () => (await import('./commands/cp.js')).registerCp,
  add: async () => (await import('./commands/add.js')).registerAdd,
  remove: async () => (await import('./commands/remove.js')).registerRemove,
  import: async () => (await import('./commands/import.js')).registerImport,
  secrets: async () => (await import('./commands/secrets.js')).registerSecrets,
  provision: async () => (await import('./commands/provision.js')).registerProvision,
  rebuild: async () => (await import('./commands/rebuild.js')).registerRebuild,
  completion: async () => {
    const { registerCompletion } = await import('./commands/completion.js');
    return (p) => registerCompletion(p, Object.keys(COMMANDS));
  },
  keys: async () => (await import('./commands/keys.js')).registerKeys,
  doctor: async () => (await import('./commands/doctor.js')).registerDoctor,
};
