// The native age "X25519" recipient (age1...). typage has one, but it imports a fresh PKCS#8 key
// through WebCrypto twice per file (~1 ms); with a natively generated ephemeral the wrap is ~0.1 ms,
// which matters when a rekey wraps hundreds of files. Decryption (AGE-SECRET-KEY-1) stays typage's.
import type { KeyObject } from 'node:crypto';
import { bech32 } from '@scure/base';
import { type Recipient, Stanza } from 'age-encryption';
import { encodeBase64NoPad } from './base64.js';
import { x25519Point, x25519Wrap } from './x25519.js';

const LABEL = new TextEncoder().encode('age-encryption.org/v1/X25519');

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
