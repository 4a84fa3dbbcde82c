// Identity files as `age -i` accepts them: an SSH private key, or an age identity file
// (AGE-SECRET-KEY-1... lines, # comments).
import { readFile } from 'node:fs/promises';
import { Decrypter, type Identity } from 'age-encryption';
import { SecretsError } from './errors.js';
import { SshEd25519Identity } from './ssh-ed25519.js';
import { isSshPrivateKeyText, parseSshPrivateKey } from './ssh-keys.js';
import { SshRsaIdentity } from './ssh-rsa.js';

/** What typage's Decrypter.addIdentity takes: an AGE-SECRET-KEY-1 string or an Identity object. */
export type AgeIdentity = string | Identity;

export function parseIdentities(text: string, source: string): AgeIdentity[] {
  if (isSshPrivateKeyText(text)) {
    const key = parseSshPrivateKey(text, source);
    return [key.type === 'ssh-ed25519' ? new SshEd25519Identity(key) : new SshRsaIdentity(key)];
  }
  const identities: string[] = [];
  for (const [index, raw] of text.split('\n').entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    try {
      if (!line.startsWith('AGE-SECRET-KEY-1')) throw new Error('not an AGE-SECRET-KEY-1 identity');
      new Decrypter().addIdentity(line); // typage validates bech32 and key length
    } catch (err) {
      throw new SecretsError(`line ${index + 1}: ${(err as Error).message}`, source);
    }
    identities.push(line);
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
