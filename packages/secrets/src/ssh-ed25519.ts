// The age "ssh-ed25519" recipient type (C2SP age spec; FiloSottile/age agessh): X25519 to the
// Montgomery form of the Ed25519 key, with the shared secret tweaked by a scalar derived from the
// SSH public key so that the stanza is bound to that exact key.
import { createHash, randomBytes } from 'node:crypto';
import { chacha20poly1305 } from '@noble/ciphers/chacha.js';
import { ed25519 } from '@noble/curves/ed25519.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { type Identity, type Recipient, Stanza } from 'age-encryption';
import { decodeBase64NoPad, encodeBase64NoPad } from './base64.js';
import { type SshPrivateKey, type SshPublicKey, sshTag } from './ssh-keys.js';
import { concat } from './ssh-wire.js';
import { x25519, x25519Base } from './x25519.js';

const LABEL = new TextEncoder().encode('age-encryption.org/v1/ssh-ed25519');
const ZERO_NONCE = new Uint8Array(12);

type Ed25519Public = Extract<SshPublicKey, { type: 'ssh-ed25519' }>;

function tweakFor(publicKey: SshPublicKey): Uint8Array {
  return hkdf(sha256, new Uint8Array(0), publicKey.wire, LABEL, 32);
}

function wrappingKey(shared: Uint8Array, tweak: Uint8Array, share: Uint8Array, recipient: Uint8Array) {
  return hkdf(sha256, x25519(tweak, shared), concat([share, recipient]), LABEL, 32);
}

export class SshEd25519Recipient implements Recipient {
  private readonly montgomery: Uint8Array;
  private readonly tweak: Uint8Array;
  readonly tag: string;

  constructor(publicKey: Ed25519Public) {
    // toMontgomery rejects encodings that are not points on the curve.
    this.montgomery = ed25519.utils.toMontgomery(publicKey.key);
    this.tweak = tweakFor(publicKey);
    this.tag = sshTag(publicKey);
  }

  wrapFileKey(fileKey: Uint8Array): Stanza[] {
    const ephemeral = randomBytes(32);
    const share = x25519Base(ephemeral);
    const key = wrappingKey(x25519(ephemeral, this.montgomery), this.tweak, share, this.montgomery);
    const body = chacha20poly1305(key, ZERO_NONCE).encrypt(fileKey);
    return [new Stanza(['ssh-ed25519', this.tag, encodeBase64NoPad(share)], body)];
  }
}

export class SshEd25519Identity implements Identity {
  private readonly secret: Uint8Array;
  private readonly ourPublic: Uint8Array;
  private readonly tweak: Uint8Array;
  readonly tag: string;

  constructor(privateKey: Extract<SshPrivateKey, { type: 'ssh-ed25519' }>) {
    // The X25519 scalar is the first half of SHA-512(seed), as Ed25519 derives its own scalar.
    this.secret = new Uint8Array(createHash('sha512').update(privateKey.seed).digest().subarray(0, 32));
    this.ourPublic = x25519Base(this.secret);
    this.tweak = tweakFor(privateKey.publicKey);
    this.tag = sshTag(privateKey.publicKey);
  }

  unwrapFileKey(stanzas: Stanza[]): Uint8Array | null {
    for (const s of stanzas) {
      if (s.args[0] !== 'ssh-ed25519') continue;
      const share = s.args.length === 3 ? decodeBase64NoPad(s.args[2] ?? '') : undefined;
      if (share === undefined || share.length !== 32) throw new Error('invalid ssh-ed25519 stanza');
      if (s.args[1] !== this.tag) continue;
      if (s.body.length !== 32) throw new Error('invalid ssh-ed25519 stanza body');
      const key = wrappingKey(x25519(this.secret, share), this.tweak, share, this.ourPublic);
      try {
        return chacha20poly1305(key, ZERO_NONCE).decrypt(s.body);
      } catch {
        throw new Error(`ssh-ed25519 stanza for key ${this.tag} does not decrypt with this key`);
      }
    }
    return null;
  }
}
