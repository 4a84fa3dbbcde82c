import type { OutputStream } from '@agentfleet/core';
import { mapLimit } from '../pool.js';
import { type AgentShells, pinnedShell } from './shells.js';

export interface ExecOutcome {
  agent: string;
  /** The command's exit code; absent when it could not run (then `error` says why). */
  code?: number;
  error?: string;
}

export interface ExecOptions {
  /** Agents running the command at once. */
  concurrency: number;
  /** One whole line of an agent's output (without its newline), as it arrives. */
  onLine(agent: string, line: string, stream: OutputStream): void;
  /** Checked before connecting, so a stopped agent gets a clear message rather than a refused connection. */
  requireRunning?(agent: string): Promise<void>;
}

/** `fleet exec`: runs `command` on each agent over its pinned SSH, at most `concurrency` at once. */
export async function execOnAgents(
  agents: readonly string[],
  command: string,
  shells: AgentShells,
  opts: ExecOptions,
): Promise<ExecOutcome[]> {
  return mapLimit(agents, opts.concurrency, async (agent): Promise<ExecOutcome> => {
    const lines = lineSplitter((line, stream) => opts.onLine(agent, line, stream));
    try {
      await opts.requireRunning?.(agent);
      const shell = await pinnedShell(shells, agent);
      try {
        return { agent, code: await shell.exec(command, lines.push) };
      } finally {
        lines.flush();
        await shell.close();
      }
    } catch (err) {
      return { agent, error: (err as Error).message };
    }
  });
}

/** True when every agent ran the command and it exited 0. */
export const execSucceeded = (outcomes: readonly ExecOutcome[]) => outcomes.every((o) => o.code === 0);

/** Cuts each stream's chunks into whole lines, so lines of agents running at once never interleave mid-line. */
export function lineSplitter(emit: (line: string, stream: OutputStream) => void) {
  const partial: Record<OutputStream, string> = { stdout: '', stderr: '' };
  return {
    push: (chunk: string, stream: OutputStream) => {
      const parts = (partial[stream] + chunk).split('\n');
      partial[stream] = parts.pop() ?? '';
      for (const p of parts) emit(p.endsWith('\r') ? p.slice(0, -1) : p, stream);
    },
    flush: () => {
      for (const stream of ['stdout', 'stderr'] as const) {
        if (partial[stream] !== '') emit(partial[stream], stream);
        partial[stream] = '';
      }
    },
  };
}
