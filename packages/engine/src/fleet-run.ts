import { ADMIN_USER, type AgentSpec, type Fleet, type Ledger } from '@agentfleet/core';

/** One invocation's view of the fleet: declarations, allocations and resolved host paths. */
export interface FleetRun {
  fleet: Fleet;
  ledger: Ledger;
  /** Absolute state dir (disks, console logs, state.json, ssh_config, known_hosts). */
  stateDir: string;
  /** Absolute path of the base image. */
  baseImage: string;
  /** Absolute path of the private key fleet logs in with. */
  identityFile: string;
  /** Agents to act on; all when empty. */
  names: string[];
}

export function selectedAgents(run: FleetRun): AgentSpec[] {
  if (run.names.length === 0) return run.fleet.agents;
  const known = new Map(run.fleet.agents.map((a) => [a.name, a]));
  return run.names.map((n) => {
    const agent = known.get(n);
    if (!agent) throw new UnknownAgentError(n, [...known.keys()]);
    return agent;
  });
}

export class UnknownAgentError extends Error {
  override name = 'UnknownAgentError';
  constructor(agent: string, known: string[]) {
    super(`no agent named '${agent}' (agents: ${known.join(', ') || 'none'})`);
  }
}

/**
 * fleet's SSH login into an agent: the base image's admin login, never the agent's own user (which
 * has no sudo unless its YAML says so). Agent-shaped so that a per-agent login stays a local change.
 */
export function sshUserOf(run: FleetRun, _agent: AgentSpec): string {
  return run.fleet.config.ssh.user ?? ADMIN_USER;
}
