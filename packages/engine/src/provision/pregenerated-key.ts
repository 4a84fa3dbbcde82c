import { mkdir, readFile, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { writeFileAtomic } from '@agentfleet/atomic-file';
import { PRIVATE_DIR_MODE, PRIVATE_FILE_MODE } from '../adapters/state-dir.js';

/** fw_cfg entry (opt/agentfleet/<name>) the guest takes its SSH host key from. */
export const HOST_KEY_FWCFG = 'ssh_host_ed25519_key';

export interface HostKeyPair {
  /** OpenSSH-format private key. */
  privateKey: string;
  /** "ssh-ed25519 AAAA...". */
  publicKey: string;
}

/**
 * A host key made on the host before the agent's first boot: `<stateDir>/hostkeys/agent-<name>`
 * (+ `.pub`). It belongs to the agent's disk and goes away with it (`destroy --purge`).
 */
export const pregeneratedKeyPath = (stateDir: string, agent: string) =>
  join(stateDir, 'hostkeys', `agent-${agent}_ed25519`);

export async function readPregeneratedKey(stateDir: string, agent: string): Promise<HostKeyPair | undefined> {
  const path = pregeneratedKeyPath(stateDir, agent);
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
export async function writePregeneratedKey(
  stateDir: string,
  agent: string,
  pair: HostKeyPair,
): Promise<void> {
  const path = pregeneratedKeyPath(stateDir, agent);
  await mkdir(dirname(path), { recursive: true, mode: PRIVATE_DIR_MODE });
  await writeFileAtomic(`${path}.pub`, `${pair.publicKey}\n`, PRIVATE_FILE_MODE);
  await writeFileAtomic(path, pair.privateKey, PRIVATE_FILE_MODE);
}

export async function removePregeneratedKey(stateDir: string, agent: string): Promise<void> {
  const path = pregeneratedKeyPath(stateDir, agent);
  await rm(path, { force: true });
  await rm(`${path}.pub`, { force: true });
}
