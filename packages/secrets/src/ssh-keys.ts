// SSH public keys (authorized_keys lines) and private keys (OpenSSH and PEM files), decoded into
// what the age ssh-ed25519 / ssh-rsa recipient types need. Only these two key types are usable
// with age; anything else is rejected with its type named.
import { createHash, createPrivateKey, type KeyObject } from 'node:crypto';
import { parsePublicKeyLine } from '@agentfleet/core';
import { base64nopad, base64urlnopad } from '@scure/base';
import { SecretsError } from './errors.js';
import { decryptPrivateSection } from './openssh-cipher.js';
import { concat, WireReader, wireMpint, wireString } from './ssh-wire.js';

export type SshPublicKey =
  | { type: 'ssh-ed25519'; wire: Uint8Array; key: Uint8Array }
  | { type: 'ssh-rsa'; wire: Uint8Array; n: Uint8Array; e: Uint8Array };

export type SshPrivateKey =
  | { type: 'ssh-ed25519'; publicKey: SshPublicKey; seed: Uint8Array }
  | { type: 'ssh-rsa'; publicKey: SshPublicKey; key: KeyObject };

/** The age stanza tag: base64 of the first 4 bytes of SHA-256 over the wire-encoded public key. */
export function sshTag(publicKey: SshPublicKey): string {
  return base64nopad.encode(createHash('sha256').update(publicKey.wire).digest().subarray(0, 4));
}

function decodeWirePublicKey(wire: Uint8Array, what: string): SshPublicKey {
  const r = new WireReader(wire, what);
  const type = r.string();
  if (type === 'ssh-ed25519') {
    const key = r.bytes();
    if (key.length !== 32 || !r.done) throw new Error(`${what} is not a valid ssh-ed25519 key`);
    return { type, wire, key };
  }
  if (type === 'ssh-rsa') {
    const e = r.mpint();
    const n = r.mpint();
    if (!r.done) throw new Error(`${what} has trailing bytes`);
    return { type, wire, n, e };
  }
  throw new Error(`${what} has key type "${type}"; age supports only ssh-ed25519 and ssh-rsa SSH keys`);
}

/**
 * One authorized_keys-style line: "TYPE BASE64 [comment]". The line itself is read by core's
 * parser (the one every part of fleet uses); this adds what age needs from the key data.
 */
export function parseSshPublicKey(line: string): SshPublicKey {
  const what = `SSH public key "${line.trim().slice(0, 60)}"`;
  let blob: string;
  try {
    blob = parsePublicKeyLine(line).blob;
  } catch (err) {
    throw new Error(`${what}: ${(err as Error).message}`);
  }
  return decodeWirePublicKey(new Uint8Array(Buffer.from(blob, 'base64')), what);
}

function rsaWire(n: Uint8Array, e: Uint8Array): Uint8Array {
  return concat([wireString('ssh-rsa'), wireMpint(e), wireMpint(n)]);
}

function ed25519Wire(key: Uint8Array): Uint8Array {
  return concat([wireString('ssh-ed25519'), wireString(key)]);
}

const OPENSSH_ARMOR = /-----BEGIN OPENSSH PRIVATE KEY-----([\s\S]*?)-----END OPENSSH PRIVATE KEY-----/;
const OPENSSH_MAGIC = 'openssh-key-v1\0';

const toBigInt = (b: Uint8Array) => BigInt(`0x${Buffer.from(b).toString('hex') || '0'}`);

function fromBigInt(v: bigint): Uint8Array {
  const hex = v.toString(16);
  return new Uint8Array(Buffer.from(hex.length % 2 ? `0${hex}` : hex, 'hex'));
}

/** OpenSSH stores n, e, d, iqmp, p, q; a JWK also needs the CRT exponents d mod (p-1), d mod (q-1). */
function rsaPrivateKey(
  n: Uint8Array,
  e: Uint8Array,
  d: Uint8Array,
  iqmp: Uint8Array,
  p: Uint8Array,
  q: Uint8Array,
): KeyObject {
  const dp = fromBigInt(toBigInt(d) % (toBigInt(p) - 1n));
  const dq = fromBigInt(toBigInt(d) % (toBigInt(q) - 1n));
  const parts = { n, e, d, p, q, dp, dq, qi: iqmp };
  const jwk = Object.fromEntries(Object.entries(parts).map(([k, v]) => [k, base64urlnopad.encode(v)]));
  return createPrivateKey({ key: { kty: 'RSA', ...jwk }, format: 'jwk' });
}

