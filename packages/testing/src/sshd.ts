import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { run } from './exec.js';
import { testPort, waitForListen } from './ports.js';

/** A real OpenSSH sshd on 127.0.0.1 for SSH tests that need no VM. */
export interface Sshd {
  host: '127.0.0.1';
  port: number;
  /** The account the client key may log in as (whoever runs the tests). */
  user: string;
  privateKeyPath: string;
  privateKey: string;
  /** The server's first host key as an OpenSSH public key line ("ssh-ed25519 AAAA..."). */
  hostPublicKey: string;
  /** Every host key the server holds, by type ("ssh-ed25519", "ssh-rsa"). */
  hostPublicKeys: Record<string, string>;
  dir: string;
  stop(): Promise<void>;
}

const SSHD = '/usr/sbin/sshd';
const SFTP_SERVER = '/usr/lib/openssh/sftp-server';

type KeyType = 'ed25519' | 'rsa';

/**
 * The sshd_config of a test server: keys only (root by key too), its authorized_keys and pid file in `dir`, quiet.
 * `listen`: its Port/ListenAddress lines; `extra`: more lines.
 */
export function sshdConfig(opts: {
  listen: string[];
  hostKeys: string[];
  dir: string;
  extra?: string[];
}): string {
  return [
    ...opts.listen,
    ...opts.hostKeys.map((k) => `HostKey ${k}`),
    `AuthorizedKeysFile ${path.join(opts.dir, 'authorized_keys')}`,
    `PidFile ${path.join(opts.dir, 'sshd.pid')}`,
    // The temp dir lives under /tmp (world-writable parent), which StrictModes would reject.
    'StrictModes no',
    'UsePAM no',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'PermitRootLogin prohibit-password',
    ...(opts.extra ?? []),
    'LogLevel ERROR',
    '',
  ].join('\n');
}

async function keygen(file: string, type: KeyType = 'ed25519'): Promise<string> {
  await run('ssh-keygen', ['-q', '-t', type, '-N', '', '-C', path.basename(file), '-f', file]);
  return (await readFile(`${file}.pub`, 'utf8')).trim().split(' ').slice(0, 2).join(' ');
}

/**
 * Starts sshd with fresh host keys (ed25519 unless `hostKeyTypes` says otherwise; several model a NixOS guest, which
 * holds ed25519 and rsa) and a fresh client key authorized for the current user.
 */
export async function startSshd(opts: { hostKeyTypes?: KeyType[] } = {}): Promise<Sshd> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'agentfleet-sshd-'));
  const hostKeys = (opts.hostKeyTypes ?? ['ed25519']).map((t) => ({
    type: t,
    file: path.join(dir, `host_${t}`),
  }));
  const clientKey = path.join(dir, 'client_ed25519');
  const hostPublicKeys: Record<string, string> = {};
  for (const k of hostKeys) {
    const line = await keygen(k.file, k.type);
    hostPublicKeys[line.split(' ')[0] as string] = line;
  }
  const hostPublicKey = Object.values(hostPublicKeys)[0] as string;
  await writeFile(path.join(dir, 'authorized_keys'), `${await keygen(clientKey)}\n`);
  // sshd insists on its privilege-separation directory even when it cannot drop privileges.
  if (process.getuid?.() === 0) await mkdir('/run/sshd', { recursive: true, mode: 0o755 });
  // From this process's own block: no other test process binds it between now and sshd's bind.
  const port = testPort();
  const config = path.join(dir, 'sshd_config');
  await writeFile(
    config,
    sshdConfig({
      listen: [`Port ${port}`, 'ListenAddress 127.0.0.1'],
      hostKeys: hostKeys.map((k) => k.file),
      dir,
      extra: [`Subsystem sftp ${SFTP_SERVER}`],
    }),
  );
  const child: ChildProcess = spawn(SSHD, ['-D', '-e', '-f', config], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d) => {
    stderr += d;
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    await Promise.race([
      waitForListen('127.0.0.1', port, 30_000),
      exited.then(() => {
        throw new Error(`sshd exited at start: ${stderr}`);
      }),
    ]);
  } catch (err) {
    child.kill();
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    host: '127.0.0.1',
    port,
    user: os.userInfo().username,
    privateKeyPath: clientKey,
    privateKey: await readFile(clientKey, 'utf8'),
    hostPublicKey,
    hostPublicKeys,
    dir,
    async stop() {
      if (child.exitCode === null) {
        child.kill();
        await exited;
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}
