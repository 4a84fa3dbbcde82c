/** Global options that take a value, so the word after them is not the command name. */
const VALUE_OPTIONS = new Set(['--dir', '--log-level', '--log-format']);

/** The command word of `fleet [global options] <command> ...`, or undefined (help, no command). */
export function commandWord(args: readonly string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (a === '--') return args[i + 1];
    if (VALUE_OPTIONS.has(a)) {
      i++;
      continue;
    }
    if (!a.startsWith('-')) return a;
  }
  return undefined;
}

/**
 * `fleet --version` (or -V) and nothing that needs the command tree: no command word, no help. Commander answers
 * it from the program alone, so registering every command (loading ~500 modules, ssh2 and age among them) would
 * only make it slow.
 */
export function asksVersionOnly(args: readonly string[]): boolean {
  if (commandWord(args) !== undefined) return false;
  const flags = args.filter((a) => a.startsWith('-'));
  return (
    flags.some((a) => a === '-V' || a === '--version') && !flags.some((a) => a === '-h' || a === '--help')
  );
}

/** Commands whose first argument is a subcommand, named together (`secrets add`). */
const GROUPS = new Set(['secrets']);

/** The command as the --json envelope names it: `up`, `secrets add`; `fleet` with none. */
export function commandName(args: readonly string[]): string {
  const word = commandWord(args);
  if (word === undefined) return 'fleet';
  if (!GROUPS.has(word)) return word;
  const rest = args.slice(args.indexOf(word) + 1);
  const sub = rest.find((a) => !a.startsWith('-'));
  return sub === undefined ? word : `${word} ${sub}`;
}
