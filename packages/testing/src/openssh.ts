import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from './exec.js';

/**
 * The host key a server presents, recorded by the OpenSSH client on first contact into a throwaway known_hosts:
 * the harness's explicit first-contact step. Returns the "ssh-ed25519 AAAA..." part. Not ssh-keyscan: it waits for
 * the server's banner before sending its own, and passt 2023-03-09 forwards nothing until the client has sent
 * something (see README's passt notes), so ssh-keyscan never hears an isolated agent.
 */
export async function presentedHostKey(port: number, host = '127.0.0.1'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'presented-key-'));
  try {
    const file = join(dir, 'known_hosts');
    // Authentication is bound to fail (no identity, no auth method): the key is recorded before it is tried.
    await run('ssh', [
      ...['-p', String(port), '-F', '/dev/null', '-o', `UserKnownHostsFile=${file}`],
      ...['-o', 'StrictHostKeyChecking=accept-new', '-o', 'HostKeyAlgorithms=ssh-ed25519'],
      // ConnectTimeout bounds the connect and the banner: a TCG guest's sshd under load may take many seconds.
      ...['-o', 'BatchMode=yes', '-o', 'PreferredAuthentications=none', '-o', 'ConnectTimeout=60'],
      `nobody@${host}`,
      'true',
    ]).catch(() => undefined);
    const line = (await readFile(file, 'utf8').catch(() => ''))
      .split('\n')
      .find((l) => l.includes(' ssh-ed25519 '));
    if (!line) throw new Error(`ssh recorded no ed25519 key from ${host}:${port}`);
    return line.split(' ').slice(1, 3).join(' ');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Writes a known_hosts file pinning `hostKey` for 127.0.0.1:port. */
export async function writeKnownHosts(file: string, port: number, hostKey: string): Promise<void> {
  await writeFile(file, `[127.0.0.1]:${port} ${hostKey}\n`);
}

/** OpenSSH client options that pin the host key from `knownHosts` and refuse anything else. */
export function opensshArgs(port: number, identity: string, knownHosts: string): string[] {
  return [
    '-p',
    String(port),
    '-i',
    identity,
    '-o',
    'IdentitiesOnly=yes',
    '-o',
    `UserKnownHostsFile=${knownHosts}`,
    '-o',
    'StrictHostKeyChecking=yes',
    '-o',
    'BatchMode=yes',
    '-o',
    'ConnectTimeout=60',
  ];
}

/** Runs a command as root@127.0.0.1:port with the OpenSSH client; resolves with stdout. */
export function opensshExec(
  port: number,
  identity: string,
  knownHosts: string,
  command: string,
): Promise<string> {
  return run('ssh', [...opensshArgs(port, identity, knownHosts), 'root@127.0.0.1', command]);
}
