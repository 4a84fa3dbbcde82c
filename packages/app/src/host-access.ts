import { constants } from 'node:fs';
import { access, readFile } from 'node:fs/promises';
import { homedir, userInfo } from 'node:os';
import { posix } from 'node:path';
import type { Duplex } from 'node:stream';
import type { SshPublicKey } from '@agentfleet/core/provision/hostkey';
import { type HostSsh, hostSshOfUri, parseSsListeners } from '@agentfleet/core/ssh/host-ssh';
import { findKnownHost } from '@agentfleet/core/ssh/known-hosts';
import type { HostFiles } from '@agentfleet/engine';
// The module, not the engine's index: `status` reaches this file, and the index loads every workflow.
import { shq } from '@agentfleet/engine/provision/shell-quote';
import type { JumpHost, SshJumps } from '@agentfleet/ssh';
import { UsageError } from './errors.js';

/**
 * The known_hosts files libvirt's ssh transport trusts (OpenSSH's defaults): a remote libvirt host is already
 * pinned there, or `virsh -c qemu+ssh://...` would not connect either. fleet pins the host to the same key.
 */
export const HOST_KNOWN_HOSTS = [`${homedir()}/.ssh/known_hosts`, '/etc/ssh/ssh_known_hosts'];

/** How fleet (and the ssh_config it writes) logs in to a remote libvirt host. */
export interface HostLogin {
  host: string;
  port: number;
  user: string;
  identityFile: string;
  /** Pinned: from known_hosts (`source`). */
  hostKey: SshPublicKey;
  source: string;
}

/**
 * SSH to remote libvirt hosts, shared by a command's steps: their listening ports (allocation, port checks) and
 * connections to their loopback (agents' forwards). ssh2 loads on first use: local fleets never load it.
 */
export class HostAccess implements HostFiles {
  private jumps: Promise<SshJumps> | undefined;

  /** The login for `uri`'s host, its key pinned from known_hosts; undefined for a local URI. */
  async login(uri: string): Promise<HostLogin | undefined> {
    let ssh: HostSsh | undefined;
    try {
      ssh = hostSshOfUri(uri);
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
    if (!ssh) return undefined;
    const pin = await pinnedHostKey(ssh);
    return {
      host: ssh.host,
      port: ssh.port,
      user: ssh.user ?? userInfo().username,
      identityFile: await identityFor(ssh),
      hostKey: pin.key,
      source: pin.source,
    };
  }

  /** `login` with its private key read, as fleet's own ssh2 sessions need it. */
  async jumpHost(uri: string): Promise<JumpHost | undefined> {
    const l = await this.login(uri);
    if (!l) return undefined;
    return {
      who: `libvirt host ${l.host}`,
      host: l.host,
      port: l.port,
      user: l.user,
      privateKey: await readFile(l.identityFile, 'utf8'),
      hostKey: l.hostKey,
      source: l.source,
    };
  }

  /** Ports listening on `uri`'s host (any address), through its SSH (`ss -Htln`). */
  async listeners(uri: string): Promise<number[]> {
    const j = await this.requireJump(uri);
    return parseSsListeners(await (await this.sshJumps()).run(j, 'ss -Htln'));
  }

  /** A connection to host:port as `uri`'s host sees it. */
  async dial(uri: string, host: string, port: number, timeoutMs?: number): Promise<Duplex> {
    return (await this.sshJumps()).dial(await this.requireJump(uri), host, port, timeoutMs);
  }

  /** A connection to the unix socket at `path` on `uri`'s host. */
  async dialUnix(uri: string, path: string, timeoutMs?: number): Promise<Duplex> {
    return (await this.sshJumps()).dialUnix(await this.requireJump(uri), path, timeoutMs);
  }

  /** stdout of a command on `uri`'s host. */
  async run(uri: string, command: string): Promise<string> {
    return (await this.sshJumps()).run(await this.requireJump(uri), command);
  }

  async put(uri: string, local: string, remote: string): Promise<void> {
    const dir = posix.dirname(remote);
    const partial = `${remote}.partial`;
    // umask 077: every directory mkdir makes on the way is 0700 too.
    await this.run(
      uri,
      `umask 077 && mkdir -p ${shq(dir)} && chmod 0700 ${shq(dir)} && rm -f ${shq(partial)}`,
    );
    const shell = await (await this.sshJumps()).shell(await this.requireJump(uri));
    // SFTP creates it with the local file's mode: a key file is 0600 from its first byte.
    await shell.upload([{ local, remote: partial }]);
    await this.run(uri, `mv -f ${shq(partial)} ${shq(remote)}`);
  }

  async remove(uri: string, remote: string): Promise<void> {
    await this.run(uri, `rm -f ${shq(remote)} ${shq(`${remote}.partial`)}`);
  }

  async closeAll(): Promise<void> {
    const j = this.jumps;
    this.jumps = undefined;
    if (j) await (await j).closeAll();
  }

  private async requireJump(uri: string): Promise<JumpHost> {
    const j = await this.jumpHost(uri);
    if (!j) throw new Error(`${uri} is this machine: no SSH needed`);
    return j;
  }

  private sshJumps(): Promise<SshJumps> {
    this.jumps ??= import('@agentfleet/ssh').then((m) => new m.SshJumps());
    return this.jumps;
  }
}

/** The URI's `keyfile`, else the first of OpenSSH's default identities, as libvirt's ssh would log in. */
async function identityFor(ssh: HostSsh): Promise<string> {
  const candidates =
    ssh.identityFile !== undefined
      ? [ssh.identityFile]
      : ['id_ed25519', 'id_ecdsa', 'id_rsa'].map((k) => `${homedir()}/.ssh/${k}`);
  for (const file of candidates) {
    if (
      await access(file, constants.R_OK).then(
        () => true,
        () => false,
      )
    )
      return file;
  }
  throw new UsageError(
    `no SSH key to log in to the libvirt host of ${ssh.uri}: tried ${candidates.join(', ')} (name one with ?keyfile= in the URI)`,
  );
}

async function pinnedHostKey(ssh: HostSsh) {
  const files = ssh.knownHostsFile !== undefined ? [ssh.knownHostsFile] : HOST_KNOWN_HOSTS;
  for (const file of files) {
    const text = await readFile(file, 'utf8').catch(() => '');
    const key = findKnownHost(text, ssh.host, ssh.port);
    if (key) return { key, source: file };
  }
  const keyscan = `ssh-keyscan${ssh.port === 22 ? '' : ` -p ${ssh.port}`} ${ssh.host}`;
  throw new UsageError(
    `the SSH host key of ${ssh.host} (libvirt host of ${ssh.uri}) is not in ${files.join(' or ')}: ` +
      `fleet pins remote hosts like libvirt does. Run \`${keyscan}\`, check the fingerprint with the host's ` +
      `owner, and append the line to ${files[0]}`,
  );
}
