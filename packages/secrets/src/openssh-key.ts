// New ed25519 key pairs in OpenSSH's private key format (PROTOCOL.key in OpenSSH's sources), e.g. a guest's host key
// made on the host before its first boot. Written here, beside the parser of the same format (ssh-keys.ts), rather
// than taken from ssh2: ssh2 1.17's generator drops leading zero bytes of the public key in one pair in 256, a key
// its own parser and OpenSSH then refuse (mscdex/ssh2#1390), and loading ssh2 (~80 ms) stood before the first
// domain of a new agent starts. Node's crypto makes the key; this only lays out the bytes.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { keyFromWire, type SshPublicKey } from '@agentfleet/core/provision/hostkey';
import { concat, wireString } from './ssh-wire.js';

const MAGIC = new TextEncoder().encode('openssh-key-v1\0');

/**
 * A new ed25519 pair: the unencrypted OpenSSH private key file (as `ssh-keygen -t ed25519 -N ''` writes it) and the
 * public key.
 */
export function generateEd25519KeyPair(comment: string): { privateKey: string; publicKey: SshPublicKey } {
  const jwk = generateKeyPairSync('ed25519').privateKey.export({ format: 'jwk' });
  const seed = Buffer.from(jwk.d as string, 'base64url');
  const pub = Buffer.from(jwk.x as string, 'base64url');
  const publicWire = concat([wireString('ssh-ed25519'), wireString(pub)]);
  // The same random check word twice: a reader tells a wrong passphrase by their mismatch.
  const check = randomBytes(4);
  const section = concat([
    check,
    check,
    publicWire,
    // OpenSSH keeps the 32-byte seed followed by the public key as the "private key".
    wireString(concat([seed, pub])),
    wireString(comment),
  ]);
  // Padded with 1, 2, 3... to the cipher's block size, 8 for "none".
  const padding = Uint8Array.from({ length: (8 - (section.length % 8)) % 8 }, (_, i) => i + 1);
  const blob = concat([
    MAGIC,
    wireString('none'),
    wireString('none'),
    wireString(''),
    new Uint8Array([0, 0, 0, 1]),
    wireString(publicWire),
    wireString(concat([section, padding])),
  ]);
  const body = Buffer.from(blob).toString('base64').replace(/.{70}/g, '$&\n');
  return {
    privateKey: `-----BEGIN OPENSSH PRIVATE KEY-----\n${body.endsWith('\n') ? body : `${body}\n`}-----END OPENSSH PRIVATE KEY-----\n`,
    publicKey: keyFromWire(publicWire),
  };
}
