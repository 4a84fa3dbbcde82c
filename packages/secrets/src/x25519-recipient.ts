// The native age "X25519" recipient (age1...) and identity (AGE-SECRET-KEY-1...). typage has both,
// but it imports a fresh PKCS#8 key through WebCrypto twice per file (~1 ms) and unwraps in pure JS;
// with OpenSSL and keys imported once the wrap is ~0.1 ms, which matters when a rekey wraps
// hundreds of files.
import type { KeyObject } from 'node:crypto';
import { bech32 } from '@scure/base';
import { type Identity, type Recipient, Stanza } from 'age-encryption';
import { decodeBase64NoPad, encodeBase64NoPad } from './base64.js';
import { chachaOpen, hkdfSha256 } from './primitives.js';
import { concat } from './ssh-wire.js';
import { x25519, x25519Point, x25519PublicBytes, x25519Scalar, x25519Wrap } from './x25519.js';

const LABEL = new TextEncoder().encode('age-encryption.org/v1/X25519');
const ZERO_NONCE = new Uint8Array(12);

export class X25519Recipient implements Recipient {
  private readonly point: Uint8Array;
  private readonly target: KeyObject;

  constructor(recipient: string) {
    const { prefix, bytes } = bech32.decodeToBytes(recipient);
    if (prefix !== 'age' || bytes.length !== 32) throw new Error('not an age1 X25519 recipient');
    this.point = bytes;
    this.target = x25519Point(bytes);
  }

  wrapFileKey(fileKey: Uint8Array): Stanza[] {
    const { share, body } = x25519Wrap(fileKey, this.target, this.point, LABEL);
    return [new Stanza(['X25519', encodeBase64NoPad(share)], body)];
  }
}

export class X25519Identity implements Identity {
  private readonly secret: KeyObject;
  private readonly ourPublic: Uint8Array;

  constructor(identity: string) {
    const { prefix, bytes } = bech32.decodeToBytes(identity);
    if (
      !identity.startsWith('AGE-SECRET-KEY-1') ||
      prefix.toUpperCase() !== 'AGE-SECRET-KEY-' ||
      bytes.length !== 32
    ) {
      throw new Error('invalid identity');
    }
    this.secret = x25519Scalar(bytes);
    bytes.fill(0);
    this.ourPublic = x25519PublicBytes(this.secret);
  }

  /** X25519 stanzas do not name their recipient: one that does not authenticate is someone else's. */
  unwrapFileKey(stanzas: Stanza[]): Uint8Array | null {
    for (const s of stanzas) {
      if (s.args[0] !== 'X25519') continue;
      const share = s.args.length === 2 ? decodeBase64NoPad(s.args[1] ?? '') : undefined;
      if (share === undefined || share.length !== 32) throw new Error('invalid X25519 stanza');
      if (s.body.length !== 32) throw new Error('invalid X25519 stanza body');
      const key = hkdfSha256(x25519(this.secret, share), concat([share, this.ourPublic]), LABEL);
      try {
        return chachaOpen(key, ZERO_NONCE, s.body);
      } catch {
        // not ours
      } finally {
        key.fill(0);
      }
    }
    return null;
  }
}
