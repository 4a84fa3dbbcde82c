import { agentShells } from '@agentfleet/app/agent-shells';
import { HostAccess } from '@agentfleet/app/host-access';
import { isLocalUri } from '@agentfleet/core/ssh/host-ssh';
import { sanitizeTerminalText } from '@agentfleet/core/terminal-text';
import { agentJournal, fileSize, followFile, requireRunning, tailFile } from '@agentfleet/engine';
import { shq } from '@agentfleet/engine/provision/shell-quote';
import type { Command } from 'commander';
import { contextOf } from '../context.js';
import { UsageError } from '../errors.js';
import { printResult } from '../output.js';
import { agentHandle, consoleLogOf } from './agent-files.js';
import { agentName } from './agent-name.js';
import { openRuntime } from './runtime.js';
import { positiveInt } from './up.js';

interface LogsOpts {
  lines: number;
  follow?: boolean;
  journal?: boolean;
}

async function remoteTail(uri: string, path: string, lines: number): Promise<string[]> {
  const hosts = new HostAccess();
  try {
    const text = await hosts.run(uri, `tail -n ${lines} -- ${shq(path)} 2>/dev/null || true`);
    const all = text.replace(/\r/g, '').split('\n');
    if (all.at(-1) === '') all.pop();
    return all;
  } finally {
    await hosts.closeAll();
  }
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
      const h = agentHandle(ctx, name);
      const path = consoleLogOf(h);
      const uri = h.agent.libvirtUri;
      const remote = !isLocalUri(uri);
      if (remote && opts.follow)
        throw new UsageError(`--follow reads this machine's console log; agent ${name} runs on ${uri}`);
      const from = remote ? 0 : await fileSize(path);
      // A remote agent's console log is written by its host's virtlogd: read it there, over the host's SSH.
      const lines = remote
        ? await remoteTail(uri, path, opts.lines)
        : await tailFile(path, opts.lines, 8 * 1024 * 1024);
      printResult(ctx, lines.length ? lines.join('\n') : `(no console output yet in ${path})`, {
        path,
        lines,
      });
      if (!opts.follow) return;
      await followFile(
        path,
        from,
        (text) => process.stdout.write(sanitizeTerminalText(text)),
        untilInterrupted(),
      );
    });
}

async function journal(ctx: ReturnType<typeof contextOf>, name: string, opts: LogsOpts): Promise<void> {
  if (ctx.json)
    throw new UsageError('--journal streams the guest journal as text; it does not combine with --json');
  const rt = await openRuntime(ctx, { names: [name], writeLedger: false });
  try {
    await requireRunning(rt.run, rt.connections.connect, name);
    const code = await agentJournal(name, await agentShells(rt), {
      lines: opts.lines,
      ...(opts.follow && { follow: true }),
      onOutput: (chunk, stream) =>
        (stream === 'stderr' ? process.stderr : process.stdout).write(sanitizeTerminalText(chunk)),
    });
    if (code !== 0) process.exitCode = 1;
  } finally {
    await rt.close();
  }
}

/** Aborted by Ctrl-C or SIGTERM: a follow's normal end. */
function untilInterrupted(): AbortSignal {
  const ac = new AbortController();
  const stop = () => ac.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return ac.signal;
}
