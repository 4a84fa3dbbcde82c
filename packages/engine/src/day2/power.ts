import { type DomainState, type Hypervisor, isActive } from '@agentfleet/core';
import { agentDomain, type FleetRun, selectedAgents } from '../fleet-run.js';

/** The agent's domain is not running, so nothing inside it can answer (SSH, console, journal). */
export class AgentNotRunningError extends Error {
  override name = 'AgentNotRunningError';
  constructor(
    readonly agent: string,
    readonly state: DomainState | 'undefined',
  ) {
    super(
      state === 'undefined'
        ? `agent ${agent} has no domain; run \`fleet up ${agent}\``
        : `agent ${agent} is ${state === 'shutoff' ? 'shut off' : state}; run \`fleet up ${agent}\``,
    );
  }
}

/** The libvirt state of an agent's domain ('undefined' when there is none). */
export async function agentPowerState(
  run: FleetRun,
  connect: (uri: string) => Promise<Hypervisor>,
  agent: string,
): Promise<DomainState | 'undefined'> {
  const spec = selectedAgents({ ...run, names: [agent] })[0];
  if (!spec) return 'undefined';
  const hv = await connect(spec.libvirtUri);
  const domain = agentDomain(run, agent);
  return (await hv.listDomains()).find((d) => d.name === domain)?.state ?? 'undefined';
}

/** Throws AgentNotRunningError unless the agent's domain is running. */
export async function requireRunning(
  run: FleetRun,
  connect: (uri: string) => Promise<Hypervisor>,
  agent: string,
): Promise<void> {
  const state = await agentPowerState(run, connect, agent);
  if (state === 'undefined' || !isActive(state) || state === 'paused')
    throw new AgentNotRunningError(agent, state);
}
