// Identity files as `age -i` accepts them: an SSH private key, or an age identity file
// (AGE-SECRET-KEY-1... lines, # comments).
import { readFile } from 'node:fs/promises';
import type { Identity } from 'age-encryption';
import { SecretsError } from './errors.js';
import { SshEd25519Identity } from './ssh-ed25519.js';
import { isSshPrivateKeyText, parseSshPrivateKey } from './ssh-keys.js';
import { SshRsaIdentity } from './ssh-rsa.js';
import { X25519Identity } from './x25519-recipient.js';

/**
 * An AGE-SECRET-KEY-1 string or an Identity object (what typage's Decrypter.addIdentity takes).
 * parseIdentities returns objects only, so keys are imported once, not per file.
 */
export type AgeIdentity = string | Identity;

export function toIdentity(identity: AgeIdentity): Identity {
  return typeof identity === 'string' ? new X25519Identity(identity) : identity;
}

export function parseIdentities(text: string, source: string): AgeIdentity[] {
  if (isSshPrivateKeyText(text)) {
    const key = parseSshPrivateKey(text, source);
    return [key.type === 'ssh-ed25519' ? new SshEd25519Identity(key) : new SshRsaIdentity(key)];
  }
  const identities: Identity[] = [];
  for (const [index, raw] of text.split('\n').entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    try {
      if (!line.startsWith('AGE-SECRET-KEY-1')) throw new Error('not an AGE-SECRET-KEY-1 identity');
      identities.push(new X25519Identity(line)); // validates bech32 and key length
    } catch (err) {
      throw new SecretsError(`line ${index + 1}: ${(err as Error).message}`, source);
    }
  }
  if (identities.length === 0) throw new SecretsError('no identities found', source);
  return identities;
}

export async function readIdentityFile(path: string): Promise<AgeIdentity[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new SecretsError(`cannot read identity file (${(err as NodeJS.ErrnoException).code})`, path);
  }
  return parseIdentities(text, path);
}
