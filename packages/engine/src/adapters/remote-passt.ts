// `network: isolated` for an agent on a remote libvirt host: its passt runs on THAT host (QEMU there joins its socket),
// started and stopped over the host's SSH, the session fleet already holds for port checks and the SPICE tunnel. The
// same passt options, socket layout and firewall table as on this machine (passt.ts, passt-firewall.ts); passt
// daemonizes itself once its socket is bound and writes its own pid file, so a fleet killed mid-start loses nothing.
import { basename, dirname } from 'node:path';
import {
  firewallTableName,
  type GuestNetworkSpec,
  type GuestNetworks,
  isLocalUri,
  type NetworkFirewallSetting,
  PASST_USER,
  passtFirewallScript,
  resolvConfServers,
} from '@agentfleet/core';
import { shq } from '../provision/shell-quote.js';
import { CONFINED_SOCKET_DIR, confinedSocketOf, fleetKeyOf } from './passt-firewall.js';

/** Commands on a libvirt host (over its SSH). */
export interface HostCommands {
  /** stdout of `command` (run by the login's POSIX shell) on `uri`'s host; a non-zero exit rejects. */
  run(uri: string, command: string): Promise<string>;
}

/** What fleet needs to know of a host before it starts a passt there. */
export interface RemotePasstFacts {
  uid: number;
  gid: number;
  passt: boolean;
  nft: boolean;
  /** PASST_USER's ids there, when the user exists. */
  passtUser?: { uid: number; gid: number };
  resolvers: string[];
}

const FACTS = [
  'echo "uid=$(id -u)"',
  'echo "gid=$(id -g)"',
  'echo "passt=$(command -v passt)"',
  'echo "nft=$(command -v nft)"',
  `echo "user=$(getent passwd ${PASST_USER})"`,
  'echo resolv.conf:',
  'cat /etc/resolv.conf 2>/dev/null',
  'exit 0',
].join('\n');

export function parseRemotePasstFacts(out: string): RemotePasstFacts {
  const [head = '', resolv = ''] = out.split('resolv.conf:\n');
  const field = (k: string) => new RegExp(`^${k}=(.*)$`, 'm').exec(head)?.[1]?.trim() ?? '';
  const user = field('user').split(':');
  return {
    uid: Number(field('uid')),
    gid: Number(field('gid')),
    passt: field('passt') !== '',
    nft: field('nft') !== '',
    ...(user.length >= 4 && { passtUser: { uid: Number(user[2]), gid: Number(user[3]) } }),
    resolvers: resolvConfServers(resolv),
  };
}

/**
 * `running PIDFILE SOCKET`: prints the pid of the live passt serving SOCKET, read from its own pid file and checked in
 * /proc (a recycled pid names another process, whose command line does not hold that socket path).
 */
const RUNNING_FN = [
  'running() {',
  '  p=$(cat "$1" 2>/dev/null) || return 1',
  '  case $p in ""|*[!0-9]*) return 1;; esac',
  '  tr "\\000" "\\n" < /proc/$p/cmdline 2>/dev/null | grep -qxF -e "$2" || return 1',
  '  echo "$p"',
  '}',
].join('\n');

/** The pid file next to where passt binds: a confined passt (no longer root) can only write in its own dir. */
const pidFileOf = (bindPath: string) => bindPath.replace(/\.sock$/, '.pid');

/** One line the scripts end with: `ok`, or `error: <why>` (their exit is 0 either way, so the reason is theirs). */
function outcome(out: string): string | undefined {
  const last = out.trim().split('\n').at(-1) ?? '';
  if (last === 'ok') return undefined;
  return last.startsWith('error: ')
    ? last.slice('error: '.length)
    : `unexpected answer: ${out.trim().slice(-300)}`;
}

export interface RemotePasstOptions {
  host: HostCommands;
  /** fleet.yaml `networkFirewall`; `auto` confines passt when fleet logs in to the host as root. */
  firewall: NetworkFirewallSetting;
}

