import type { OutputStream } from '@agentfleet/core';
import { type AgentShells, pinnedShell } from './shells.js';

export class NoJournalError extends Error {
  override name = 'NoJournalError';
  constructor(readonly agent: string) {
    super(
      `agent ${agent} has no journalctl (not a systemd guest); its serial console log is \`fleet logs ${agent}\``,
    );
  }
}

/** `fleet logs --journal`: the guest's journal of the current boot, streamed; resolves with journalctl's exit code. */
export async function agentJournal(
  agent: string,
  shells: AgentShells,
  opts: { lines?: number; follow?: boolean; onOutput(chunk: string, stream: OutputStream): void },
): Promise<number> {
  const shell = await pinnedShell(shells, agent);
  try {
    if ((await shell.exec('command -v journalctl >/dev/null 2>&1')) !== 0) throw new NoJournalError(agent);
    const args = ['journalctl', '-b', '--no-pager'];
    if (opts.lines !== undefined) args.push('-n', String(opts.lines));
    if (opts.follow) args.push('-f');
    // A follow runs until the user interrupts it; no deadline of the adapter's cuts it short.
    return await shell.exec(args.join(' '), opts.onOutput, opts.follow ? { timeoutMs: 2 ** 31 - 1 } : {});
  } finally {
    await shell.close();
  }
}
