import { parsePublicKeyLine, publicKeyLine, type SshPublicKey } from '../provision/hostkey.js';

/** The host pattern OpenSSH looks up for host:port ("[127.0.0.1]:2222"; a bare host on port 22). */
export function knownHostsPattern(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

export interface KnownHost {
  host: string;
  port: number;
  key: SshPublicKey;
  /** Filed under this name instead of host:port (ssh_config HostKeyAlias). */
  alias?: string;
}

/** One known_hosts line: "[127.0.0.1]:2222 ssh-ed25519 AAAA...". */
export function knownHostsLine(h: KnownHost): string {
  return `${h.alias ?? knownHostsPattern(h.host, h.port)} ${publicKeyLine(h.key)}`;
}

/** A whole known_hosts file for the fleet, one line per agent, in a stable order. */
export function renderKnownHosts(hosts: readonly KnownHost[]): string {
  const lines = hosts.map(knownHostsLine).sort();
  return `${['# Written by fleet: pinned guest host keys. Regenerated on every run.', ...lines].join('\n')}\n`;
}

/** The key recorded for host:port in known_hosts text (plain patterns only, as fleet writes them). */
export function findKnownHost(text: string, host: string, port: number): SshPublicKey | undefined {
  const pattern = knownHostsPattern(host, port);
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const [patterns, ...rest] = line.split(/\s+/);
    if (patterns?.split(',').includes(pattern)) return parsePublicKeyLine(rest.join(' '));
  }
  return undefined;
}
