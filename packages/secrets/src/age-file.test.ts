// Whole-file encryption through typage, for sizes around the 64 KiB chunk boundary, and what a
// damaged file does. Interoperability with the age CLI (and the ssh-* stanzas) is
// age-interop.integration.test.ts.
import { generateX25519Identity, identityToRecipient } from 'age-encryption';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { decryptSecret, encryptSecret, readHeader } from './age-file.js';
import { parseRecipient } from './recipients.js';

let identity = '';
let recipient = '';
beforeAll(async () => {
  identity = await generateX25519Identity();
  recipient = await identityToRecipient(identity);
});

describe('age files', () => {
  it.each([
    [0, false],
    [1, true],
    [65536, false],
    [65537, true],
  ])('decrypts what it encrypts: %i bytes, armored %s', async (size, armored) => {
    const plaintext = randomBytes(size);
    const file = await encryptSecret(plaintext, [parseRecipient(recipient)], armored);
    expect(readHeader(file, 'f')).toEqual({ armored, stanzas: [['X25519', expect.any(String)]] });
    expect(await decryptSecret(file, [identity], 'f')).toEqual(plaintext);
  });

  it('refuses a file with any payload or header byte flipped', async () => {
    const file = await encryptSecret(randomBytes(65537), [parseRecipient(recipient)], false);
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: file.length - 1 }), async (i) => {
        const bad = file.slice();
        bad[i] = (bad[i] ?? 0) ^ 1;
        await expect(decryptSecret(bad, [identity], 'f')).rejects.toThrow(/^f: /);
      }),
      { numRuns: 10 },
    );
  });

  it('names the stanzas when no identity matches, and a missing MAC line', async () => {
    const file = await encryptSecret(new Uint8Array(3), [parseRecipient(recipient)], false);
    const other = await generateX25519Identity();
    await expect(decryptSecret(file, [other], 'f')).rejects.toThrow(
      /^f: none of the 1 identities can decrypt it \(stanzas: X25519 /,
    );
    const cut = file.subarray(0, new TextDecoder().decode(file).indexOf('\n---'));
    await expect(decryptSecret(cut, [identity], 'f')).rejects.toThrow('f: truncated age header');
  });
});

function randomBytes(n: number): Uint8Array {
  const out = new Uint8Array(n);
  // getRandomValues fills at most 65536 bytes per call.
  for (let i = 0; i < n; i += 65536) crypto.getRandomValues(out.subarray(i, Math.min(n, i + 65536)));
  return out;
}
