// The real OpenSSH as the oracle: what the guest's install-fwcfg-hostkey.sh runs on a handed-over key.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { publicKeyLine } from '@agentfleet/core';
import { afterAll, describe, expect, it } from 'vitest';
import { generateEd25519KeyPair } from './openssh-key.js';

const dir = mkdtempSync(join(tmpdir(), 'openssh-key-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('generateEd25519KeyPair with ssh-keygen', () => {
  it('ssh-keygen derives the same public key from each private key, and keeps its comment', () => {
    for (let i = 0; i < 20; i++) {
      const { privateKey, publicKey } = generateEd25519KeyPair(`root@agent-${i}`);
      const file = join(dir, `k${i}`);
      writeFileSync(file, privateKey, { mode: 0o600 });
      const derived = execFileSync('ssh-keygen', ['-y', '-f', file], { encoding: 'utf8' }).trim();
      expect(derived).toBe(`${publicKeyLine(publicKey)} root@agent-${i}`);
    }
  });
});
