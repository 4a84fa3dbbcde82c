import { writeFile } from 'node:fs/promises';
import { run } from './exec.js';

/**
 * The host key a server presents, fetched with ssh-keyscan: the harness's explicit first-contact step. Returns
 * the "ssh-ed25519 AAAA..." part.
 */
export async function presentedHostKey(port: number, host = '127.0.0.1'): Promise<string> {
  const out = await run('ssh-keyscan', ['-T', '10', '-t', 'ed25519', '-p', String(port), host]);
  const line = out.split('\n').find((l) => l.includes(' ssh-ed25519 '));
  if (!line) throw new Error(`ssh-keyscan got no ed25519 key from ${host}:${port}`);
  return line.split(' ').slice(1, 3).join(' ');
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
    'ConnectTimeout=20',
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
