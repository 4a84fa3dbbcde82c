// The `network: isolated` helper: one passt per agent, started by fleet on this machine.
import { spawn } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { chmod, mkdir, readFile, readlink, rm, stat, symlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { GuestNetworkSpec, GuestNetworks, NetworkFirewallSetting } from '@agentfleet/core';
import {
  applyPasstFirewall,
  CONFINED_SOCKET_DIR,
  confinedSocketOf,
  ensurePasstUser,
  fleetKeyOf,
  isConfinedSocketOfFleet,
  prepareConfinedDir,
  removePasstFirewall,
} from './passt-firewall.js';

export interface PasstOptions {
  /** The passt binary (Debian's `passt`). */
  binary?: string;
  /** How long passt may take to bind its socket. */
  readyTimeoutMs?: number;
  /**
   * `networkFirewall` on: passt runs as PASST_USER behind the fleet's nftables table (root only).
   * Off: passt runs as fleet's own user and reaches whatever the host reaches but its loopback.
   */
  confine?: boolean;
}

/** passt's log beside its socket: its start-up report and whatever it says when it fails. */
export const passtLogOf = (socketPath: string) => join(dirname(socketPath), 'passt.log');

/**
 * passt per agent, found again by its socket path in /proc/<pid>/cmdline (no pid file that a
 * kill between spawn and write could lose, nor a recycled pid that could name another process).
 * passt runs detached, so it outlives a killed fleet and keeps a running guest's network; the
 * engine stops it once the domain is down.
 */
export class PasstNetworks implements GuestNetworks {
  private readonly binary: string;
  private readonly readyTimeoutMs: number;
  private readonly confine: boolean;
  /**
   * Table changes and confined starts of this process, one at a time: a stop that finds no
   * confined passt left must not remove the table under a start that has installed it but whose
   * passt is not yet visible. (Runs of one fleet are serialised by its lock; fleets have own tables.)
   */
  private firewallQueue: Promise<unknown> = Promise.resolve();
  /**
   * Fleets (by key) whose table this process removed or found absent, and has not installed since: every applying
   * run stops each idle agent's passt, and asking nft again for each would put one `nft` process per agent
   * (~40 ms each, one at a time) before the first domain starts. An instance serves one run, under the fleet's
   * lock: no other run of this fleet installs the table meanwhile.
   */
  private readonly tablesGone = new Set<string>();

  constructor(opts: PasstOptions = {}) {
    this.binary = opts.binary ?? 'passt';
    this.readyTimeoutMs = opts.readyTimeoutMs ?? 10_000;
    this.confine = opts.confine ?? false;
  }

  private serially<T>(work: () => Promise<T>): Promise<T> {
    const next = this.firewallQueue.then(work, work);
    this.firewallQueue = next.catch(() => undefined);
    return next;
  }

  async prepareDir(dir: string): Promise<void> {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    // An existing directory (made by hand or an older fleet) is tightened, not trusted.
    await chmod(dirname(dir), 0o700);
    await chmod(dir, 0o700);
  }

  async ensure(spec: GuestNetworkSpec): Promise<void> {
    if (!this.confine) return this.start(spec);
    if (process.getuid?.() !== 0)
      throw new Error(
        `passt for agent ${spec.agent}: networkFirewall: on needs fleet to run as root (it adds an nftables table ` +
          'and runs passt as its own system user); run fleet as root, or set networkFirewall: off in fleet.yaml',
      );
    await this.serially(async () => {
      const id = await ensurePasstUser();
      // Also when passt already runs: a table removed by hand is back before the guest's next connection.
      const key = fleetKeyOf(spec.socketPath);
      this.tablesGone.delete(key);
      await applyPasstFirewall(key, id);
      await prepareConfinedDir(id);
      await this.start(spec, id).catch(async (err) => {
        await this.removeUnusedFirewall(key);
        throw err;
      });
    });
  }

  private async start(spec: GuestNetworkSpec, confinedAs?: { uid: number; gid: number }): Promise<void> {
    const bindPath = confinedAs ? confinedSocketOf(spec.socketPath) : spec.socketPath;
    const running = passtProcesses(spec.socketPath);
    if (running.length > 0) {
      // A run killed between passt's bind and the link left a confined passt QEMU cannot find.
      if (running.some((p) => p.socket === confinedSocketOf(spec.socketPath)))
        await linkSocket(confinedSocketOf(spec.socketPath), spec.socketPath);
      return;
    }
    await this.prepareDir(dirname(spec.socketPath));
    // A socket file left by a passt that died would make the new one fail to bind.
    await rm(spec.socketPath, { force: true });
    await rm(bindPath, { force: true });
    const log = openSync(passtLogOf(spec.socketPath), 'w', 0o600);
    const args = [
      '--foreground',
      '--quiet',
      // The guest's gateway is the host's real gateway, not an alias of the host's loopback.
      '--no-map-gw',
      '--ipv4-only',
      '--socket',
      bindPath,
      '--tcp-ports',
      `127.0.0.1/${spec.sshPort}:22`,
      '--udp-ports',
      'none',
      // passt drops root to `nobody` before it binds its socket, which then cannot enter a 0700
      // directory of root's: unconfined, it runs as fleet's own user, in its own sandbox.
      '--runas',
      confinedAs
        ? `${confinedAs.uid}:${confinedAs.gid}`
        : `${process.getuid?.() ?? 0}:${process.getgid?.() ?? 0}`,
    ];
    let exited: string | undefined;
    try {
      const child = spawn(this.binary, args, { detached: true, stdio: ['ignore', log, log] });
      child.on('error', (err) => {
        exited = `cannot run ${this.binary} (${err.message}): install the passt package`;
      });
      child.on('exit', (code, signal) => {
        exited ??= `passt exited (${code ?? signal}) before binding ${bindPath}`;
      });
      child.unref();
    } finally {
      closeSync(log);
    }
    const deadline = Date.now() + this.readyTimeoutMs;
    while (!(await isSocket(bindPath))) {
      if (exited !== undefined || Date.now() > deadline) {
        await this.kill(spec.socketPath);
        const said = (await readFile(passtLogOf(spec.socketPath), 'utf8').catch(() => ''))
          .split('\n')
          .filter((l) => l.trim() !== '' && !l.startsWith('Failed to send'))
          .slice(-5)
          .join('\n  ');
        throw new Error(
          `passt for agent ${spec.agent}: ${exited ?? `no socket at ${bindPath} after ${this.readyTimeoutMs} ms`}` +
            (said ? `\n  ${said}` : ''),
        );
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    if (confinedAs) await linkSocket(bindPath, spec.socketPath);
  }

  async isRunning(socketPath: string): Promise<boolean> {
    return passtProcesses(socketPath).length > 0;
  }

  async stop(socketPath: string): Promise<void> {
    await this.kill(socketPath);
    // The fleet's table goes with its last confined passt (also one a crashed run left).
    // With the firewall off that is a courtesy: a host where nft cannot run must still bring agents down.
    if (process.getuid?.() === 0)
      await this.serially(() =>
        this.removeUnusedFirewall(fleetKeyOf(socketPath)).catch((err) => {
          if (this.confine) throw err;
        }),
      );
  }

  /** The fleet's table unless one of its confined passts still runs. Called in the firewall queue. */
  private async removeUnusedFirewall(fleetKey: string): Promise<void> {
    if (this.tablesGone.has(fleetKey)) return;
    const confined = passtSockets();
    if (confined.some((s) => isConfinedSocketOfFleet(s, fleetKey))) return;
    await removePasstFirewall(fleetKey);
    this.tablesGone.add(fleetKey);
  }

  private async kill(socketPath: string): Promise<void> {
    const pids = passtPids(socketPath);
    for (const pid of pids) signal(pid, 'SIGTERM');
    const deadline = Date.now() + 3000;
    while (pids.length > 0 && passtPids(socketPath).length > 0) {
      if (Date.now() > deadline) {
        for (const pid of passtPids(socketPath)) signal(pid, 'SIGKILL');
        break;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    await rm(socketPath, { force: true });
    await rm(confinedSocketOf(socketPath), { force: true });
  }
}

/** `networkFirewall` as this process applies it: `auto` confines passt when fleet runs as root. */
export const passtConfined = (setting: NetworkFirewallSetting) =>
  setting === 'on' || (setting === 'auto' && process.getuid?.() === 0);

/** QEMU joins the path in its domain XML, in the state dir: a link to where the confined passt bound. */
async function linkSocket(target: string, path: string): Promise<void> {
  if ((await readlink(path).catch(() => undefined)) === target) return;
  await rm(path, { force: true });
  await symlink(target, path);
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}

async function isSocket(path: string): Promise<boolean> {
  return stat(path).then(
    (s) => s.isSocket(),
    () => false,
  );
}

/** Live passt processes serving exactly this socket path. */
export const passtPids = (socketPath: string): number[] => passtProcesses(socketPath).map((p) => p.pid);

/**
 * The host ports the passts serving these sockets forward to their guests' SSH (one look at /proc for all): those
 * listeners are the agents' own (allocation must not call them conflicts), not some other process's.
 */
export function passtSshPorts(socketPaths: readonly string[]): Map<string, number> {
  const ports = new Map<string, number>();
  const running = allPassts();
  for (const socketPath of socketPaths)
    for (const { argv } of passtProcesses(socketPath, running)) {
      const port = /\/(\d+):22$/.exec(argv[argv.indexOf('--tcp-ports') + 1] ?? '')?.[1];
      if (port) ports.set(socketPath, Number(port));
    }
  return ports;
}

/**
 * The passts serving socketPath, bound there or (confined) at its path in CONFINED_SOCKET_DIR; of `running`
 * (default: a look at /proc now).
 */
function passtProcesses(socketPath: string, running = allPassts()): PasstProcess[] {
  const paths = [socketPath, confinedSocketOf(socketPath)];
  return running.filter((p) => paths.includes(p.socket));
}

/** Sockets of the live confined passts (of every fleet). */
function passtSockets(): string[] {
  return allPassts()
    .map((p) => p.socket)
    .filter((s) => s.startsWith(`${CONFINED_SOCKET_DIR}/`));
}

interface PasstProcess {
  pid: number;
  argv: string[];
  socket: string;
}

/**
 * Read synchronously on purpose: procfs answers from memory, and one pass (~1 ms for ~100 processes) costs a tenth of
 * the ~100 thread-pool round trips the promise API makes of it, a cost every idle agent's stop at the start of `up`
 * paid again, several at once.
 */
function allPassts(): PasstProcess[] {
  const found: PasstProcess[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const argv = readProc(`/proc/${entry}/cmdline`).split('\0');
    if (!basename(argv[0] ?? '').startsWith('passt')) continue;
    const at = argv.findIndex((a) => a === '--socket' || a === '-s');
    const socket = at >= 0 ? argv[at + 1] : undefined;
    if (socket && !isZombie(entry)) found.push({ pid: Number(entry), argv, socket });
  }
  return found;
}

/** A file under /proc, '' once its process has gone. */
function readProc(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

function isZombie(pid: string): boolean {
  const status = readProc(`/proc/${pid}/stat`);
  return / Z /.test(status.slice(status.lastIndexOf(')')));
}
