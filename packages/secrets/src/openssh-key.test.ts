import { publicKeyLine } from '@agentfleet/core';
import ssh2 from 'ssh2';
import { describe, expect, it } from 'vitest';
import { generateEd25519KeyPair } from './openssh-key.js';
import { parseSshPrivateKey } from './ssh-keys.js';

describe('generateEd25519KeyPair', () => {
  it('makes pairs every reader takes, also those whose public key starts with zero bytes (ssh2 1.17 broke one in 256)', () => {
    // 2000 pairs: about 8 have a public key starting with a zero byte, the case ssh2's own generator got wrong.
    let leadingZero = 0;
    for (let i = 0; i < 2000; i++) {
      const { privateKey, publicKey } = generateEd25519KeyPair(`k${i}`);
      const parsed = ssh2.utils.parseKey(privateKey);
      if (parsed instanceof Error || Array.isArray(parsed)) throw new Error(`pair ${i}: ${String(parsed)}`);
      expect(parsed.type).toBe('ssh-ed25519');
      expect(parsed.comment).toBe(`k${i}`);
      expect(parsed.getPublicSSH().toString('base64')).toBe(publicKey.blob);
      const own = parseSshPrivateKey(privateKey, `k${i}`);
      expect(Buffer.from(own.publicKey.wire).toString('base64')).toBe(publicKey.blob);
      if (Buffer.from(publicKey.blob, 'base64')[4 + 11 + 4] === 0) leadingZero++;
    }
    expect(leadingZero).toBeGreaterThan(0);
  });

  it('writes the layout ssh-keygen writes: 70-column base64, padded section, the comment kept', () => {
    const { privateKey, publicKey } = generateEd25519KeyPair('root@agent-x');
    const lines = privateKey.trimEnd().split('\n');
    expect(lines[0]).toBe('-----BEGIN OPENSSH PRIVATE KEY-----');
    expect(lines.at(-1)).toBe('-----END OPENSSH PRIVATE KEY-----');
    expect(lines.slice(1, -2).every((l) => l.length === 70)).toBe(true);
    expect(publicKeyLine(publicKey)).toMatch(/^ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI/);
  });
});
