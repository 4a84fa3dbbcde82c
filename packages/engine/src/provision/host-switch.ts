import type { AgentShell } from '@agentfleet/core';
import type { AgentLog } from './agent-log.js';
import type { BuildLog, BuiltToplevel, HostBuilder } from './host-build.js';
import { NIX_FEATURES, type NixRunner, runNix } from './nix-command.js';
import { PhaseFailure } from './phase-failure.js';
import { shq } from './shell-quote.js';

/** NixOS's system profile: what boots, and what `nixos-rebuild` sets. */
export const SYSTEM_PROFILE = '/nix/var/nix/profiles/system';

/** How an agent gets a system built on the host (`build: host`). */
export interface HostSwitch {
  /** The agent's toplevel, built on the host (in a round shared with other agents). */
  toplevel(log: BuildLog): Promise<BuiltToplevel>;
  /**
   * An ssh_config for `ssh -F` whose Host block named after the agent reaches it with the fleet's
   * pinned key (StrictHostKeyChecking yes): `nix copy` goes through the same pin as fleet itself.
   */
  sshConfig(): Promise<string>;
  nix?: NixRunner;
}

/** What provisioning needs for `build: host`. */
export interface HostBuildDeps {
  builder: HostBuilder;
  /** See HostSwitch.sshConfig. */
  sshConfig(): Promise<string>;
  nix?: NixRunner;
}

export function hostSwitchOf(deps: HostBuildDeps, agent: string): HostSwitch {
  return {
    toplevel: (log) => deps.builder.toplevel(agent, log),
    sshConfig: deps.sshConfig,
    ...(deps.nix && { nix: deps.nix }),
  };
}

/**
 * Build on the host, `nix copy` the closure into the agent over the pinned SSH, set the system
 * profile and switch to it: what `nixos-rebuild switch` does inside the agent, minus the
 * evaluation and the build.
 */
export async function hostSwitch(
  shell: AgentShell,
  t: { agent: string; sudo: boolean },
  h: HostSwitch,
  log: AgentLog,
  at: string,
): Promise<void> {
  log.section(`nix build on the host: ${t.agent}'s toplevel`, at);
  const built = await h.toplevel(log);
  if (!built.ok) throw new PhaseFailure(built.message, log.tail(), log.path);
  await copyClosure(t.agent, built.path, await h.sshConfig(), log, h.nix ?? runNix);
  const sudo = t.sudo ? 'sudo ' : '';
  const command =
    `${sudo}nix-env -p ${SYSTEM_PROFILE} --set ${shq(built.path)} && ` +
    `${sudo}${shq(`${built.path}/bin/switch-to-configuration`)} switch`;
  log.section(command, at);
  const code = await shell.exec(command, (chunk) => log.write(chunk));
  if (code !== 0) throw new PhaseFailure(`activation exited with ${code}`, log.tail(), log.path);
}

/**
 * `nix copy --to ssh-ng://<agent> <path>`: only what the agent's store lacks travels. ssh reads the
 * fleet's ssh_config (`NIX_SSHOPTS=-F ...`), so a host key other than the pinned one is refused.
 */
export async function copyClosure(
  agent: string,
  path: string,
  sshConfig: string,
  log: Pick<AgentLog, 'section' | 'write' | 'tail' | 'path'>,
  nix: NixRunner = runNix,
): Promise<void> {
  // nix splits NIX_SSHOPTS on spaces, with no quoting.
  if (/\s/.test(sshConfig)) {
    throw new Error(
      `cannot hand ${sshConfig} to nix copy (NIX_SSHOPTS has no quoting): use a state dir without spaces`,
    );
  }
  const args = [...NIX_FEATURES, 'copy', '--to', `ssh-ng://${agent}`, path];
  log.section(`NIX_SSHOPTS='-F ${sshConfig}' nix ${args.join(' ')}`, new Date().toISOString());
  const run = await nix(args, (line) => log.write(`${line}\n`), { NIX_SSHOPTS: `-F ${sshConfig}` });
  if (run.code !== 0)
    throw new PhaseFailure(`nix copy to ${agent} exited with ${run.code}`, log.tail(), log.path);
}
