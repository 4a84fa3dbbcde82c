import { keyFromWire, type SshPublicKey } from '@agentfleet/core';
import ssh2 from 'ssh2';

// ssh2 is CommonJS and Node's ESM loader cannot see `utils` as a named export (vitest can, so only
// the built CLI failed): take it from the default export.
const { utils } = ssh2;

/** The public half of an OpenSSH/PEM private key. */
export function publicKeyOfPrivateKey(privateKey: string): SshPublicKey {
  const parsed = utils.parseKey(privateKey);
  const key = Array.isArray(parsed) ? parsed[0] : parsed;
  if (!key || key instanceof Error) {
    throw new Error(`cannot parse private key: ${key instanceof Error ? key.message : 'no key found'}`);
  }
  return keyFromWire(key.getPublicSSH());
}