export class RemotePasstNetworks implements GuestNetworks {
  private readonly facts = new Map<string, Promise<RemotePasstFacts>>();
  /** Table changes and confined starts of this process, one at a time (as PasstNetworks does locally). */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly opts: RemotePasstOptions) {}

  /** The agent's socket directory is made on its host by `ensure` (nothing of a remote agent is in the state dir). */
  async prepareDir(): Promise<void> {}

  private factsOf(uri: string): Promise<RemotePasstFacts> {
    let f = this.facts.get(uri);
    if (!f) {
      f = this.opts.host.run(uri, FACTS).then(parseRemotePasstFacts);
      f.catch(() => this.facts.delete(uri));
      this.facts.set(uri, f);
    }
    return f;
  }

  private serially<T>(work: () => Promise<T>): Promise<T> {
    const next = this.queue.then(work, work);
    this.queue = next.catch(() => undefined);
    return next;
  }

  async ensure(spec: GuestNetworkSpec): Promise<void> {
    const facts = await this.factsOf(spec.uri);
    const who = `passt for agent ${spec.agent} on ${hostOf(spec.uri)}`;
    if (!facts.passt)
      throw new Error(
        `${who}: passt is not installed there (network: isolated runs each agent's passt on its libvirt host): install the passt package on that host, or set network: open or none in the agent's file`,
      );
    const confine = this.confines(facts);
    if (confine === 'refused')
      throw new Error(
        `${who}: networkFirewall: on needs fleet to log in to that host as root (it adds an nftables table and runs passt as ${PASST_USER}), but it logs in as uid ${facts.uid}: log in as root (root@ in the host's URI), or set networkFirewall: off in fleet.yaml`,
      );
    if (!confine) return this.runScript(spec.uri, who, startScript(spec, facts));
    if (!facts.nft)
      throw new Error(
        `${who}: networkFirewall needs nft there, and that host has none: install the nftables package on it, or set networkFirewall: off in fleet.yaml`,
      );
    const user = facts.passtUser;
    if (!user)
      throw new Error(
        `${who}: networkFirewall runs passt as the system user ${PASST_USER}, which that host lacks: create it there with ` +
          `\`useradd --system --user-group --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin ${PASST_USER}\`, ` +
          'or set networkFirewall: off in fleet.yaml',
      );
    await this.serially(() => this.runScript(spec.uri, who, startScript(spec, facts, user)));
  }

  async isRunning(socketPath: string, uri: string): Promise<boolean> {
    const out = await this.opts.host.run(
      uri,
      [
        RUNNING_FN,
        ...[socketPath, confinedSocketOf(socketPath)].map(
          (b) => `running ${shq(pidFileOf(b))} ${shq(b)} && exit 0`,
        ),
        'exit 0',
      ].join('\n'),
    );
    return /^\d+$/.test(out.trim());
  }

  async stop(socketPath: string, uri: string): Promise<void> {
    const facts = await this.factsOf(uri);
    const who = `stopping the passt of ${basename(dirname(socketPath))} on ${hostOf(uri)}`;
    await this.serially(() => this.runScript(uri, who, stopScript(socketPath, facts.uid === 0 && facts.nft)));
  }

  /** Confined, unconfined, or `on` where it cannot be. */
  private confines(facts: RemotePasstFacts): boolean | 'refused' {
    const root = facts.uid === 0;
    if (this.opts.firewall === 'off') return false;
    if (this.opts.firewall === 'auto') return root;
    return root ? true : 'refused';
  }

  private async runScript(uri: string, who: string, script: string): Promise<void> {
    const why = outcome(await this.opts.host.run(uri, script));
    if (why !== undefined) throw new Error(`${who}: ${why}`);
  }
}

const hostOf = (uri: string) => {
  try {
    return new URL(uri).hostname || uri;
  } catch {
    return uri;
  }
};

