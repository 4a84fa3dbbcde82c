import { writeFileAtomic } from '@agentfleet/atomic-file';
import {
  type KnownHost,
  parsePublicKeyLine,
  renderKnownHosts,
  renderSshConfig,
  type SshConfigHost,
} from '@agentfleet/core';
import { PRIVATE_FILE_MODE } from './state-dir.js';

export interface SshEntry {
  agent: string;
  port: number;
  user: string;
  identityFile: string;
  /** Pinned host key line; agents never contacted have none. */
  hostKey: string | undefined;
  /** The remote libvirt host the agent's forward listens on (its loopback), reached through its SSH. */
  via?: SshJumpEntry;
}

export interface SshJumpEntry {
  /** ssh_config alias of the host's block, e.g. `libvirt-host-10.216.0.2`. */
  alias: string;
  host: string;
  port: number;
  user: string;
  identityFile: string;
  /** Pinned host key line (from the known_hosts libvirt's ssh trusts). */
  hostKey: string;
}

/** The known_hosts name of a remote agent's key (its forward's 127.0.0.1:port is that host's, not ours). */
export function remoteAgentKeyAlias(agent: string): string {
  return `fleet-agent-${agent}`;
}

/**
 * <stateDir>/ssh_config and known_hosts, so plain `ssh -F <stateDir>/ssh_config drago` reaches
 * the agent with its pinned key. An agent whose key was never seen gets no entry: ssh would
 * have to trust on first use, which fleet does only through its own readiness check.
 */
export async function writeSshFiles(
  entries: readonly SshEntry[],
  files: { sshConfig: string; knownHosts: string },
): Promise<void> {
  const pinned = entries.filter((e) => e.hostKey !== undefined);
  const jumps = new Map(pinned.flatMap((e) => (e.via ? [[e.via.alias, e.via] as const] : [])));
  const known: KnownHost[] = [
    ...pinned.map((e) => ({
      host: '127.0.0.1',
      port: e.port,
      key: parsePublicKeyLine(e.hostKey ?? ''),
      ...(e.via && { alias: remoteAgentKeyAlias(e.agent) }),
    })),
    ...[...jumps.values()].map((j) => ({ host: j.host, port: j.port, key: parsePublicKeyLine(j.hostKey) })),
  ];
  const hosts: SshConfigHost[] = [
    ...pinned.map((e) => ({
      alias: e.agent,
      hostName: '127.0.0.1',
      port: e.port,
      user: e.user,
      identityFile: e.identityFile,
      ...(e.via && { proxyJump: e.via.alias, hostKeyAlias: remoteAgentKeyAlias(e.agent) }),
    })),
    ...[...jumps.values()].map((j) => ({
      alias: j.alias,
      hostName: j.host,
      port: j.port,
      user: j.user,
      identityFile: j.identityFile,
    })),
  ];
  await writeFileAtomic(files.knownHosts, renderKnownHosts(known), PRIVATE_FILE_MODE);
  await writeFileAtomic(files.sshConfig, renderSshConfig(files.knownHosts, hosts), PRIVATE_FILE_MODE);
}
