// Identity files as `age -i` accepts them: an SSH private key, or an age identity file
// (AGE-SECRET-KEY-1... lines, # comments).
import { readFile } from 'node:fs/promises';
import { bech32 } from '@scure/base';
import type { Identity } from 'age-encryption';
import { SecretsError } from './errors.js';
import { SshEd25519Identity } from './ssh-ed25519.js';
import { isSshPrivateKeyText, PassphraseNeededError, parseSshPrivateKey } from './ssh-keys.js';
import { SshRsaIdentity } from './ssh-rsa.js';

/** An AGE-SECRET-KEY-1 string or an Identity object: what typage's Decrypter.addIdentity takes. */
export type AgeIdentity = string | Identity;

/** Checks an AGE-SECRET-KEY-1 line (bech32, key length) so a bad one is reported by line. */
function x25519Identity(line: string): string {
  if (!line.startsWith('AGE-SECRET-KEY-1')) throw new Error('not an AGE-SECRET-KEY-1 identity');
  const { prefix, bytes } = bech32.decodeToBytes(line);
  if (prefix.toUpperCase() !== 'AGE-SECRET-KEY-' || bytes.length !== 32) throw new Error('invalid identity');
  bytes.fill(0);
  return line;
}

export function parseIdentities(text: string, source: string, passphrase?: string): AgeIdentity[] {
  if (isSshPrivateKeyText(text)) {
    const key = parseSshPrivateKey(text, source, passphrase);
    return [key.type === 'ssh-ed25519' ? new SshEd25519Identity(key) : new SshRsaIdentity(key)];
  }
  const identities: AgeIdentity[] = [];
  for (const [index, raw] of text.split('\n').entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    try {
      identities.push(x25519Identity(line));
    } catch (err) {
      throw new SecretsError(`line ${index + 1}: ${(err as Error).message}`, source);
    }
  }
  if (identities.length === 0) throw new SecretsError('no identities found', source);
  return identities;
}

/**
 * The identities in `path`. A passphrase-protected SSH key is decrypted with what `passphrase`
 * answers (e.g. a prompt on the terminal); without it, PassphraseNeededError.
 */
export async function readIdentityFile(
  path: string,
  passphrase?: (path: string) => Promise<string>,
): Promise<AgeIdentity[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new SecretsError(`cannot read identity file (${(err as NodeJS.ErrnoException).code})`, path);
  }
  try {
    return parseIdentities(text, path);
  } catch (err) {
    if (!(err instanceof PassphraseNeededError) || passphrase === undefined) throw err;
    return parseIdentities(text, path, await passphrase(path));
  }
}
