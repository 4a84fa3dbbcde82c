// A remote libvirt host is reached over SSH for what libvirt does not carry: its listening ports, the agents'
// forwards (which listen on that host's loopback), consoles and displays. Who to log in as comes from the URI.

/** The SSH login of a libvirt host, as its `qemu+ssh://[user@]host[:port]/...?keyfile=...` URI says. */
export interface HostSsh {
  /** The URI it came from (messages, caches). */
  uri: string;
  host: string;
  port: number;
  /** undefined: the local user, as libvirt's ssh transport would log in. */
  user?: string;
  /** The URI's `keyfile`; undefined: OpenSSH's default identities. */
  identityFile?: string;
  /** The URI's `known_hosts` (libssh/libssh2 transports); undefined: OpenSSH's default files. */
  knownHostsFile?: string;
}

export class HostSshError extends Error {
  override name = 'HostSshError';
}

/** True for URIs naming this machine (no host part): its facts come from here, not through SSH. */
export function isLocalUri(uri: string): boolean {
  return !/^[a-z0-9]+(\+[a-z0-9]+)?:\/\/[^/]/.test(uri);
}

/**
 * The SSH login of `uri`'s host; undefined for a local URI. A remote URI over another transport (tcp, tls) names
 * no SSH login, and fleet needs one to reach forwards on that host's loopback: that is an error saying so.
 */
export function hostSshOfUri(uri: string): HostSsh | undefined {
  if (isLocalUri(uri)) return undefined;
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    throw new HostSshError(`not a libvirt URI: ${uri}`);
  }
  const transport = url.protocol.replace(/:$/, '').split('+')[1];
  if (transport !== 'ssh' && transport !== 'libssh' && transport !== 'libssh2')
    throw new HostSshError(
      `agents on ${uri} listen on that host's loopback, which fleet reaches through the host's SSH: use a qemu+ssh:// URI`,
    );
  const keyfile = url.searchParams.get('keyfile');
  const knownHosts = url.searchParams.get('known_hosts');
  return {
    uri,
    host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: url.port === '' ? 22 : Number(url.port),
    ...(url.username !== '' && { user: decodeURIComponent(url.username) }),
    ...(keyfile !== null && keyfile !== '' && { identityFile: keyfile }),
    ...(knownHosts !== null && knownHosts !== '' && { knownHostsFile: knownHosts }),
  };
}

/** Local TCP ports listening on a host, from `ss -Htln` (state, queues, local address:port, peer). */
export function parseSsListeners(text: string): number[] {
  const ports = new Set<number>();
  for (const line of text.split('\n')) {
    const local = line.trim().split(/\s+/)[3];
    const m = local === undefined ? null : /:(\d+)$/.exec(local);
    if (m) ports.add(Number(m[1]));
  }
  return [...ports].sort((a, b) => a - b);
}
