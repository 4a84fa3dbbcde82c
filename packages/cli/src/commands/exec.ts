import { execOnFleet } from '@agentfleet/app/exec';
import { sanitizeTerminalText } from '@agentfleet/core/terminal-text';
import { execSucceeded } from '@agentfleet/engine';
import type { Command } from 'commander';
import { paletteFor } from '../colour.js';
import { contextOf } from '../context.js';
import { UsageError } from '../errors.js';
import { printResult } from '../output.js';
import { agentName } from './agent-name.js';
import { positiveInt } from './up.js';

interface ExecOpts {
  all?: boolean;
  tag?: string;
  concurrency: number;
}

export function registerExec(program: Command): void {
  program
    .command('exec')
    .description(
      "run a command on agents over fleet's pinned SSH, in parallel; output prefixed per agent, a summary of exit codes; exits 1 if any failed",
    )
    .argument('[names...]', 'agents (or --all, or --tag T)')
    .option('--all', 'every agent')
    .option('--tag <tag>', 'agents whose YAML lists this tag (tags: [..])')
    .option('-c, --concurrency <n>', 'agents running the command at once', positiveInt, 8)
    .addHelpText(
      'after',
      "\nThe command follows --, and runs through the guest's shell as fleet's login user.\n" +
        'Examples:\n  fleet exec drago luce -- uptime\n  fleet exec --tag ci -c 2 -- "systemctl is-active nix-daemon"\n  fleet exec --all -- df -h /',
    )
    .action(async (args: string[], opts: ExecOpts, command: Command) => {
      const ctx = contextOf(command);
      const dash = process.argv.indexOf('--');
      const words = dash < 0 ? [] : process.argv.slice(dash + 1);
      // Words after -- are the command, not agent names (commander hands both over as operands).
      const names = args.slice(0, args.length - words.length).map(checkedName);
      if (words.length === 0)
        throw new UsageError('no command: put it after --, e.g. fleet exec drago -- uptime');
      let width = 0;
      const palette = paletteFor(process.stdout);
      const outcomes = await execOnFleet(
        ctx,
        {
          names,
          ...(opts.all && { all: true }),
          ...(opts.tag !== undefined && { tag: opts.tag }),
          command: words.join(' '),
          concurrency: opts.concurrency,
        },
        {
          agents: (agents) => {
            width = Math.max(...agents.map((a) => a.length));
          },
          onLine: (agent, line, stream) => {
            if (ctx.json) return;
            const prefix = `${agent.padEnd(width)} |`;
            const out = stream === 'stderr' ? process.stderr : process.stdout;
            // Guest output is data: it may not drive the operator's terminal.
            out.write(`${palette.dim(prefix)} ${sanitizeTerminalText(line)}\n`);
          },
        },
      );
      const human = outcomes
        .map(
          (o) =>
            `${o.agent.padEnd(width)}  ${o.code !== undefined ? `exit ${o.code}` : `FAILED: ${o.error}`}`,
        )
        .join('\n');
      const failed = outcomes.filter((o) => o.code !== 0).map((o) => o.agent);
      const error =
        failed.length > 0
          ? { code: 'failed' as const, message: `failed on ${failed.join(', ')}` }
          : undefined;
      printResult(ctx, `\n${human}`, { argv: words, agents: outcomes }, error);
      if (!execSucceeded(outcomes)) process.exitCode = 1;
    });
}

function checkedName(value: string): string {
  try {
    return agentName(value);
  } catch (err) {
    throw new UsageError(`agent name '${value}': ${(err as Error).message}`);
  }
}
