import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { firewallTableName } from '@agentfleet/core';
import { fleetKeyOf } from '@agentfleet/engine/adapters/passt-firewall';
import { agentPasstSocket } from '@agentfleet/engine/paths';

/**
 * Stops the passt of each named agent (found by its socket path, `.../run/agent-<name>/passt.sock`,
 * or confined: `/run/agentfleet-passt/<fleet>-agent-<name>.sock`): for suites that remove their
 * domains with virsh, which leaves the passt fleet started running.
 */
export function stopPassts(agents: readonly string[]): void {
  for (const pid of passtPidsOf(agents)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {}
  }
}

/**
 * Deletes the nftables table (`inet agentfleet_<digest of the state dir>`) fleet made for the fleet whose state dir
 * is `stateDir`: fleet removes it with the fleet's last confined passt, so a suite that removes its domains with
 * virsh and kills their passts (stopPassts) leaves it behind. A table that is not there, or no nft, is fine.
 */
export function removeFleetFirewall(stateDir: string): void {
  const table = firewallTableName(fleetKeyOf(agentPasstSocket(stateDir, 'any')));
  spawnSync('nft', ['delete', 'table', 'inet', table], { stdio: 'ignore' });
}

/** The passt processes fleet started for the named agents (found by their socket path, confined or not). */
export function passtPidsOf(agents: readonly string[]): number[] {
  const suffixes = agents.flatMap((a) => [`/run/agent-${a}/passt.sock`, `-agent-${a}.sock`]);
  return readdirSync('/proc').flatMap((pid) => {
    if (!/^\d+$/.test(pid)) return [];
    let argv: string[];
    try {
      argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    } catch {
      return [];
    }
    const socket = argv[argv.indexOf('--socket') + 1] ?? '';
    return (argv[0] ?? '').endsWith('passt') && suffixes.some((s) => socket.endsWith(s)) ? [Number(pid)] : [];
  });
}
