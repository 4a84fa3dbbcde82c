import ssh2 from 'ssh2';
import { describe, expect, it } from 'vitest';
import { generateEd25519KeyPair } from './keys.js';

describe('generateEd25519KeyPair', () => {
  it('hands out only pairs that parse, though ssh2 encodes one in 256 wrongly', () => {
    // 2000 pairs: with the malformed 1/256 passed through, at least one fails here with probability 1 - (255/256)^2000
    // (over 99.9 %).
    for (let i = 0; i < 2000; i++) {
      const { privateKey, publicKey } = generateEd25519KeyPair(`k${i}`);
      const parsed = ssh2.utils.parseKey(privateKey);
      expect(parsed instanceof Error ? parsed.message : 'parsed').toBe('parsed');
      expect(publicKey.type).toBe('ssh-ed25519');
    }
  });
});
