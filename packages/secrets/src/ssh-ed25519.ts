// The age "ssh-ed25519" recipient type (C2SP age spec; FiloSottile/age agessh): X25519 to the
// Montgomery form of the Ed25519 key, with the shared secret tweaked by a scalar derived from the
// SSH public key so that the stanza is bound to that exact key.
import { createHash, hkdfSync, type KeyObject } from 'node:crypto';
import { ed25519 } from '@noble/curves/ed25519.js';
import { base64nopad } from '@scure/base';
import { type Identity, type Recipient, Stanza } from 'age-encryption';
import { type SshPrivateKey, type SshPublicKey, sshTag } from './ssh-keys.js';
import { x25519, x25519Point, x25519PublicBytes, x25519Scalar, x25519Unwrap, x25519Wrap } from './x25519.js';

const LABEL = new TextEncoder().encode('age-encryption.org/v1/ssh-ed25519');

/** The key-specific scalar the shared secret is multiplied by, as a reusable private key. */
function tweakFor(publicKey: SshPublicKey): KeyObject {
  return x25519Scalar(new Uint8Array(hkdfSync('sha256', new Uint8Array(0), publicKey.wire, LABEL, 32)));
}

export class SshEd25519Recipient implements Recipient {
  private readonly montgomery: Uint8Array;
  private readonly tweaked: KeyObject;
  readonly tag: string;

  constructor(publicKey: Extract<SshPublicKey, { type: 'ssh-ed25519' }>) {
    // toMontgomery rejects encodings that are not points on the curve.
    this.montgomery = ed25519.utils.toMontgomery(publicKey.key);
    this.tweaked = x25519Point(x25519(tweakFor(publicKey), this.montgomery));
    this.tag = sshTag(publicKey);
  }

  wrapFileKey(fileKey: Uint8Array): Stanza[] {
    const { share, body } = x25519Wrap(fileKey, this.tweaked, this.montgomery, LABEL);
    return [new Stanza(['ssh-ed25519', this.tag, base64nopad.encode(share)], body)];
  }
}

/** Canonical unpadded base64 only, as age requires; undefined for anything else. */
function decodeShare(text: string): Uint8Array | undefined {
  try {
    return base64nopad.decode(text);
  } catch {
    return undefined;
  }
}

export class SshEd25519Identity implements Identity {
  private readonly secret: KeyObject;
  private readonly ourPublic: Uint8Array;
  private readonly tweak: KeyObject;
  readonly tag: string;

  constructor(privateKey: Extract<SshPrivateKey, { type: 'ssh-ed25519' }>) {
    // The X25519 scalar is the first half of SHA-512(seed), as Ed25519 derives its own scalar.
    this.secret = x25519Scalar(createHash('sha512').update(privateKey.seed).digest().subarray(0, 32));
    this.ourPublic = x25519PublicBytes(this.secret);
    this.tweak = tweakFor(privateKey.publicKey);
    this.tag = sshTag(privateKey.publicKey);
  }

  unwrapFileKey(stanzas: Stanza[]): Uint8Array | null {
    for (const s of stanzas) {
      if (s.args[0] !== 'ssh-ed25519') continue;
      const share = s.args.length === 3 ? decodeShare(s.args[2] ?? '') : undefined;
      if (share === undefined || share.length !== 32) throw new Error('invalid ssh-ed25519 stanza');
      if (s.args[1] !== this.tag) continue;
      if (s.body.length !== 32) throw new Error('invalid ssh-ed25519 stanza body');
      try {
        return x25519Unwrap(s.body, share, this.secret, this.ourPublic, LABEL, this.tweak);
      } catch {
        throw new Error(`ssh-ed25519 stanza for key ${this.tag} does not decrypt with this key`);
      }
    }
    return null;
  }
}
