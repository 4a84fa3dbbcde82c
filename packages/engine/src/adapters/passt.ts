// The `network: isolated` helper: one passt per agent, started by fleet on this machine.
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { chmod, mkdir, readdir, readFile, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { GuestNetworkSpec, GuestNetworks } from '@agentfleet/core';

export interface PasstOptions {
  /** The passt binary (Debian's `passt`). */
  binary?: string;
  /** How long passt may take to bind its socket. */
  readyTimeoutMs?: number;
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

  constructor(opts: PasstOptions = {}) {
    this.binary = opts.binary ?? 'passt';
    this.readyTimeoutMs = opts.readyTimeoutMs ?? 10_000;
  }

  async prepareDir(dir: string): Promise<void> {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    // An existing directory (made by hand or an older fleet) is tightened, not trusted.
    await chmod(dirname(dir), 0o700);
    await chmod(dir, 0o700);
  }

  async ensure(spec: GuestNetworkSpec): Promise<void> {
    if ((await passtPids(spec.socketPath)).length > 0) return;
    await this.prepareDir(dirname(spec.socketPath));
    // A socket file left by a passt that died would make the new one fail to bind.
    await rm(spec.socketPath, { force: true });
    const log = openSync(passtLogOf(spec.socketPath), 'w', 0o600);
    const args = [
      '--foreground',
      '--quiet',
      // The guest's gateway is the host's real gateway, not an alias of the host's loopback.
      '--no-map-gw',
      '--ipv4-only',
      '--socket',
      spec.socketPath,
      '--tcp-ports',
      `127.0.0.1/${spec.sshPort}:22`,
      '--udp-ports',
      'none',
      // passt drops root to `nobody` before it binds its socket, which then cannot enter a 0700
      // directory of root's: it runs as fleet's own user, confined by its own sandbox.
      '--runas',
      `${process.getuid?.() ?? 0}:${process.getgid?.() ?? 0}`,
    ];
    let exited: string | undefined;
    try {
      const child = spawn(this.binary, args, { detached: true, stdio: ['ignore', log, log] });
      child.on('error', (err) => {
        exited = `cannot run ${this.binary} (${err.message}): install the passt package`;
      });
      child.on('exit', (code, signal) => {
        exited ??= `passt exited (${code ?? signal}) before binding ${spec.socketPath}`;
      });
      child.unref();
    } finally {
      closeSync(log);
    }
    const deadline = Date.now() + this.readyTimeoutMs;
    while (!(await isSocket(spec.socketPath))) {
      if (exited !== undefined || Date.now() > deadline) {
        await this.stop(spec.socketPath);
        const said = (await readFile(passtLogOf(spec.socketPath), 'utf8').catch(() => ''))
          .split('\n')
          .filter((l) => l.trim() !== '' && !l.startsWith('Failed to send'))
          .slice(-5)
          .join('\n  ');
        throw new Error(
          `passt for agent ${spec.agent}: ${exited ?? `no socket at ${spec.socketPath} after ${this.readyTimeoutMs} ms`}` +
            (said ? `\n  ${said}` : ''),
        );
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  async isRunning(socketPath: string): Promise<boolean> {
    return (await passtPids(socketPath)).length > 0;
  }

  async stop(socketPath: string): Promise<void> {
    const pids = await passtPids(socketPath);
    for (const pid of pids) signal(pid, 'SIGTERM');
    const deadline = Date.now() + 3000;
    while ((await passtPids(socketPath)).length > 0) {
      if (Date.now() > deadline) {
        for (const pid of await passtPids(socketPath)) signal(pid, 'SIGKILL');
        break;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    await rm(socketPath, { force: true });
  }
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
export async function passtPids(socketPath: string): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const argv = await readFile(`/proc/${entry}/cmdline`, 'utf8').then(
      (t) => t.split('\0'),
      () => [] as string[],
    );
    if (!basename(argv[0] ?? '').startsWith('passt')) continue;
    const at = argv.findIndex((a) => a === '--socket' || a === '-s');
    if (at >= 0 && argv[at + 1] === socketPath && !(await isZombie(entry))) pids.push(Number(entry));
  }
  return pids;
}

async function isZombie(pid: string): Promise<boolean> {
  const status = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  return / Z /.test(status.slice(status.lastIndexOf(')')));
}
