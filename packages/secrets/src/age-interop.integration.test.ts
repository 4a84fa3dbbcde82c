// Our ssh-ed25519 / ssh-rsa / X25519 support against the real `age` CLI, in both directions.
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { age, ageEncrypt, ageKey, sshKey, type TestKey, tempDir } from '@agentfleet/testing/age-oracle';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decryptSecret, encryptSecret, readHeader } from './age-file.js';
import { parseIdentities, readIdentityFile } from './identities.js';
import { parseRecipient } from './recipients.js';

const dir = tempDir();
let keys: Record<'ed25519' | 'rsa2048' | 'rsa4096' | 'x25519', TestKey>;
let stranger: TestKey;

beforeAll(() => {
  keys = {
    ed25519: sshKey(dir.path, 'ed', 'ed25519'),
    rsa2048: sshKey(dir.path, 'rsa2048', 'rsa', ['-b', '2048']),
    rsa4096: sshKey(dir.path, 'rsa4096', 'rsa', ['-b', '4096']),
    x25519: ageKey(dir.path, 'x25519'),
  };
  stranger = sshKey(dir.path, 'stranger', 'ed25519');
});
afterAll(() => dir.remove());

const recipientSets: Record<string, () => TestKey[]> = {
  'ssh-ed25519': () => [keys.ed25519],
  'ssh-rsa 2048': () => [keys.rsa2048],
  'ssh-rsa 4096': () => [keys.rsa4096],
  X25519: () => [keys.x25519],
  mixed: () => [keys.ed25519, keys.rsa2048, keys.rsa4096, keys.x25519],
};
const sizes = [0, 1, 65536, 65537];

describe.each(Object.keys(recipientSets))('%s', (setName) => {
  describe.each([false, true])('armor=%s', (armor) => {
    it.each(sizes)('ours -> age -d, %i bytes', async (size) => {
      const set = recipientSets[setName]?.() ?? [];
      const plaintext = randomBytes(size);
      const file = await encryptSecret(
        plaintext,
        set.map((k) => parseRecipient(k.recipient)),
        armor,
      );
      expect(readHeader(file, 'out').armored).toBe(armor);
      for (const key of set) {
        const r = age(['-d', '-i', key.identityPath], file);
        expect(r.stderr).toBe('');
        expect(Buffer.compare(r.stdout, plaintext), `age -d -i ${key.name}`).toBe(0);
      }
    });

    it.each(sizes)('age -e -> ours, %i bytes', async (size) => {
      const set = recipientSets[setName]?.() ?? [];
      const plaintext = randomBytes(size);
      const file = ageEncrypt(set, plaintext, armor);
      for (const key of set) {
        const identities = await readIdentityFile(key.identityPath);
        const decrypted = await decryptSecret(file, identities, 'in.age');
        expect(Buffer.compare(Buffer.from(decrypted), plaintext), `ours with ${key.name}`).toBe(0);
      }
    });
  });
});

describe('wrong key', () => {
  it.each(['ed25519', 'rsa2048', 'x25519'] as const)(
    'age refuses our %s file with another key',
    async (k) => {
      const file = await encryptSecret(new Uint8Array([1, 2, 3]), [parseRecipient(keys[k].recipient)], false);
      const r = age(['-d', '-i', stranger.identityPath], file);
      expect(r.status).not.toBe(0);
      expect(r.stderr).toMatch(/no identity matched/);
    },
  );

  it.each(['ed25519', 'rsa2048', 'x25519'] as const)(
    'we refuse an age %s file with another key',
    async (k) => {
      const file = ageEncrypt([keys[k]], new Uint8Array([1, 2, 3]), false);
      const identities = await readIdentityFile(stranger.identityPath);
      await expect(decryptSecret(file, identities, 'secret.age')).rejects.toThrow(
        /secret\.age: none of the 1 identities can decrypt it/,
      );
    },
  );
});

