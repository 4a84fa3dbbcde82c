import { mkdir, readFile, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { writeFileAtomic } from '@agentfleet/atomic-file';
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
  join(stateDir, 'hostkeys', `agent-${agent}_ed25519`);

/**
 * Where the engine keeps host keys made on the host before first boot (`up --pregenerate-host-keys`,
 * `reset`). Behind an interface so the engine's in-memory tests touch no real path.
 */
export interface HostKeyStore {
  read(agent: string): Promise<HostKeyPair | undefined>;
  write(agent: string, pair: HostKeyPair): Promise<void>;
  /** Once the guest has presented it, or with the agent's disk (`destroy --purge`); no error when there is none. */
  remove(agent: string): Promise<void>;
  /** The private key's file, which QEMU hands to the guest through fw_cfg (never the key itself). */
  fwcfgPath(agent: string): string;
}

/** The state dir's `hostkeys/` (0700, keys 0600). */
export class FileHostKeyStore implements HostKeyStore {
  constructor(private readonly stateDir: string) {}

  fwcfgPath(agent: string): string {
    return pregeneratedKeyPath(this.stateDir, agent);
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
