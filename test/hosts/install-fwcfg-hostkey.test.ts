// hosts/scripts/install-fwcfg-hostkey.sh, the host-key hand-over the NixOS module runs before sshd
// (and the test image's init runs too), run for real with OpenSSH's ssh-keygen, under the shell
// each runs it with: bash (NixOS' runtimeShell) and busybox sh (the test image).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

const script = fileURLToPath(new URL('../../hosts/scripts/install-fwcfg-hostkey.sh', import.meta.url));

let dir: string;
let source: string;
let key: string;

beforeEach(() => {
  dir = mkdtempSync('/tmp/nixos-hostkey-');
  source = join(dir, 'fwcfg-raw');
  key = join(dir, 'var', 'ssh', 'ssh_host_ed25519_key');
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'handed-over', '-f', source]);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const mode = (path: string) => statSync(path).mode & 0o777;
const bare = (pub: string) => pub.trim().split(/\s+/).slice(0, 2).join(' ');

describe.each([['bash'], ['busybox', 'sh']])('install-fwcfg-hostkey.sh under %s', (...shell) => {
  const run = (...args: string[]) =>
    spawnSync(shell[0] as string, [...shell.slice(1), script, ...args], { encoding: 'utf8' });

  it('installs the handed-over key 0600 with its public half derived, when the VM has none', () => {
    const r = run(key, source);
    expect(r.status).toBe(0);
    expect(readFileSync(key, 'utf8')).toBe(readFileSync(source, 'utf8'));
    expect(mode(key)).toBe(0o600);
    expect(bare(readFileSync(`${key}.pub`, 'utf8'))).toBe(bare(readFileSync(`${source}.pub`, 'utf8')));
    expect(r.stdout).toContain(
      `installed ${key} from fw_cfg (${bare(readFileSync(`${source}.pub`, 'utf8'))})`,
    );
  });

  it('never replaces a key the VM already has', () => {
    expect(run(key, source).status).toBe(0);
    const other = join(dir, 'other');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', other]);
    const r = run(key, other);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('keeping the existing');
    expect(readFileSync(key, 'utf8')).toBe(readFileSync(source, 'utf8'));
  });

  it('does nothing without a fw_cfg entry, leaving key generation to sshd', () => {
    const r = run(key, join(dir, 'absent'));
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('sshd generates its own');
    expect(existsSync(key)).toBe(false);
  });

  it('refuses an entry that is not a private key and leaves no key behind', () => {
    writeFileSync(source, 'not a key\n');
    const r = run(key, source);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('is not a usable private key');
    expect(existsSync(key)).toBe(false);
    expect(existsSync(`${key}.pub`)).toBe(false);
  });
});
