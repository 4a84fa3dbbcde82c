import { existsSync } from 'node:fs';
import { type AgentSpec, allocationOf, domainName, type Fleet } from '@agentfleet/core';
import { agentConsoleLogOn, knownHostsFile, sshConfigFile } from '@agentfleet/engine';
import type { AppContext } from './context.js';
import { noAgentNamed, UsageError } from './errors.js';
import { expandPath, readFleet, readLedger } from './fleet-files.js';

/** One declared agent with its allocation, read from the fleet repo without opening a hypervisor. */
export interface AgentHandle {
  fleet: Fleet;
  agent: AgentSpec;
  stateDir: string;
  sshPort: number;
  spicePort: number;
}

/** A declared agent by name, allocated or not (`remove` takes back an agent never brought up, too). */
export function declaredAgent(ctx: AppContext, name: string): { fleet: Fleet; agent: AgentSpec } {
  const fleet = readFleet(ctx.dir);
  const agent = fleet.agents.find((a) => a.name === name);
  if (!agent) throw noAgentNamed([name], fleet);
  return { fleet, agent };
}

/** An agent by name with its allocation, for commands that act on one running agent. */
export function agentHandle(ctx: AppContext, name: string): AgentHandle {
  const { fleet, agent } = declaredAgent(ctx, name);
  const alloc = allocationOf(readLedger(ctx.dir), agent.libvirtUri, name);
  if (!alloc) throw new UsageError(`agent '${name}' has no allocation yet: run 'fleet up ${name}'`);
  return {
    fleet,
    agent,
    stateDir: expandPath(ctx.dir, fleet.config.stateDir),
    sshPort: alloc.sshPort,
    spicePort: alloc.spicePort,
  };
}

export function sshFilesOf(h: AgentHandle): { sshConfig: string; knownHosts: string } {
  const files = { sshConfig: sshConfigFile(h.stateDir), knownHosts: knownHostsFile(h.stateDir) };
  if (!existsSync(files.sshConfig)) {
    throw new UsageError(`${files.sshConfig} does not exist yet: run 'fleet up ${h.agent.name}' first`);
  }
  return files;
}

export const consoleLogOf = (h: AgentHandle) =>
  agentConsoleLogOn(h.stateDir, h.agent.libvirtUri, h.agent.name);
export const domainOf = (h: AgentHandle) => domainName(h.agent.name, h.fleet.config.domainPrefix);
