import { writeFileAtomic } from '@agentfleet/atomic-file';
import { parsePublicKeyLine, renderKnownHosts, renderSshConfig } from '@agentfleet/core';
import { PRIVATE_FILE_MODE } from './state-dir.js';

export interface SshEntry {
  agent: string;
  port: number;
  user: string;
  identityFile: string;
  /** Pinned host key line; agents never contacted have none. */
  hostKey: string | undefined;
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
  const known = pinned.map((e) => ({
    host: '127.0.0.1',
    port: e.port,
    key: parsePublicKeyLine(e.hostKey ?? ''),
  }));
  const hosts = pinned.map((e) => ({
    alias: e.agent,
    hostName: '127.0.0.1',
    port: e.port,
    user: e.user,
    identityFile: e.identityFile,
  }));
  await writeFileAtomic(files.knownHosts, renderKnownHosts(known), PRIVATE_FILE_MODE);
  await writeFileAtomic(files.sshConfig, renderSshConfig(files.knownHosts, hosts), PRIVATE_FILE_MODE);
}
