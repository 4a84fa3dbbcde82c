// The age "ssh-rsa" recipient type: the file key encrypted with RSA-OAEP-SHA-256 under a fixed label.
import { constants, createPublicKey, type KeyObject, privateDecrypt, publicEncrypt } from 'node:crypto';
import { base64urlnopad } from '@scure/base';
import { type Identity, type Recipient, Stanza } from 'age-encryption';
import { type SshPrivateKey, type SshPublicKey, sshTag } from './ssh-keys.js';

const OAEP_LABEL = Buffer.from('age-encryption.org/v1/ssh-rsa');
const MIN_BITS = 2048;

export class SshRsaRecipient implements Recipient {
  private readonly key: KeyObject;
  readonly tag: string;

  constructor(publicKey: Extract<SshPublicKey, { type: 'ssh-rsa' }>) {
    this.key = createPublicKey({
      key: { kty: 'RSA', n: base64urlnopad.encode(publicKey.n), e: base64urlnopad.encode(publicKey.e) },
      format: 'jwk',
    });
    const bits = this.key.asymmetricKeyDetails?.modulusLength ?? 0;
    if (bits < MIN_BITS) throw new Error(`ssh-rsa key has ${bits} bits; age requires at least ${MIN_BITS}`);
    this.tag = sshTag(publicKey);
  }

  wrapFileKey(fileKey: Uint8Array): Stanza[] {
    const body = publicEncrypt(
      { key: this.key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256', oaepLabel: OAEP_LABEL },
      fileKey,
    );
    return [new Stanza(['ssh-rsa', this.tag], new Uint8Array(body))];
  }
}

export class SshRsaIdentity implements Identity {
  private readonly key: KeyObject;
  readonly tag: string;

  constructor(privateKey: Extract<SshPrivateKey, { type: 'ssh-rsa' }>) {
    this.key = privateKey.key;
    this.tag = sshTag(privateKey.publicKey);
  }

  unwrapFileKey(stanzas: Stanza[]): Uint8Array | null {
    for (const s of stanzas) {
      if (s.args[0] !== 'ssh-rsa') continue;
      if (s.args.length !== 2) throw new Error('invalid ssh-rsa stanza');
      if (s.args[1] !== this.tag) continue;
      try {
        const key = { key: this.key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' };
        return new Uint8Array(privateDecrypt({ ...key, oaepLabel: OAEP_LABEL }, s.body));
      } catch {
        throw new Error(`ssh-rsa stanza for key ${this.tag} does not decrypt with this key`);
      }
    }
    return null;
  }
}