describe('malformed input', () => {
  async function ours(): Promise<string> {
    const file = await encryptSecret(new Uint8Array([9]), [parseRecipient(keys.ed25519.recipient)], false);
    return Buffer.from(file).toString('latin1');
  }

  it('a stanza with a bad ephemeral share is a clear error, and age agrees it is invalid', async () => {
    const text = (await ours()).replace(/^(-> ssh-ed25519 \S+ )\S+/m, '$1AAAA');
    const file = Buffer.from(text, 'latin1');
    const identities = await readIdentityFile(keys.ed25519.identityPath);
    await expect(decryptSecret(file, identities, 'bad.age')).rejects.toThrow(
      /bad\.age: .*invalid ssh-ed25519 stanza/,
    );
    expect(age(['-d', '-i', keys.ed25519.identityPath], file).status).not.toBe(0);
  });

  it('a tampered stanza body fails authentication', async () => {
    const lines = (await ours()).split('\n');
    lines[2] = `${lines[2]?.[0] === 'A' ? 'B' : 'A'}${lines[2]?.slice(1)}`;
    const file = Buffer.from(lines.join('\n'), 'latin1');
    const identities = await readIdentityFile(keys.ed25519.identityPath);
    await expect(decryptSecret(file, identities, 'bad.age')).rejects.toThrow(/bad\.age: cannot decrypt/);
  });

  it('a truncated header or payload is a clear error', async () => {
    const full = Buffer.from(await ours(), 'latin1');
    const identities = await readIdentityFile(keys.ed25519.identityPath);
    const header = full.subarray(0, 40);
    expect(() => readHeader(header, 'cut.age')).toThrow(/cut\.age: truncated age header/);
    await expect(decryptSecret(header, identities, 'cut.age')).rejects.toThrow(
      /cut\.age: truncated age header/,
    );
    await expect(decryptSecret(full.subarray(0, full.length - 5), identities, 'cut.age')).rejects.toThrow(
      /cut\.age: cannot decrypt: payload is truncated/,
    );
  });

  it('a payload cut at a chunk boundary or with bytes appended is refused, as age does', async () => {
    const file = await encryptSecret(randomBytes(65537), [parseRecipient(keys.ed25519.recipient)], false);
    const identities = await readIdentityFile(keys.ed25519.identityPath);
    // Dropping the final 1-byte chunk (17 bytes sealed) leaves a full chunk not marked final.
    const cut = file.subarray(0, file.length - 17);
    await expect(decryptSecret(cut, identities, 'cut.age')).rejects.toThrow(
      /cut\.age: cannot decrypt: payload does not authenticate/,
    );
    expect(age(['-d', '-i', keys.ed25519.identityPath], cut).status).not.toBe(0);
    const longer = Buffer.concat([file, Buffer.from('x')]);
    await expect(decryptSecret(longer, identities, 'long.age')).rejects.toThrow(/long\.age: cannot decrypt/);
    expect(age(['-d', '-i', keys.ed25519.identityPath], longer).status).not.toBe(0);
  });

  it('a file that is not age at all says so', () => {
    expect(() => readHeader(Buffer.from('hello\n'), 'x.age')).toThrow(/x\.age: not an age file/);
  });

  it('bad key files name the file', async () => {
    const garbage = join(dir.path, 'garbage');
    writeFileSync(garbage, '-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n');
    await expect(readIdentityFile(garbage)).rejects.toThrow(`${garbage}: not an OpenSSH private key`);
    const text = join(dir.path, 'text');
    writeFileSync(text, '# comment\nhello\n');
    await expect(readIdentityFile(text)).rejects.toThrow(`${text}: line 2: not an AGE-SECRET-KEY-1 identity`);
    await expect(readIdentityFile(join(dir.path, 'missing'))).rejects.toThrow(
      /missing: cannot read identity file \(ENOENT\)/,
    );
  });

  it('a passphrase-protected SSH key gets a clear error', () => {
    const locked = sshKey(dir.path, 'locked', 'ed25519', ['-N', 'secret']);
    expect(() => parseIdentities(readFileSync(locked.identityPath, 'utf8'), 'locked')).toThrow(
      /locked: private key is passphrase-protected/,
    );
  });

  it('unsupported recipient types are named', () => {
    const ecdsa = sshKey(dir.path, 'ecdsa', 'ecdsa' as 'rsa');
    expect(() => parseRecipient(ecdsa.recipient)).toThrow(/unsupported recipient type "ecdsa-sha2-nistp256"/);
    expect(() =>
      parseRecipient('age1yubikey1qwt50d05nh5vutpdzmlg5wn80xq5negm4uj9ghv0snvdd3yysf5yw3rhl3t'),
    ).toThrow(/unsupported age plugin recipient type "age1yubikey"/);
    const small = sshKey(dir.path, 'small', 'rsa', ['-b', '1024']);
    expect(() => parseRecipient(small.recipient)).toThrow(
      /ssh-rsa key has 1024 bits; age requires at least 2048/,
    );
    expect(() => parseRecipient('ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA== me')).toThrow(
      /invalid recipient .* is truncated/,
    );
  });

  it('PEM RSA keys (ssh-keygen -m PEM) work as identities, like age', async () => {
    const pem = sshKey(dir.path, 'pem', 'rsa', ['-m', 'PEM', '-b', '2048']);
    const file = ageEncrypt([pem], new Uint8Array([7]), false);
    expect(await decryptSecret(file, await readIdentityFile(pem.identityPath), 'p.age')).toEqual(
      new Uint8Array([7]),
    );
  });
});
