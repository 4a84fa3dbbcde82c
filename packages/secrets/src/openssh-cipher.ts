// Passphrase-protected OpenSSH private keys (PROTOCOL.key): the private section is encrypted with a
// key and IV derived by bcrypt_pbkdf from the passphrase. ssh-keygen's default cipher is aes256-ctr.
import { createDecipheriv } from 'node:crypto';
import bcryptPbkdf from 'bcrypt-pbkdf';
import { WireReader } from './ssh-wire.js';

/** cipher name -> Node cipher, key and IV lengths (only what ssh-keygen writes by default and its CBC kin). */
const CIPHERS: Record<string, { node: string; keyLen: number; ivLen: number }> = {
  'aes256-ctr': { node: 'aes-256-ctr', keyLen: 32, ivLen: 16 },
  'aes256-cbc': { node: 'aes-256-cbc', keyLen: 32, ivLen: 16 },
  'aes128-ctr': { node: 'aes-128-ctr', keyLen: 16, ivLen: 16 },
};

/** The decrypted private section, or an Error saying which cipher or KDF is not supported. */
export function decryptPrivateSection(
  cipher: string,
  kdf: string,
  kdfOptions: Uint8Array,
  encrypted: Uint8Array,
  passphrase: string,
): Uint8Array {
  const c = CIPHERS[cipher];
  if (!c) throw new Error(`passphrase-protected with cipher ${cipher}, which fleet cannot decrypt`);
  if (kdf !== 'bcrypt') throw new Error(`passphrase-protected with kdf ${kdf}, which fleet cannot use`);
  const opts = new WireReader(kdfOptions, 'bcrypt kdf options');
  const salt = opts.bytes();
  const rounds = opts.uint32();
  const pass = Buffer.from(passphrase, 'utf8');
  const derived = new Uint8Array(c.keyLen + c.ivLen);
  if (bcryptPbkdf.pbkdf(pass, pass.length, salt, salt.length, derived, derived.length, rounds) !== 0)
    throw new Error('bcrypt_pbkdf failed');
  pass.fill(0);
  const decipher = createDecipheriv(c.node, derived.subarray(0, c.keyLen), derived.subarray(c.keyLen));
  decipher.setAutoPadding(false);
  const plain = Buffer.concat([decipher.update(encrypted), decipher.final()]);
  derived.fill(0);
  return new Uint8Array(plain);
}
