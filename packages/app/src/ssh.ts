// `fleet ssh`: what the user's own OpenSSH client connects to, with fleet's pinned host key.
import { readFileSync } from 'node:fs';
import { AgentNotRunningError, agentPowerState } from '@agentfleet/engine';
import { agentHandle, sshFilesOf } from './agent-handle.js';
import type { AppContext } from './context.js';
import { FleetError, UsageError } from './errors.js';
import { openRuntime } from './runtime.js';

/**
 * The ssh_config that names the running agent as host `host` with its pinned host key
 * (`ssh -F <sshConfig> <host>`); refused while no key is pinned or the agent is not running.
 */
export async function sshTarget(ctx: AppContext, name: string): Promise<{ sshConfig: string; host: string }> {
  const h = agentHandle(ctx, name);
  const { sshConfig } = sshFilesOf(h);
  if (!new RegExp(`^Host ${name}$`, 'm').test(readFileSync(sshConfig, 'utf8'))) {
    throw new UsageError(`no pinned host key for '${name}' yet: run 'fleet up ${name}' first`);
  }
  // A stopped agent gets a message saying so, not ssh's "Connection refused".
  const rt = await openRuntime(ctx, { names: [name], writeLedger: false });
  try {
    const state = await agentPowerState(rt.run, rt.connections.connect, name);
    if (state !== 'running') throw new FleetError(new AgentNotRunningError(name, state).message);
  } finally {
    await rt.close();
  }
  return { sshConfig, host: name };
}
