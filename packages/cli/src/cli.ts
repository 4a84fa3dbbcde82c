// The CLI's body: bundled with everything it imports into dist/fleet.cjs (scripts/bundle-cli.mjs), which
// main.ts runs. A CommonJS bundle cannot await at the top level, hence run().
import { CommanderError } from 'commander';
import { paletteFor } from './colour.js';
import { asksVersionOnly, commandName, commandWord } from './command-line.js';
import { EXIT_OK, EXIT_USAGE, exitCodeOf, jsonErrorOf, ValidationError } from './errors.js';
import { interrupted } from './interrupt.js';
import { envelope, type JsonError, printNote } from './output.js';
import { fleetProgram } from './program.js';

// `fleet completion bash | head` closing the pipe early is not an error worth a stack trace.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

void run();

async function run(): Promise<void> {
  try {
    const args = process.argv.slice(2);
    const program = await fleetProgram(commandWord(args), { versionOnly: asksVersionOnly(args) });
    await program.parseAsync(process.argv);
  } catch (err) {
    process.exitCode = report(err);
  }
}

/** The one place errors become messages and exit codes (and, with --json, the error envelope). */
function report(err: unknown): number {
  const json = process.argv.includes('--json');
  const command = commandName(process.argv.slice(2));
  const printJson = (e: JsonError, data: Record<string, unknown> = {}) => {
    if (json && !interrupted())
      process.stdout.write(`${JSON.stringify(envelope(command, data, e), null, 2)}\n`);
  };
  if (err instanceof CommanderError) {
    // Commander already printed help/version/usage text.
    if (err.exitCode === 0) return EXIT_OK;
    const help = command === 'fleet' ? 'fleet --help' : `fleet ${command} --help`;
    printJson({ code: 'usage', message: err.message.replace(/^error: /, ''), remedy: `see \`${help}\`` });
    return EXIT_USAGE;
  }
  if (interrupted()) return exitCodeOf(err);
  if (err instanceof ValidationError) {
    printJson(jsonErrorOf(err, command), { diagnostics: err.diagnostics });
    printNote(err.message);
    return exitCodeOf(err);
  }
  printJson(jsonErrorOf(err, command));
  const e = jsonErrorOf(err);
  const red = paletteFor(process.stderr).red;
  // A failure can quote guest output (a rebuild's last lines): rendered inert before the colour is added.
  printNote(`${red('fleet:')} ${e.message}${e.remedy ? `\n  ${e.remedy}` : ''}`);
  return exitCodeOf(err);
}
