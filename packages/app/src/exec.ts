// `fleet exec`: a command on the chosen agents over fleet's pinned SSH.
import type { OutputStream } from '@agentfleet/core';
import {
  type ExecOutcome,
  execOnAgents,
  requireRunning,
  SelectionError,
  selectAgents,
} from '@agentfleet/engine';
import { agentShells } from './agent-shells.js';
import type { AppContext } from './context.js';
import { UsageError } from './errors.js';
import { openRuntime } from './runtime.js';

export interface ExecRequest {
  /** The agents by name; or `all`, or those tagged `tag`. */
  names: string[];
  all?: boolean;
  tag?: string;
  /** Run through the guest's shell as fleet's login user. */
  command: string;
  concurrency: number;
}

/**
 * Runs the command on each chosen agent, `concurrency` at once, calling `onLine` with every whole
 * line of output as it comes (`agents` is known before the first line); one outcome per agent.
 */
export async function execOnFleet(
  ctx: AppContext,
  req: ExecRequest,
  hooks: {
    /** The agents chosen, before any runs. */
    agents?(agents: readonly string[]): void;
    onLine(agent: string, line: string, stream: OutputStream): void;
  },
): Promise<ExecOutcome[]> {
  const rt = await openRuntime(ctx, { names: [], writeLedger: false });
  try {
    let agents: string[];
    try {
      agents = selectAgents(rt.fleet, {
        names: req.names,
        ...(req.all && { all: true }),
        ...(req.tag !== undefined && { tag: req.tag }),
      });
    } catch (err) {
      if (err instanceof SelectionError) throw new UsageError(err.message);
      throw err;
    }
    hooks.agents?.(agents);
    return await execOnAgents(agents, req.command, await agentShells(rt), {
      concurrency: req.concurrency,
      requireRunning: (agent) => requireRunning(rt.run, rt.connections.connect, agent),
      onLine: hooks.onLine,
    });
  } finally {
    await rt.close();
  }
}
