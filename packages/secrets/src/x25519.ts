// X25519 through OpenSSL (node:crypto) instead of pure JS: a derivation costs ~0.05 ms here versus
// ~1 ms, which is most of what makes an in-process rekey beat one `age` process per file.
// Importing a private key from DER is itself slow (OpenSSL recomputes the public key), so
// long-lived scalars are imported once and kept as KeyObjects; ephemerals are generated natively.
import {
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  hkdfSync,
  type KeyObject,
} from 'node:crypto';
import { base64urlnopad } from '@scure/base';
import { chachaOpen, chachaSeal } from './chacha.js';
import { concat } from './ssh-wire.js';

// RFC 8410 PKCS#8 wrapper for a raw 32-byte X25519 private key: a fixed prefix, the key is the tail.
const PKCS8_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');

/** A scalar as a private key; OpenSSL clamps it as RFC 7748 says, like every X25519. */
export function x25519Scalar(scalar: Uint8Array): KeyObject {
  return createPrivateKey({ key: Buffer.from(concat([PKCS8_PREFIX, scalar])), format: 'der', type: 'pkcs8' });
}

export function x25519PublicBytes(key: KeyObject): Uint8Array {
  return new Uint8Array(Buffer.from(key.export({ format: 'jwk' }).x ?? '', 'base64url'));
}

function x25519Ephemeral(): { privateKey: KeyObject; share: Uint8Array } {
  const { privateKey, publicKey } = generateKeyPairSync('x25519');
  return { privateKey, share: x25519PublicBytes(publicKey) };
}

/** A u-coordinate as a public key, so a recipient's point is imported once, not per file. */
export function x25519Point(point: Uint8Array): KeyObject {
  if (point.length !== 32) throw new Error('X25519 point must be 32 bytes');
  return createPublicKey({
    key: { kty: 'OKP', crv: 'X25519', x: base64urlnopad.encode(point) },
    format: 'jwk',
  });
}

/** X25519(scalar, u); an all-zero (low-order) result is an error, as in age. */
export function x25519(scalar: KeyObject, point: KeyObject | Uint8Array): Uint8Array {
  const publicKey = point instanceof Uint8Array ? x25519Point(point) : point;
  let shared: Buffer | undefined;
  try {
    shared = diffieHellman({ privateKey: scalar, publicKey });
  } catch {
    // OpenSSL refuses to return an all-zero secret; handled below like the zero check.
  }
  if (shared === undefined || shared.every((b) => b === 0)) {
    throw new Error('X25519 produced a low-order (all-zero) shared secret');
  }
  return new Uint8Array(shared);
}

const ZERO_NONCE = new Uint8Array(12);

function hkdf(ikm: Uint8Array, salt: Uint8Array, info: Uint8Array): Uint8Array {
  return new Uint8Array(hkdfSync('sha256', ikm, salt, info, 32));
}

/**
 * The wrap both X25519-based stanza types share (age spec): an ephemeral share, a shared secret,
 * HKDF with salt share||recipient, ChaCha20-Poly1305 with a zero nonce (each key is used once).
 * `target` is the point the ephemeral is multiplied with: the recipient itself, or for ssh-ed25519
 * the recipient already multiplied by its tweak (X25519(tweak, X25519(e, R)) = X25519(e, X25519(tweak, R)),
 * scalar multiplications commute), which saves one multiplication per file.
 */
export function x25519Wrap(fileKey: Uint8Array, target: KeyObject, recipient: Uint8Array, label: Uint8Array) {
  const { privateKey, share } = x25519Ephemeral();
  const key = hkdf(x25519(privateKey, target), concat([share, recipient]), label);
  return { share, body: chachaSeal(key, ZERO_NONCE, fileKey) };
}

/** The inverse of x25519Wrap; throws when the body does not authenticate. */
export function x25519Unwrap(
  body: Uint8Array,
  share: Uint8Array,
  secret: KeyObject,
  ourPublic: Uint8Array,
  label: Uint8Array,
  tweak: KeyObject,
): Uint8Array {
  const key = hkdf(x25519(tweak, x25519(secret, share)), concat([share, ourPublic]), label);
  return chachaOpen(key, ZERO_NONCE, body);
}
