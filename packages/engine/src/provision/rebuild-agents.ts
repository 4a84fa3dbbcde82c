import type { AgentConnector, AgentShell, ProvisionStore } from '@agentfleet/core';
import { mapLimit } from '../pool.js';
import { AgentLog } from './agent-log.js';
import { PhaseFailure, runRebuild } from './rebuild.js';

export interface RebuildDeps {
  connector: AgentConnector;
  store: ProvisionStore;
  stateDir: string;
  fleetDir: string;
  flake: string;
  /** The agent's SSH login user; anyone but root goes through sudo. */
  sshUserOf(agent: string): string;
  /** One line of an agent's output; the CLI prefixes it with the agent's name. */
  line(agent: string, line: string): void;
  now?: () => string;
}

export type RebuildOutcome =
  | { agent: string; ok: true; logPath: string }
  | { agent: string; ok: false; step: 'rebuild'; message: string; tail: string[]; logPath: string };

/**
 * `fleet rebuild`: one nixos-rebuild per agent, `concurrency` at a time. A failure stops only
 * that agent; every agent gets an outcome.
 */
export function rebuildAgents(
  deps: RebuildDeps,
  agents: readonly string[],
  concurrency: number,
): Promise<RebuildOutcome[]> {
  return mapLimit(agents, concurrency, (agent) => rebuildOne(deps, agent));
}

async function rebuildOne(deps: RebuildDeps, agent: string): Promise<RebuildOutcome> {
  const now = deps.now ?? (() => new Date().toISOString());
  const log = await AgentLog.open(deps.stateDir, agent, (line) => deps.line(agent, line));
  let shell: AgentShell | undefined;
  try {
    const pinned = await deps.store.pinnedHostKey(agent);
    if (pinned === undefined) throw new Error(`${agent} has never answered SSH: run fleet up ${agent} first`);
    shell = await deps.connector.connect(agent, { pinnedHostKey: pinned });
    const target = {
      agent,
      flake: deps.flake,
      fleetDir: deps.fleetDir,
      stateDir: deps.stateDir,
      sudo: deps.sshUserOf(agent) !== 'root',
    };
    await runRebuild(shell, target, log, now());
    return { agent, ok: true, logPath: log.path };
  } catch (err) {
    const message = (err as Error).message;
    log.section(`rebuild failed: ${message}`, now());
    const tail = err instanceof PhaseFailure ? err.tail : [];
    return { agent, ok: false, step: 'rebuild', message, tail, logPath: log.path };
  } finally {
    await shell?.close();
    await log.close();
  }
}