/**
 * Starts the agent's passt unless one serves its socket. Confined (`user`): the fleet's table first (replaced
 * atomically, also when passt already runs), passt bound in CONFINED_SOCKET_DIR as PASST_USER, and a link at the
 * socket path the domain names.
 */
function startScript(
  spec: GuestNetworkSpec,
  facts: RemotePasstFacts,
  user?: { uid: number; gid: number },
): string {
  const sock = spec.socketPath;
  const dir = dirname(sock);
  const bind = user ? confinedSocketOf(sock) : sock;
  const key = fleetKeyOf(sock);
  const table = firewallTableName(key);
  const runas = user ? `${user.uid}:${user.gid}` : `${facts.uid}:${facts.gid}`;
  // /run/agentfleet, the fleet's dir, its run/ and the agent's dir: 0700 each, as the state dir is here.
  const dirs = [dirname(dirname(dirname(dir))), dirname(dirname(dir)), dirname(dir), dir];
  const lines = [
    'set -u',
    RUNNING_FN,
    `SOCK=${shq(sock)} CONF=${shq(confinedSocketOf(sock))} BIND=${shq(bind)} PIDF=${shq(pidFileOf(bind))}`,
    `LOG=${shq(`${dir}/passt.log`)}`,
  ];
  if (user) {
    const script = passtFirewallScript({ table, uid: user.uid, resolvers: facts.resolvers });
    lines.push(
      'ERR=$(mktemp)',
      'nft -f - 2>"$ERR" <<\'AGENTFLEET_NFT\'',
      script.trimEnd(),
      'AGENTFLEET_NFT',
      `[ $? -eq 0 ] || { echo "error: nft refused the fleet's table ${table}: $(tr '\\n' ' ' < "$ERR")"; rm -f "$ERR"; exit 0; }`,
      'rm -f "$ERR"',
      `mkdir -p ${CONFINED_SOCKET_DIR} && [ -d ${CONFINED_SOCKET_DIR} ] && [ ! -L ${CONFINED_SOCKET_DIR} ] && chown ${runas} ${CONFINED_SOCKET_DIR} && chmod 0700 ${CONFINED_SOCKET_DIR} ||`,
      `  { echo "error: cannot prepare ${CONFINED_SOCKET_DIR} for ${PASST_USER}"; exit 0; }`,
    );
  }
  // The domain names SOCK: a confined passt is reached through a link there.
  const link = '[ "$(readlink "$SOCK")" = "$CONF" ] || { rm -f "$SOCK"; ln -s "$CONF" "$SOCK"; }';
  // A failed start leaves no table of a fleet that has no confined passt left there.
  const dropTable = user ? [dropUnusedTable(key)] : [];
  lines.push(
    // One already serving the agent (started before networkFirewall changed, too) is kept, as on this machine.
    `if running ${shq(pidFileOf(sock))} "$SOCK" >/dev/null; then echo ok; exit 0; fi`,
    `if running ${shq(pidFileOf(confinedSocketOf(sock)))} "$CONF" >/dev/null; then ${link}; echo ok; exit 0; fi`,
    'umask 077',
    `mkdir -p ${shq(dir)} && chmod 0700 ${dirs.map(shq).join(' ')} || { echo "error: cannot make ${dir} (0700)"; exit 0; }`,
    // A socket file left by a passt that died would make the new one fail to bind.
    'rm -f "$SOCK" "$BIND" "$PIDF"',
    [
      'if ! passt --quiet --no-map-gw --ipv4-only --socket "$BIND"',
      `--tcp-ports 127.0.0.1/${spec.sshPort}:22 --udp-ports none --runas ${runas} --pid "$PIDF"`,
      '>"$LOG" 2>&1 </dev/null; then',
    ].join(' '),
    ...dropTable.map((l) => `  ${l}`),
    `  echo "error: passt exited before binding $BIND: $(grep -v '^Failed to send' "$LOG" | tail -n 5 | tr '\\n' ' ')"`,
    '  rm -f "$BIND"; exit 0',
    'fi',
    '[ -S "$BIND" ] || { echo "error: passt reported a start but $BIND is no socket"; exit 0; }',
    ...(user ? [link] : []),
    'echo ok',
  );
  return lines.join('\n');
}

