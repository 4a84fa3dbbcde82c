import { mkdir, readFile, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { writeFileAtomic } from '@agentfleet/atomic-file';
import { isLocalUri } from '@agentfleet/core';
import { PRIVATE_DIR_MODE, PRIVATE_FILE_MODE } from '../adapters/state-dir.js';

/** fw_cfg entry (opt/agentfleet/<name>) the guest takes its SSH host key from. */
export const HOST_KEY_FWCFG = 'ssh_host_ed25519_key';

/** Two "type base64 [comment]" lines name the same key. */
export const sameKeyLine = (a: string, b: string) =>
  a.split(/\s+/).slice(0, 2).join(' ') === b.split(/\s+/).slice(0, 2).join(' ');

export interface HostKeyPair {
  /** OpenSSH-format private key. */
  privateKey: string;
  /** "ssh-ed25519 AAAA...". */
  publicKey: string;
}

/**
 * A host key made on the host before the agent's first boot: `<stateDir>/hostkeys/agent-<name>`
 * (+ `.pub`). It stays only until the guest has presented it (then it lives on the guest's disk
 * alone), or until the disk it was made for goes (`destroy --purge`).
 */
export const pregeneratedKeyPath = (stateDir: string, agent: string) =>
  join(hostKeysDir(stateDir), `agent-${agent}_ed25519`);

/** Where the host keys made before first boot live (atomic writes: a killed run may leave temps there). */
export const hostKeysDir = (stateDir: string) => join(stateDir, 'hostkeys');

/**
 * Where a remote libvirt host's QEMU reads an agent's pre-generated key (its fw_cfg file): a copy fleet puts there,
 * named by the fleet's id; persistent (QEMU reads it at every start, libvirt's autostart included) and outside the
 * fleet's pool directory (where a file would be a volume).
 */
export const remoteKeyPath = (fleetId: string, agent: string) =>
  `/var/lib/agentfleet/${fleetId}/hostkeys/agent-${agent}_ed25519`;

/** Files on a remote libvirt host, over its SSH. */
export interface HostFiles {
  /**
   * Copies the local file `local` to `remote` on `uri`'s host with the local file's mode (over SFTP: never on a
   * command line), its directories made 0700; the file appears complete or not at all.
   */
  put(uri: string, local: string, remote: string): Promise<void>;
  /** Removes `remote` on `uri`'s host; one that is not there is fine. */
  remove(uri: string, remote: string): Promise<void>;
}

/**
 * Where the engine keeps host keys made on the host before first boot (`up --pregenerate-host-keys`,
 * `reset`). Behind an interface so the engine's in-memory tests touch no real path.
 */
export interface HostKeyStore {
  read(agent: string): Promise<HostKeyPair | undefined>;
  write(agent: string, pair: HostKeyPair): Promise<void>;
  /** Once the guest has presented it, or with the agent's disk (`destroy --purge`); no error when there is none. */
  remove(agent: string): Promise<void>;
  /** The private key's file on `uri`'s host, which QEMU hands to the guest through fw_cfg (never the key itself). */
  fwcfgPath(agent: string, uri: string): string;
  /** Makes that file exist on `uri`'s host before QEMU starts there (this machine's is the state dir's). */
  placeOn(agent: string, uri: string): Promise<void>;
  /** Removes the copy on `uri`'s host, if any (this machine's goes with `remove` and purge's file list). */
  removeOn(agent: string, uri: string): Promise<void>;
}

export interface RemoteHostKeys {
  /** Names the copies on remote hosts (undefined before the fleet's first ledger). */
  fleetId: string | undefined;
  files: HostFiles;
}

/** The state dir's `hostkeys/` (0700, keys 0600); for agents on remote hosts, a 0600 copy on their host. */
export class FileHostKeyStore implements HostKeyStore {
  constructor(
    private readonly stateDir: string,
    private readonly remote?: RemoteHostKeys,
  ) {}

  fwcfgPath(agent: string, uri: string): string {
    if (isLocalUri(uri)) return pregeneratedKeyPath(this.stateDir, agent);
    const fleetId = this.remote?.fleetId;
    if (fleetId === undefined)
      throw new Error(
        `agent '${agent}' is on ${uri}, where its pre-generated host key's file is named by the fleet's id: run 'fleet allocate' first`,
      );
    return remoteKeyPath(fleetId, agent);
  }

  async placeOn(agent: string, uri: string): Promise<void> {
    if (isLocalUri(uri)) return;
    const remote = this.fwcfgPath(agent, uri);
    await this.hostFiles(agent, uri)
      .put(uri, pregeneratedKeyPath(this.stateDir, agent), remote)
      .catch((err: Error) => {
        throw new Error(
          `cannot put the pre-generated host key of agent '${agent}' at ${remote} on its host ${uri} (${err.message}): ` +
            "its QEMU reads it there. The host's sshd must offer SFTP (Subsystem sftp); or start over without it: " +
            `'fleet destroy --purge ${agent}' then 'fleet up --no-pregenerate-host-keys ${agent}'`,
        );
      });
  }

  async removeOn(agent: string, uri: string): Promise<void> {
    if (isLocalUri(uri) || this.remote?.fleetId === undefined) return;
    await this.hostFiles(agent, uri).remove(uri, this.fwcfgPath(agent, uri));
  }

  private hostFiles(agent: string, uri: string): HostFiles {
    if (!this.remote)
      throw new Error(`the host key of agent '${agent}' on ${uri} needs that host's SSH here`);
    return this.remote.files;
  }

  async read(agent: string): Promise<HostKeyPair | undefined> {
    const path = pregeneratedKeyPath(this.stateDir, agent);
    try {
      const [privateKey, publicKey] = await Promise.all([
        readFile(path, 'utf8'),
        readFile(`${path}.pub`, 'utf8'),
      ]);
      return { privateKey, publicKey: publicKey.trim() };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  /** Public half first: a run killed in between leaves no private key without its public one. */
  async write(agent: string, pair: HostKeyPair): Promise<void> {
    const path = pregeneratedKeyPath(this.stateDir, agent);
    await mkdir(dirname(path), { recursive: true, mode: PRIVATE_DIR_MODE });
    await writeFileAtomic(`${path}.pub`, `${pair.publicKey}\n`, PRIVATE_FILE_MODE);
    await writeFileAtomic(path, pair.privateKey, PRIVATE_FILE_MODE);
  }

  async remove(agent: string): Promise<void> {
    const path = pregeneratedKeyPath(this.stateDir, agent);
    await rm(path, { force: true });
    await rm(`${path}.pub`, { force: true });
  }
}
