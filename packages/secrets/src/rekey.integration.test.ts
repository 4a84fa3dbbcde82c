// Rekey against real files made by the age CLI, rules read by the real nix-instantiate, and
// results checked with `age -d`.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { age, ageEncrypt, ageKey, sshKey, type TestKey, tempDir } from '@agentfleet/testing/age-oracle';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readHeader } from './age-file.js';
import { readIdentityFile } from './identities.js';
import { rekey } from './rekey.js';
import { filesForRecipient, readRules } from './rules.js';

const dir = tempDir();
const secrets = join(dir.path, 'secrets');
let admin: TestKey;
let ops: TestKey;
let drago: TestKey;
let luce: TestKey;
let gone: TestKey;
const plain = (name: string) => Buffer.from(`plaintext of ${name}\n`);

function writeRules(rules: Record<string, { keys: TestKey[]; armor?: boolean }>): string {
  const body = Object.entries(rules)
    .map(([name, r]) => {
      const keys = r.keys.map((k) => `"${k.recipient}"`).join(' ');
      return `  "${name}" = { publicKeys = [ ${keys} ]; armor = ${r.armor === true}; };`;
    })
    .join('\n');
  const path = join(secrets, 'secrets.nix');
  writeFileSync(path, `{\n${body}\n}\n`);
  return path;
}

function snapshot(): Record<string, string> {
  return Object.fromEntries(readdirSync(secrets).map((f) => [f, readFileSync(join(secrets, f), 'latin1')]));
}

function decryptsWith(key: TestKey, name: string): boolean {
  const r = age(['-d', '-i', key.identityPath, join(secrets, name)]);
  return r.status === 0 && Buffer.compare(r.stdout, plain(name)) === 0;
}

beforeAll(() => {
  const keysDir = join(dir.path, 'keys');
  for (const d of [secrets, keysDir]) mkdirSync(d);
  admin = sshKey(keysDir, 'admin', 'ed25519');
  ops = ageKey(keysDir, 'ops');
  drago = sshKey(keysDir, 'drago', 'ed25519');
  luce = sshKey(keysDir, 'luce', 'rsa', ['-b', '2048']);
  gone = sshKey(keysDir, 'gone', 'ed25519');
  // The state before: files as `agenix -e` would have made them.
  const initial: [string, TestKey[], boolean][] = [
    ['a.age', [admin, gone], false],
    ['b.age', [admin, drago], false],
    ['c.age', [admin, luce], false],
    ['d.age', [gone], false],
    ['x.age', [admin, ops], false],
  ];
  for (const [name, keys, armor] of initial)
    writeFileSync(join(secrets, name), ageEncrypt(keys, plain(name), armor));
});
afterAll(() => dir.remove());

describe('rekey', () => {
  it('re-encrypts to exactly the rule, skips matching files, reports failures, leaves no temp files', async () => {
    const rulesPath = writeRules({
      'a.age': { keys: [admin, drago] }, // gone removed, drago added
      'b.age': { keys: [drago, admin] }, // already right (order does not matter)
      'c.age': { keys: [admin, luce], armor: true }, // same recipients, armor changed
      'd.age': { keys: [admin, drago] }, // the admin cannot decrypt it
      'e.age': { keys: [admin] }, // no file yet
      'x.age': { keys: [admin, ops] },
    });
    const before = snapshot();
    const summary = await rekey({
      secretsDir: secrets,
      rules: await readRules(rulesPath),
      identities: await readIdentityFile(admin.identityPath),
    });
    expect(summary.rekeyed).toEqual(['a.age', 'c.age']);
    expect(summary.unchanged).toEqual(['b.age', 'x.age']);
    expect(summary.missing).toEqual(['e.age']);
    expect(summary.failed).toEqual([
      { file: 'd.age', error: expect.stringMatching(/^d\.age: none of the 1 identities can decrypt it/) },
    ]);

    const after = snapshot();
    expect(Object.keys(after).sort()).toEqual(Object.keys(before).sort());
    for (const f of ['b.age', 'd.age', 'x.age', 'secrets.nix']) expect(after[f], f).toBe(before[f]);
    expect(decryptsWith(admin, 'a.age') && decryptsWith(drago, 'a.age')).toBe(true);
    expect(decryptsWith(gone, 'a.age')).toBe(false);
    expect(decryptsWith(admin, 'c.age') && decryptsWith(luce, 'c.age')).toBe(true);
    expect(readHeader(Buffer.from(after['c.age'] ?? '', 'latin1'), 'c.age').armored).toBe(true);
    expect(decryptsWith(gone, 'd.age')).toBe(true);

    const again = await rekey({
      secretsDir: secrets,
      rules: await readRules(rulesPath),
      identities: await readIdentityFile(admin.identityPath),
    });
    expect(again.rekeyed).toEqual([]);
    expect(again.unchanged).toEqual(['a.age', 'b.age', 'c.age', 'x.age']);
    expect(snapshot()).toEqual(after);
  });

  it('only touches the files that list a new host key', async () => {
    const luceNew = sshKey(join(dir.path, 'keys'), 'luce-new', 'ed25519');
    const rules = await readRules(
      writeRules({
        'a.age': { keys: [admin, drago, luceNew] },
        'b.age': { keys: [admin] }, // would change too, but is not luce's
        'c.age': { keys: [admin, luce], armor: true },
      }),
    );
    const before = snapshot();
    const lucesFiles = filesForRecipient(rules, luceNew.recipient);
    const summary = await rekey({
      secretsDir: secrets,
      rules,
      identities: await readIdentityFile(admin.identityPath),
      only: (f) => lucesFiles.includes(f),
    });
    expect(summary).toEqual({ rekeyed: ['a.age'], unchanged: [], missing: [], failed: [] });
    expect(decryptsWith(luceNew, 'a.age') && decryptsWith(drago, 'a.age')).toBe(true);
    expect(snapshot()['b.age']).toBe(before['b.age']);
  });

  it('X25519 stanzas are anonymous: swapping one age1 key for another needs force', async () => {
    const ops2 = ageKey(join(dir.path, 'keys'), 'ops2');
    const rules = await readRules(writeRules({ 'x.age': { keys: [admin, ops2] } }));
    const identities = await readIdentityFile(admin.identityPath);
    const plainRun = await rekey({ secretsDir: secrets, rules, identities });
    expect(plainRun.unchanged).toEqual(['x.age']);
    const forced = await rekey({ secretsDir: secrets, rules, identities, force: true });
    expect(forced.rekeyed).toEqual(['x.age']);
    expect(decryptsWith(ops2, 'x.age')).toBe(true);
    expect(decryptsWith(ops, 'x.age')).toBe(false);
  });
});
