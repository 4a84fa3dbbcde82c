// SHA-256 hashing is deterministic computation, not I/O: core stays pure while naming keys the way OpenSSH does.
import { createHash } from 'node:crypto';
import type { SshPublicKey } from '../provision/hostkey.js';

/** OpenSSH's fingerprint of a public key: "SHA256:" + unpadded base64 of SHA-256 over the wire encoding. */
export function fingerprintSha256(key: SshPublicKey): string {
  const digest = createHash('sha256').update(Buffer.from(key.blob, 'base64')).digest('base64');
  return `SHA256:${digest.replace(/=+$/, '')}`;
}
