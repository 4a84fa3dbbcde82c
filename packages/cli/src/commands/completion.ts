import { type Command, InvalidArgumentError } from 'commander';
import { printResult } from '../output.js';

const SHELLS = ['bash', 'zsh', 'fish'] as const;
type Shell = (typeof SHELLS)[number];

/** Global options every command accepts (kept in step with main.ts by the completion test). */
const GLOBAL_OPTIONS = ['--dir', '--json', '--log-level', '--log-format', '--help', '--version'];

/** A completion script for `shell`: command names, then agent names from agents/*.yaml. */
export function completionScript(shell: Shell, commands: readonly string[]): string {
  const words = commands.join(' ');
  const agents = `ls agents 2>/dev/null | sed -n 's/\\.yaml$//p' | grep -vx -e fleet -e ledger`;
  switch (shell) {
    case 'bash':
      return `# fleet completion for bash: source <(fleet completion bash)
_fleet() {
  local cur=\${COMP_WORDS[COMP_CWORD]}
  if [ "$COMP_CWORD" -eq 1 ] || [[ "$cur" == -* ]]; then
    COMPREPLY=($(compgen -W "${words} ${GLOBAL_OPTIONS.join(' ')}" -- "$cur"))
  else
    COMPREPLY=($(compgen -W "$(${agents})" -- "$cur"))
  fi
}
complete -F _fleet fleet
`;
    case 'zsh':
      return `#compdef fleet
# fleet completion for zsh: source <(fleet completion zsh)
_fleet() {
  if (( CURRENT == 2 )); then
    compadd -- ${words} ${GLOBAL_OPTIONS.join(' ')}
  else
    compadd -- $(${agents})
  fi
}
compdef _fleet fleet
`;
    case 'fish':
      return `# fleet completion for fish: fleet completion fish | source
complete -c fleet -f
complete -c fleet -n __fish_use_subcommand -a "${words}"
complete -c fleet -n 'not __fish_use_subcommand' -a "(${agents})"
${GLOBAL_OPTIONS.map((o) => `complete -c fleet -l ${o.slice(2)}`).join('\n')}
`;
  }
}

function shellOf(value: string): Shell {
  if (!(SHELLS as readonly string[]).includes(value))
    throw new InvalidArgumentError(`must be one of ${SHELLS.join(', ')}`);
  return value as Shell;
}

export function registerCompletion(program: Command, commands: readonly string[]): void {
  program
    .command('completion')
    .description('print a shell completion script')
    .argument('<shell>', SHELLS.join('|'), shellOf)
    .addHelpText(
      'after',
      '\nExamples:\n  source <(fleet completion bash)      # in ~/.bashrc\n  fleet completion fish | source       # in ~/.config/fish/config.fish',
    )
    .action((shell: Shell, _opts, command: Command) => {
      const script = completionScript(shell, commands);
      // Outside any fleet too (in ~/.bashrc), so no fleet context: only --json is read.
      if (command.optsWithGlobals<{ json?: boolean }>().json)
        printResult({ json: true, command: 'completion' }, script, { shell, script });
      else process.stdout.write(script);
    });
}
