// Our whole-buffer framing against typage's own streaming implementation of the same format: each
// must read what the other writes, for sizes around the 64 KiB chunk boundaries.
import { Decrypter, Encrypter, Stanza } from 'age-encryption';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decryptPayload, encodeAgeFile, headerMac, parseHeader, splitHeader } from './age-format.js';

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

  it('parseHeader reads the stanzas and MAC of headers typage writes', async () => {
    // Bodies around the 48-byte line boundary (0, 47, 48, 49, 96 ...) and several arguments.
    const stanzas = fc.array(
      fc.record({
        args: fc.array(fc.stringMatching(/^[a-zA-Z0-9+/=._-]{1,12}$/), { minLength: 0, maxLength: 3 }),
        body: fc.oneof(fc.integer({ min: 0, max: 150 }), fc.constantFrom(0, 47, 48, 49, 96, 144)),
      }),
      { minLength: 1, maxLength: 4 },
    );
    await fc.assert(
      fc.asyncProperty(stanzas, async (specs) => {
        const made = specs.map((s) => new Stanza([CLEAR, ...s.args], randomBytes(s.body)));
        const encrypter = new Encrypter();
        encrypter.addRecipient({
          wrapFileKey: (fileKey: Uint8Array) => [new Stanza(['key'], fileKey), ...made],
        });
        const parts = splitHeader(await encrypter.encrypt(new Uint8Array(0)));
        if (parts === undefined) throw new Error('no header');
        const header = parseHeader(parts.header);
        expect(header.stanzas.slice(1).map((s) => [s.args, s.body])).toEqual(
          made.map((s) => [s.args, s.body]),
        );
        const fileKey = header.stanzas[0]?.body ?? new Uint8Array();
        expect(headerMac(fileKey, header.headerNoMac)).toEqual(header.mac);
      }),
      { numRuns: 50 },
    );
  });

  it('parseHeader refuses what age refuses', () => {
    const fileKey = randomBytes(16);
    const good = new TextDecoder().decode(
      splitHeader(encodeAgeFile(fileKey, [new Stanza(['x'], randomBytes(48))], new Uint8Array()))?.header,
    );
    const bad = [
      good.replace('age-encryption.org/v1', 'age-encryption.org/v2'),
      good.replace('-> x', '-> x '), // empty argument
      good.replace('-> x', '->  x'),
      good.replace(/\n\n---/, '\n---'), // a 48-byte body without its empty final line
      good.replace(/\n(\S{63})\S\n/, '\n$1\n'), // a body line of 63 columns that is not the last
      good.replace(/\n--- (\S+)/, '\n--- $1='), // padded MAC
      `${good.slice(0, -1)}\n`.replace('\n---', '\nextra\n---'),
    ];
    for (const text of bad) expect(() => parseHeader(new TextEncoder().encode(text))).toThrow(/invalid/);
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