/** Stops the passt serving the socket (TERM, then KILL after 3 s); with `firewall`, the table goes with the last one. */
function stopScript(socketPath: string, firewall: boolean): string {
  const confined = confinedSocketOf(socketPath);
  return [
    'set -u',
    RUNNING_FN,
    ...[socketPath, confined].map((b) =>
      [
        `if p=$(running ${shq(pidFileOf(b))} ${shq(b)}); then`,
        '  kill -TERM "$p" 2>/dev/null; i=0',
        `  while running ${shq(pidFileOf(b))} ${shq(b)} >/dev/null && [ $i -lt 30 ]; do sleep 0.1; i=$((i+1)); done`,
        '  kill -KILL "$p" 2>/dev/null',
        'fi',
      ].join('\n'),
    ),
    `rm -f ${[socketPath, confined, pidFileOf(socketPath), pidFileOf(confined)].map(shq).join(' ')}`,
    ...(firewall ? [dropUnusedTable(fleetKeyOf(socketPath))] : []),
    'echo ok',
  ].join('\n');
}

/** Removes the fleet's table once no confined passt of the fleet runs on the host (one not there is fine). */
function dropUnusedTable(fleetKey: string): string {
  const table = firewallTableName(fleetKey);
  return [
    'left=',
    `for f in ${CONFINED_SOCKET_DIR}/${fleetKey}-*.pid; do running "$f" "\${f%.pid}.sock" >/dev/null && left=1; done`,
    `[ -n "$left" ] || ! nft list table inet ${table} >/dev/null 2>&1 || nft delete table inet ${table} 2>/dev/null || true`,
  ].join('; ');
}

/**
 * The host ports the live passts of `sockets` (on `uri`'s host) forward to their guests' SSH: those listeners are the
 * agents' own, not conflicts. socket path -> port.
 */
export async function remotePasstSshPorts(
  host: HostCommands,
  uri: string,
  sockets: readonly string[],
): Promise<Map<string, number>> {
  if (sockets.length === 0 || isLocalUri(uri)) return new Map();
  const lines = [RUNNING_FN];
  for (const s of sockets)
    for (const b of [s, confinedSocketOf(s)])
      lines.push(
        `if p=$(running ${shq(pidFileOf(b))} ${shq(b)}); then printf '%s\\t' ${shq(s)}; tr "\\000" "\\n" < /proc/$p/cmdline | grep -A1 -x -e --tcp-ports | tail -n 1; fi`,
      );
  lines.push('exit 0');
  const ports = new Map<string, number>();
  for (const line of (await host.run(uri, lines.join('\n'))).split('\n')) {
    const m = /^(.+)\t.*\/(\d+):22$/.exec(line);
    if (m?.[1] && m[2]) ports.set(m[1], Number(m[2]));
  }
  return ports;
}

/** Local agents' passts on this machine, remote agents' on their hosts. */
export class HostNetworks implements GuestNetworks {
  constructor(
    private readonly local: GuestNetworks,
    private readonly remote: GuestNetworks,
  ) {}

  prepareDir(dir: string): Promise<void> {
    return this.local.prepareDir(dir);
  }

  ensure(spec: GuestNetworkSpec): Promise<void> {
    return this.on(spec.uri).ensure(spec);
  }

  isRunning(socketPath: string, uri: string): Promise<boolean> {
    return this.on(uri).isRunning(socketPath, uri);
  }

  stop(socketPath: string, uri: string): Promise<void> {
    return this.on(uri).stop(socketPath, uri);
  }

  private on(uri: string): GuestNetworks {
    return isLocalUri(uri) ? this.local : this.remote;
  }
}
