import type { AgentShell } from '@agentfleet/core';
import type { AgentLog } from './agent-log.js';
import { localFlakeDir, uploadFlake } from './flake.js';
import { bringBackLock, withFleetLock } from './flake-lock.js';
import { type HostSwitch, hostSwitch } from './host-switch.js';
import { PhaseFailure } from './phase-failure.js';
import { shq } from './shell-quote.js';

export interface RebuildTarget {
  agent: string;
  /** fleet.yaml's flake reference. */
  flake: string;
  /** The fleet repository, against which a local flake reference is resolved. */
  fleetDir: string;
  /** Disks and logs: never part of an uploaded flake. */
  stateDir: string;
  /** The SSH login is not root: system changes go through sudo, as in the seeds. */
  sudo: boolean;
  /** `build: host`: the system is built on the host and copied in; else nixos-rebuild inside. */
  host?: HostSwitch;
}

/**
 * The agent switches to its current configuration: with `build: host`, built on the host and
 * copied in (hostSwitch); otherwise one `nixos-rebuild switch --flake <flake>#agent-<name>` inside the agent, uploading the flake
 * first when it is the fleet's own repository (so the agent sees the current secrets/*.age).
 */
export async function runRebuild(
  shell: AgentShell,
  t: RebuildTarget,
  log: AgentLog,
  at: string,
): Promise<void> {
  if (t.host) return hostSwitch(shell, t, t.host, log, at);
  const local = localFlakeDir(t.flake, t.fleetDir);
  // A remote flake is pinned by its own committed lock.
  if (local === undefined) return switchTo(shell, t, t.flake, '', log, at);
  return withFleetLock(local, async (locked) => {
    const ref = await uploadFlake(shell, local, t.sudo, [t.stateDir]);
    await switchTo(shell, t, ref, locked ? ' --no-update-lock-file' : '', log, at);
    if (!locked) await bringBackLock(shell, local, log);
  });
}

async function switchTo(
  shell: AgentShell,
  t: RebuildTarget,
  ref: string,
  flags: string,
  log: AgentLog,
  at: string,
): Promise<void> {
  const command = `${t.sudo ? 'sudo ' : ''}nixos-rebuild switch --flake ${shq(`${ref}#agent-${t.agent}`)}${flags}`;
  log.section(command, at);
  const code = await shell.exec(command, (chunk) => log.write(chunk));
  if (code !== 0) throw new PhaseFailure(`nixos-rebuild exited with ${code}`, log.tail(), log.path);
}
