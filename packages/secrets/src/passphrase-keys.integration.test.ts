// Passphrase-protected admin keys (ssh-keygen -N): decrypted with the passphrase, then checked
// against the real `age` CLI, which encrypted to the key's public half.
import { execFileSync } from 'node:child_process';
import { ageEncrypt, sshKey, tempDir } from '@agentfleet/testing/age-oracle';
import { afterAll, describe, expect, it } from 'vitest';
import { decryptSecret } from './age-file.js';
import { readIdentityFile } from './identities.js';
import { PassphraseNeededError } from './ssh-keys.js';

const dir = tempDir();
afterAll(() => dir.remove());
const PASS = 'c2 correct horse';

describe.each([
  ['ssh-ed25519 (OpenSSH format)', 'ed25519', []],
  ['ssh-rsa (OpenSSH format)', 'rsa', ['-b', '2048']],
  ['ssh-rsa (PEM, ssh-keygen -m PEM)', 'rsa', ['-b', '2048', '-m', 'PEM']],
] as [string, 'ed25519' | 'rsa', string[]][])('%s with a passphrase', (_label, type, extra) => {
  const key = sshKey(dir.path, `${type}-${extra.join('')}`, type, extra);
  // Re-encrypt the fresh key with a passphrase, as a user's key would be.
  execFileSync('ssh-keygen', [
    '-q',
    '-p',
    '-P',
    '',
    '-N',
    PASS,
    '-f',
    key.identityPath,
    ...(extra.includes('-m') ? ['-m', 'PEM'] : []),
  ]);
  const secret = new TextEncoder().encode('c2 plaintext');

  it('decrypts what age encrypted to it once the passphrase is given', async () => {
    const identities = await readIdentityFile(key.identityPath, async () => PASS);
    const file = ageEncrypt([key], secret, false);
    expect(await decryptSecret(file, identities, 'c2.age')).toEqual(secret);
  });

  it('without a way to ask, says it needs a passphrase; a wrong one is named as such', async () => {
    await expect(readIdentityFile(key.identityPath)).rejects.toBeInstanceOf(PassphraseNeededError);
    await expect(readIdentityFile(key.identityPath, async () => 'wrong')).rejects.toThrow(/wrong passphrase/);
  });
});
