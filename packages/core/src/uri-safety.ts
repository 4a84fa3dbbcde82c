// libvirt URIs are code as much as addresses: some transports and parameters make libvirt run a
// program (as the user running `fleet`, often root) the moment a connection opens, others turn
// off the checks that make a remote host the host it claims to be. A fleet repo is reviewed and
// shared, so a URI in it is refused unless it is plainly an address. What libvirt does with each
// piece: https://libvirt.org/uri.html#remote-uris and the remote driver's parameter list
// (name, command, socket, auth, sshauth, netcat, keyfile, pkipath, known_hosts,
// known_hosts_verify, no_sanity, no_verify, no_tty, authfile, mode, proxy, tls_priority).

/**
 * Transports that only carry libvirt's protocol over a channel libvirt verifies (or a local
 * socket). `ext` runs `command=`; `tcp` is unencrypted and unauthenticated; `libssh` is refused
 * below for what its client does to the process.
 */
const SAFE_TRANSPORTS = new Set(['', 'unix', 'tls', 'ssh', 'libssh2']);
const SSH_TRANSPORTS = new Set(['ssh', 'libssh', 'libssh2']);

type ParamCheck = (value: string, transport: string) => string | undefined;

/** libvirt reads these as integers: only 0 leaves the check on. */
const off =
  (what: string): ParamCheck =>
  (v) =>
    /^0+$/.test(v) ? undefined : what;

/** Every parameter libvirt's client reads, with why a value is unsafe; anything else is refused. */
const PARAMS: Record<string, ParamCheck> = {
  command: () => 'runs a program to open the connection',
  netcat: () => 'names a program run on the remote host',
  socket: (_v, t) =>
    SSH_TRANSPORTS.has(t) ? 'is spliced into the command the remote shell runs' : undefined,
  proxy: (v) =>
    v === 'auto' || v === 'native' ? undefined : 'runs netcat; use proxy=native or leave it out',
  no_verify: off('turns off verification of the server certificate'),
  no_sanity: off('turns off the sanity checks of the certificates'),
  known_hosts_verify: (v) => (v === 'normal' ? undefined : 'accepts an unknown or changed SSH host key'),
  name: (v) => {
    const inner = v.includes('://') ? libvirtUriProblem(v) : undefined;
    return inner && `names an unsafe URI (${inner})`;
  },
  keyfile: () => undefined,
  known_hosts: () => undefined,
  pkipath: () => undefined,
  sshauth: () => undefined,
  auth: () => undefined,
  authfile: () => undefined,
  no_tty: () => undefined,
  mode: () => undefined,
  tls_priority: () => undefined,
};

const URI = /^([a-z][a-z0-9.-]*)(?:\+([a-z0-9]+))?:\/\/([^/?#]*)([^?#]*)(?:\?([^#]*))?(?:#.*)?$/;

function decode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/**
 * Why connecting to `uri` could run a program or skip verifying the other end, or undefined
 * when it cannot. Parameters are judged after percent-decoding, as libvirt reads them.
 */
export function libvirtUriProblem(uri: string): string | undefined {
  const m = URI.exec(uri);
  if (!m) return `'${uri}' is not a libvirt URI`;
  const transport = m[2] ?? '';
  const authority = decode(m[3] ?? '');
  if (!SAFE_TRANSPORTS.has(transport)) {
    return transport === 'ext'
      ? "transport '+ext' runs an external program to connect"
      : transport === 'libssh'
        ? // libvirt 9.0's libssh client quits a GLib main loop it already freed (GLib-CRITICAL
          // g_main_loop_quit on every `fleet up`/`destroy` here; a SIGSEGV when the memory is reused).
          "transport '+libssh' crashes libvirt's client (a use-after-free in its event loop); use +libssh2 or +ssh"
        : transport === 'tcp'
          ? "transport '+tcp' is unencrypted and unauthenticated; use +tls or +ssh"
          : `unknown transport '+${transport}'`;
  }
  // ssh gets the user and host as arguments: one starting with '-' would be read as an option.
  const [userPart, hostPart] = authority.includes('@')
    ? [authority.slice(0, authority.lastIndexOf('@')), authority.slice(authority.lastIndexOf('@') + 1)]
    : ['', authority];
  if (/^-|[\s'"`$;|&<>\\]/.test(userPart) || /^-|[^A-Za-z0-9.:[\]-]/.test(hostPart)) {
    return `user/host '${authority}' is not a plain user@host[:port]`;
  }
  for (const pair of (m[5] ?? '').split(/[&;]/)) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const name = decode(eq < 0 ? pair : pair.slice(0, eq)).toLowerCase();
    const value = decode(eq < 0 ? '' : pair.slice(eq + 1));
    const check = PARAMS[name];
    if (!check)
      return `parameter '${name}' is not one fleet knows to be safe (libvirt passes it on to the remote end)`;
    const problem = check(value, transport);
    if (problem) return `parameter '${name}=${value}' ${problem}`;
  }
  return undefined;
}
