// Our whole-buffer framing against typage's own streaming implementation of the same format: each
// must read what the other writes, for sizes around the 64 KiB chunk boundaries.
import { Decrypter, Encrypter, Stanza } from 'age-encryption';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decryptPayload, encodeAgeFile, splitHeader } from './age-format.js';

// A stand-in recipient whose stanza carries the file key in the clear: it isolates the framing
// (header, MAC, STREAM) from key wrapping, which the age CLI tests cover.
const CLEAR = 'test.example/clear';
const clearRecipient = { wrapFileKey: (fileKey: Uint8Array) => [new Stanza([CLEAR], fileKey)] };
const clearIdentity = {
  unwrapFileKey: (stanzas: Stanza[]) => stanzas.find((s) => s.args[0] === CLEAR)?.body ?? null,
};

const sizes = fc.oneof(
  fc.integer({ min: 0, max: 70_000 }),
  fc.constantFrom(0, 1, 65535, 65536, 65537, 131071, 131072, 131073),
);

describe('age framing', () => {
  it('typage decrypts what encodeAgeFile writes', async () => {
    const decrypter = new Decrypter();
    decrypter.addIdentity(clearIdentity);
    await fc.assert(
      fc.asyncProperty(sizes, async (size) => {
        const plaintext = randomBytes(size);
        const fileKey = randomBytes(16);
        const file = encodeAgeFile(fileKey, clearRecipient.wrapFileKey(fileKey), plaintext);
        expect(await decrypter.decrypt(file)).toEqual(plaintext);
      }),
      { numRuns: 10 },
    );
  });

  it('decryptPayload reads what typage writes', async () => {
    const encrypter = new Encrypter();
    encrypter.addRecipient(clearRecipient);
    await fc.assert(
      fc.asyncProperty(sizes, async (size) => {
        const plaintext = randomBytes(size);
        const parts = splitHeader(await encrypter.encrypt(plaintext));
        const stanzaLine = new TextDecoder().decode(parts?.header).split('\n')[2] ?? '';
        const fileKey = new Uint8Array(Buffer.from(stanzaLine, 'base64'));
        expect(decryptPayload(fileKey, parts?.payload ?? new Uint8Array())).toEqual(plaintext);
      }),
      { numRuns: 10 },
    );
  });

  it('any flipped payload byte is detected', () => {
    const fileKey = randomBytes(16);
    const file = encodeAgeFile(fileKey, [], randomBytes(70_000));
    const parts = splitHeader(file);
    if (parts === undefined) throw new Error('no header');
    fc.assert(
      fc.property(fc.integer({ min: 0, max: parts.payload.length - 1 }), (i) => {
        const bad = parts.payload.slice();
        bad[i] = (bad[i] ?? 0) ^ 1;
        expect(() => decryptPayload(fileKey, bad)).toThrow(/does not authenticate|truncated/);
      }),
      { numRuns: 50 },
    );
  });
});

function randomBytes(n: number): Uint8Array {
  const out = new Uint8Array(n);
  // getRandomValues fills at most 65536 bytes per call.
  for (let i = 0; i < n; i += 65536) crypto.getRandomValues(out.subarray(i, Math.min(n, i + 65536)));
  return out;
}
