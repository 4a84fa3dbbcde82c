import type { AgentConnector, AgentShell, ProvisionStore } from '@agentfleet/core';
import { mapLimit } from '../pool.js';
import { AgentLog } from './agent-log.js';
import { type HostBuildDeps, type HostSwitch, hostSwitchOf } from './host-switch.js';
import { PhaseFailure } from './phase-failure.js';
import { runRebuild } from './rebuild.js';

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
  /** `build: host`: systems are built on this host and copied in; absent, nixos-rebuild runs inside. */
  host?: HostBuildDeps;
  now?: () => string;
}

export type RebuildOutcome =
  | { agent: string; ok: true; logPath: string }
  | { agent: string; ok: false; step: 'rebuild'; message: string; tail: string[]; logPath: string };

/**
 * `fleet rebuild`: one nixos-rebuild per agent, `concurrency` at a time. With `build: host`, every
 * agent's system is asked for at once, so one `nix build` builds them all, then copies and
 * activations run `concurrency` at a time. A failure stops only that agent; every agent gets an
 * outcome.
 */
export async function rebuildAgents(
  deps: RebuildDeps,
  agents: readonly string[],
  concurrency: number,
): Promise<RebuildOutcome[]> {
  const open = (agent: string) => AgentLog.open(deps.stateDir, agent, (line) => deps.line(agent, line));
  const { host } = deps;
  if (host === undefined) {
    return mapLimit(agents, concurrency, async (agent) => rebuildOne(deps, agent, await open(agent)));
  }
  const logs = await Promise.all(agents.map(open));
  // An agent never reached has nothing to copy to: it fails in rebuildOne without being built.
  const pinned = await Promise.all(agents.map((a) => deps.store.pinnedHostKey(a)));
  const switches = agents.map((agent, i) => {
    if (pinned[i] === undefined) return undefined;
    const sw = hostSwitchOf(host, agent);
    // Asked for now, for every agent: they land in one build round.
    const built = sw.toplevel(logs[i] as AgentLog);
    return { ...sw, toplevel: () => built };
  });
  return mapLimit(
    agents.map((agent, i) => ({ agent, log: logs[i] as AgentLog, host: switches[i] })),
    concurrency,
    (a) => rebuildOne(deps, a.agent, a.log, a.host),
  );
}

async function rebuildOne(
  deps: RebuildDeps,
  agent: string,
  log: AgentLog,
  host?: HostSwitch,
): Promise<RebuildOutcome> {
  const now = deps.now ?? (() => new Date().toISOString());
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
      ...(host && { host }),
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
