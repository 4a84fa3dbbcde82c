import { agentJournalOutput, consoleLog } from '@agentfleet/app/logs';
import { sanitizeTerminalText } from '@agentfleet/core/terminal-text';
import type { Command } from 'commander';
import { contextOf } from '../context.js';
import { UsageError } from '../errors.js';
import { printResult } from '../output.js';
import { agentName } from './agent-name.js';
import { positiveInt } from './up.js';

interface LogsOpts {
  lines: number;
  follow?: boolean;
  journal?: boolean;
}

export function registerLogs(program: Command): void {
  program
    .command('logs')
    .description("an agent's serial console log, or with --journal its systemd journal (over SSH)")
    .argument('<name>', 'agent', agentName)
    .option('-n, --lines <n>', 'last N lines', positiveInt, 200)
    .option('-f, --follow', 'keep printing what is appended, until Ctrl-C')
    .option('--journal', "the guest's journal of the current boot (journalctl -b), not the serial console")
    .addHelpText(
      'after',
      '\nExamples:\n  fleet logs drago -n 50\n  fleet logs drago -f\n  fleet logs drago --journal -f',
    )
    .action(async (name: string, opts: LogsOpts, command: Command) => {
      const ctx = contextOf(command);
      if (opts.follow && ctx.json)
        throw new UsageError('--follow streams text; it does not combine with --json');
      if (opts.journal) return journal(ctx, name, opts);
      const { path, lines, follow } = await consoleLog(ctx, name, {
        lines: opts.lines,
        ...(opts.follow && { follow: true }),
      });
      printResult(ctx, lines.length ? lines.join('\n') : `(no console output yet in ${path})`, {
        path,
        lines,
      });
      if (!follow) return;
      await follow((text) => process.stdout.write(sanitizeTerminalText(text)), untilInterrupted());
    });
}

async function journal(ctx: ReturnType<typeof contextOf>, name: string, opts: LogsOpts): Promise<void> {
  if (ctx.json)
    throw new UsageError('--journal streams the guest journal as text; it does not combine with --json');
  const code = await agentJournalOutput(ctx, name, {
    lines: opts.lines,
    ...(opts.follow && { follow: true }),
    onOutput: (chunk, stream) =>
      (stream === 'stderr' ? process.stderr : process.stdout).write(sanitizeTerminalText(chunk)),
  });
  if (code !== 0) process.exitCode = 1;
}

/** Aborted by Ctrl-C or SIGTERM: a follow's normal end. */
function untilInterrupted(): AbortSignal {
  const ac = new AbortController();
  const stop = () => ac.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return ac.signal;
}
