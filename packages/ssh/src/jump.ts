import type { Duplex } from 'node:stream';
import type { SshPublicKey } from '@agentfleet/core';
import { connectShell } from './connect.js';
import type { SshShell } from './shell.js';

/** A libvirt host fleet logs in to, to reach what listens on its loopback (agents' forwards) and to run `ss`. */
export interface JumpHost {
  /** For messages: the host's libvirt URI or name. */
  who: string;
  host: string;
  port: number;
  user: string;
  privateKey: string;
  /** The host's key, pinned (fleet never trusts a jump host on first use: libvirt's ssh already needs it known). */
  hostKey: SshPublicKey;
  /** Where the pin comes from (known_hosts path), for a mismatch message. */
  source: string;
}

/** One SSH session per jump host, shared by every dial and command of a run; reopened once it is lost. */
export class SshJumps {
  private readonly shells = new Map<string, Promise<SshShell>>();

  shell(j: JumpHost): Promise<SshShell> {
    const key = `${j.user}@${j.host}:${j.port}`;
    let s = this.shells.get(key);
    if (!s) {
      s = connectShell({
        who: j.who,
        host: j.host,
        port: j.port,
        user: j.user,
        privateKey: j.privateKey,
        hostKey: { kind: 'pinned', key: j.hostKey, source: j.source },
      });
      this.shells.set(key, s);
      const forget = () => {
        if (this.shells.get(key) === s) this.shells.delete(key);
      };
      s.then((shell) => shell.ended().then(forget), forget);
    }
    return s;
  }

  /** A connection to host:port as seen from the jump host (its 127.0.0.1 is its own loopback). */
  async dial(j: JumpHost, host: string, port: number, timeoutMs?: number): Promise<Duplex> {
    const shell = await this.shell(j);
    return shell.forwardOut(host, port, timeoutMs === undefined ? {} : { timeoutMs });
  }

  /** A connection to the unix socket at `path` on the jump host. */
  async dialUnix(j: JumpHost, path: string, timeoutMs?: number): Promise<Duplex> {
    const shell = await this.shell(j);
    return shell.forwardOutUnix(path, timeoutMs === undefined ? {} : { timeoutMs });
  }

  /** stdout of `command` on the jump host; a non-zero exit is an error with its stderr. */
  async run(j: JumpHost, command: string): Promise<string> {
    const shell = await this.shell(j);
    let out = '';
    let err = '';
    const code = await shell.exec(command, (chunk, stream) => {
      if (stream === 'stdout') out += chunk;
      else err += chunk;
    });
    if (code !== 0) throw new Error(`${j.who}: \`${command}\` exited ${code}: ${err.trim()}`);
    return out;
  }

  async closeAll(): Promise<void> {
    const all = [...this.shells.values()];
    this.shells.clear();
    await Promise.all(all.map((s) => s.then((shell) => shell.close()).catch(() => undefined)));
  }
}
