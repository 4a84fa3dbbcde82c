// `fleet logs`: an agent's serial console log (on this machine, or read on its remote host over
// the host's SSH) and its systemd journal over the pinned SSH.
import type { OutputStream } from '@agentfleet/core';
import { isLocalUri } from '@agentfleet/core/ssh/host-ssh';
import { agentJournal, fileSize, followFile, requireRunning, tailFile } from '@agentfleet/engine';
import { shq } from '@agentfleet/engine/provision/shell-quote';
import { agentHandle, consoleLogOf } from './agent-handle.js';
import { agentShells } from './agent-shells.js';
import type { AppContext } from './context.js';
import { UsageError } from './errors.js';
import { HostAccess } from './host-access.js';
import { openRuntime } from './runtime.js';

/** The tail of a console log; `follow` (when asked for) goes on from where the tail ended. */
export interface ConsoleLog {
  path: string;
  lines: string[];
  /** Calls `onText` with what is appended after the tail, until `signal` aborts. */
  follow?(onText: (text: string) => void, signal: AbortSignal): Promise<void>;
}

/** The last `lines` lines of the agent's serial console log; with `follow`, a way to keep reading it. */
export async function consoleLog(
  ctx: AppContext,
  name: string,
  opts: { lines: number; follow?: boolean },
): Promise<ConsoleLog> {
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
  return {
    path,
    lines,
    ...(opts.follow && { follow: (onText, signal) => followFile(path, from, onText, signal) }),
  };
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

/**
 * The guest's journal of the current boot (journalctl -b), streamed to `onOutput` as it comes
 * (with `follow`, until the front-end ends the process); resolves with journalctl's exit code.
 */
export async function agentJournalOutput(
  ctx: AppContext,
  name: string,
  opts: { lines: number; follow?: boolean; onOutput(chunk: string, stream: OutputStream): void },
): Promise<number> {
  const rt = await openRuntime(ctx, { names: [name], writeLedger: false });
  try {
    await requireRunning(rt.run, rt.connections.connect, name);
    return await agentJournal(name, await agentShells(rt), {
      lines: opts.lines,
      ...(opts.follow && { follow: true }),
      onOutput: opts.onOutput,
    });
  } finally {
    await rt.close();
  }
}
