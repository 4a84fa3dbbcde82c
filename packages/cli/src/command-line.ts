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
