import {
  ADMIN_USER,
  type AgentSpec,
  domainName,
  type Fleet,
  type FleetIdentity,
  type Ledger,
} from '@agentfleet/core';

/** One invocation's view of the fleet: declarations, allocations and resolved host paths. */
export interface FleetRun {
  fleet: Fleet;
  ledger: Ledger;
  /** Absolute path of the fleet repository (named in the metadata of every domain it defines). */
  fleetDir: string;
  /** Absolute state dir (disks, console logs, state.json, ssh_config, known_hosts). */
  stateDir: string;
  /** Absolute path of the base image. */
  baseImage: string;
  /** Absolute path of the private key fleet logs in with. */
  identityFile: string;
  /** Agents to act on; all when empty. */
  names: string[];
  /** Each agent YAML share source as written -> its absolute host directory (resolved and checked by the CLI). */
  shareDirs?: Readonly<Record<string, string>>;
  /**
   * Agents that must not start: a recorded or explicit port or core of theirs is held by something outside the
   * fleet (a process on the host, a domain not this fleet's). Agent -> reasons naming the holder and the remedy.
   */
  held?: Readonly<Record<string, readonly string[]>>;
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

/** Who this fleet is, as its domains' metadata records it; the ledger must carry an id by now. */
export function fleetIdentity(run: FleetRun): FleetIdentity {
  const id = run.ledger.fleetId;
  if (id === undefined) throw new Error('the ledger has no fleetId (ensureFleetId was not called)');
  return { id, dir: run.fleetDir, stateDir: run.stateDir };
}

/** libvirt domain name of one of this fleet's agents. */
export function agentDomain(run: FleetRun, agent: string): string {
  return domainName(agent, run.fleet.config.domainPrefix);
}

/**
 * fleet's SSH login into an agent: the base image's admin login, never the agent's own user (which
 * has no sudo unless its YAML says so). Agent-shaped so that a per-agent login stays a local change.
 */
export function sshUserOf(run: FleetRun, _agent: AgentSpec): string {
  return run.fleet.config.ssh.user ?? ADMIN_USER;
}
