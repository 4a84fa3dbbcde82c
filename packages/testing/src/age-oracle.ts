// Test helpers around the real tools: keys come from ssh-keygen / age-keygen, and the Debian
// `age` CLI is the reference implementation our files must interoperate with.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestKey {
  /** Label used in test names. */
  name: string;
  /** Path usable with `age -i`. */
  identityPath: string;
  /** Recipient string as secrets.nix would list it. */
  recipient: string;
  /** The `age -e` flag that takes this recipient: -R for a file, -r for a string. */
  ageFlag: ['-R', string] | ['-r', string];
}

export function tempDir(): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), 'agentfleet-secrets-'));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

export function sshKey(dir: string, name: string, type: 'ed25519' | 'rsa', extra: string[] = []): TestKey {
  const identityPath = join(dir, name);
  execFileSync('ssh-keygen', [
    '-q',
    '-t',
    type,
    '-N',
    '',
    '-C',
    `${name}@test`,
    '-f',
    identityPath,
    ...extra,
  ]);
  return {
    name,
    identityPath,
    recipient: readFileSync(`${identityPath}.pub`, 'utf8').trim(),
    ageFlag: ['-R', `${identityPath}.pub`],
  };
}

export function ageKey(dir: string, name: string): TestKey {
  const identityPath = join(dir, name);
  execFileSync('age-keygen', ['-o', identityPath], { stdio: 'ignore' });
  const recipient = execFileSync('age-keygen', ['-y', identityPath], { encoding: 'utf8' }).trim();
  return { name, identityPath, recipient, ageFlag: ['-r', recipient] };
}

export interface Run {
  status: number | null;
  stdout: Buffer;
  stderr: string;
}

export function age(args: string[], input: Uint8Array = new Uint8Array()): Run {
  const r = spawnSync('age', args, { input, maxBuffer: 64 << 20 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr.toString() };
}

export function ageEncrypt(keys: TestKey[], plaintext: Uint8Array, armor: boolean): Uint8Array {
  const r = age([...(armor ? ['-a'] : []), ...keys.flatMap((k) => k.ageFlag)], plaintext);
  if (r.status !== 0) throw new Error(`age -e failed: ${r.stderr}`);
  return r.stdout;
}
