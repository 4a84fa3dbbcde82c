/** One `Host` block of the fleet's ssh_config. */
export interface SshConfigHost {
  /** The alias users type: `ssh -F <stateDir>/ssh_config drago`. */
  alias: string;
  hostName: string;
  port: number;
  user: string;
  identityFile?: string;
  /** Alias of another block to jump through (`ProxyJump`): the libvirt host of a remote agent. */
  proxyJump?: string;
  /**
   * The name its key is pinned under in known_hosts (`HostKeyAlias`): agents on different hosts may forward the same
   * port, so a remote agent's key cannot be filed under [127.0.0.1]:port.
   */
  hostKeyAlias?: string;
}

export class SshConfigValueError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SshConfigValueError';
  }
}

// ssh_config splits on whitespace unless quoted and has no escape for '"'; a newline would start a new option.
function quote(field: string, value: string): string {
  if (/["\n\r]/.test(value))
    throw new SshConfigValueError(`ssh_config ${field} cannot contain quotes or newlines: ${value}`);
  return /\s/.test(value) || value === '' ? `"${value}"` : value;
}

// IdentityFile and UserKnownHostsFile expand %-tokens; a literal % must be doubled.
const pathValue = (field: string, value: string) => quote(field, value.replace(/%/g, '%%'));

/**
 * `<stateDir>/ssh_config`: every agent with its forwarded port, strict checking against the fleet's own known_hosts,
 * so plain `ssh -F` gets the same host-key pinning as fleet itself.
 */
export function renderSshConfig(knownHostsPath: string, hosts: readonly SshConfigHost[]): string {
  const blocks = [...hosts]
    .sort((a, b) => a.alias.localeCompare(b.alias))
    .map((h) => {
      if (!/^[A-Za-z0-9._-]+$/.test(h.alias))
        throw new SshConfigValueError(`not a usable ssh_config Host alias: ${h.alias}`);
      const lines = [
        `Host ${h.alias}`,
        `  HostName ${quote('HostName', h.hostName)}`,
        `  Port ${h.port}`,
        `  User ${quote('User', h.user)}`,
        ...(h.proxyJump ? [`  ProxyJump ${quote('ProxyJump', h.proxyJump)}`] : []),
        ...(h.hostKeyAlias ? [`  HostKeyAlias ${quote('HostKeyAlias', h.hostKeyAlias)}`] : []),
        ...(h.identityFile
          ? [`  IdentityFile ${pathValue('IdentityFile', h.identityFile)}`, '  IdentitiesOnly yes']
          : []),
        `  UserKnownHostsFile ${pathValue('UserKnownHostsFile', knownHostsPath)}`,
        '  StrictHostKeyChecking yes',
        // Keys are pinned per agent; a second, global known_hosts must not vouch for a forwarded port.
        '  GlobalKnownHostsFile /dev/null',
        // A guest that reboots or hangs drops the session silently (QEMU's forwarder keeps the TCP end open):
        // keepalives end `ssh` within ~15 s instead of never, as fleet's own sessions do.
        '  ServerAliveInterval 5',
        '  ServerAliveCountMax 3',
      ];
      return lines.join('\n');
    });
  return `${['# Written by fleet. Use: ssh -F <this file> <agent>', ...blocks].join('\n\n')}\n`;
}
