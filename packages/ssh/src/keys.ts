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

/**
 * A new ed25519 key pair in OpenSSH format, e.g. a guest host key made on the host before first boot (so the
 * secrets can be rekeyed for it before the VM ever starts).
 */
export function generateEd25519KeyPair(comment: string): { privateKey: string; publicKey: SshPublicKey } {
  // ssh2 (1.17) strips leading zero bytes from the 32-byte public key when it encodes the pair, so one key in 256
  // comes out malformed and its own parser rejects it (mscdex/ssh2#1390, #1513): such a pair is never handed out,
  // a fresh one is made instead (each try is independent; eight bad ones in a row is 256^-8).
  for (let attempt = 1; ; attempt++) {
    const pair = utils.generateKeyPairSync('ed25519', { comment });
    try {
      return { privateKey: pair.private, publicKey: publicKeyOfPrivateKey(pair.private) };
    } catch (err) {
      if (attempt === 8) throw err;
    }
  }
}