/** The unencrypted private section of an OpenSSH key (PROTOCOL.key). */
function parseOpenSshPrivateKey(base64Body: string, source: string, passphrase?: string): SshPrivateKey {
  const blob = new Uint8Array(Buffer.from(base64Body.replace(/\s+/g, ''), 'base64'));
  const magic = new TextDecoder().decode(blob.subarray(0, OPENSSH_MAGIC.length));
  if (magic !== OPENSSH_MAGIC) throw new SecretsError('not an OpenSSH private key (bad magic)', source);
  const r = new WireReader(blob.subarray(OPENSSH_MAGIC.length), 'OpenSSH private key');
  const cipher = r.string();
  const kdf = r.string();
  const kdfOptions = r.bytes();
  if (cipher !== 'none' && passphrase === undefined) throw new PassphraseNeededError(source);
  if (r.uint32() !== 1)
    throw new SecretsError('OpenSSH key files holding several keys are not supported', source);
  r.bytes(); // public key, repeated inside the private section
  const section = r.bytes();
  const plain =
    cipher === 'none' ? section : decryptPrivateSection(cipher, kdf, kdfOptions, section, passphrase ?? '');
  const p = new WireReader(plain, 'OpenSSH private section');
  const check1 = p.uint32();
  const check2 = p.uint32();
  // With a passphrase, differing check bytes are what a wrong one looks like (PROTOCOL.key).
  if (check1 !== check2)
    throw new SecretsError(
      cipher === 'none' ? 'corrupt OpenSSH private key (check bytes differ)' : 'wrong passphrase',
      source,
    );
  const type = p.string();
  if (type === 'ssh-ed25519') {
    const pub = p.bytes();
    const priv = p.bytes(); // seed || public key
    if (pub.length !== 32 || priv.length !== 64)
      throw new SecretsError('corrupt ssh-ed25519 private key', source);
    return {
      type,
      publicKey: { type, wire: ed25519Wire(pub), key: pub },
      seed: priv.slice(0, 32),
    };
  }
  if (type === 'ssh-rsa') {
    const n = p.mpint();
    const e = p.mpint();
    const key = rsaPrivateKey(n, e, p.mpint(), p.mpint(), p.mpint(), p.mpint());
    return { type, publicKey: { type, wire: rsaWire(n, e), n, e }, key };
  }
  throw new SecretsError(`key type "${type}" cannot be an age identity; use ssh-ed25519 or ssh-rsa`, source);
}

/** PKCS#1 / PKCS#8 PEM, as `ssh-keygen -m PEM` writes. */
function parsePemPrivateKey(text: string, source: string, passphrase?: string): SshPrivateKey {
  const encrypted = text.includes('ENCRYPTED');
  if (encrypted && passphrase === undefined) throw new PassphraseNeededError(source);
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: text, format: 'pem', ...(encrypted && { passphrase }) });
  } catch (err) {
    if (encrypted) throw new SecretsError('wrong passphrase (or an unreadable encrypted PEM key)', source);
    throw new SecretsError(`unreadable PEM private key (${(err as Error).message})`, source);
  }
  const jwk = key.export({ format: 'jwk' });
  const bytes = (s: string | undefined) => new Uint8Array(Buffer.from(s ?? '', 'base64url'));
  if (key.asymmetricKeyType === 'rsa') {
    const n = bytes(jwk.n);
    const e = bytes(jwk.e);
    return { type: 'ssh-rsa', publicKey: { type: 'ssh-rsa', wire: rsaWire(n, e), n, e }, key };
  }
  if (key.asymmetricKeyType === 'ed25519') {
    const pub = bytes(jwk.x);
    return {
      type: 'ssh-ed25519',
      publicKey: { type: 'ssh-ed25519', wire: ed25519Wire(pub), key: pub },
      seed: bytes(jwk.d),
    };
  }
  throw new SecretsError(`key type "${key.asymmetricKeyType}" cannot be an age identity`, source);
}

export function isSshPrivateKeyText(text: string): boolean {
  return /-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text);
}

/** A passphrase-protected key read without a passphrase: the caller may ask for one and retry. */
export class PassphraseNeededError extends SecretsError {
  constructor(source: string) {
    super('private key is passphrase-protected', source);
  }
}

/** Reads an SSH private key file's text; `source` names the file in errors. */
export function parseSshPrivateKey(text: string, source: string, passphrase?: string): SshPrivateKey {
  const openssh = OPENSSH_ARMOR.exec(text);
  try {
    if (openssh) return parseOpenSshPrivateKey(openssh[1] ?? '', source, passphrase);
    return parsePemPrivateKey(text, source, passphrase);
  } catch (err) {
    if (err instanceof SecretsError) throw err;
    throw new SecretsError((err as Error).message, source);
  }
}
