import type { Duplex } from 'node:stream';
import { checkHostKeyPin, keyFromWire, type SshPublicKey, type SshTarget } from '@agentfleet/core';
import { Client } from 'ssh2';
import { HostKeyMismatchError, SshConnectError } from './errors.js';
import { type ShellDeadlines, SshShell } from './shell.js';

export interface ConnectOptions {
  /** Limit for TCP connect + handshake + login. */
  timeoutMs?: number;
  /** Deadlines of the session's operations (default DEFAULT_DEADLINES). */
  deadlines?: ShellDeadlines;
  /** An open connection to the server (a jump host's forward) instead of a TCP connection to target.host:port. */
  sock?: Duplex;
}

/**
 * Keepalives every 5 s, given up after 3 unanswered: a guest that rebooted or hung (whose TCP peer, QEMU's
 * forwarder, stays up) is noticed in about 20 s instead of never.
 */
export const KEEPALIVE = { intervalMs: 5_000, countMax: 3 };

// Ask for the pinned key's type so a server holding several host keys presents the one we pinned.
function hostKeyAlgorithms(pinned: SshPublicKey | undefined): string[] | undefined {
  if (!pinned) return undefined;
  return pinned.type === 'ssh-rsa' ? ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] : [pinned.type];
}

/**
 * Opens an SSH session, verifying the host key in ssh2's hostVerifier: a pinned key must match exactly; on first
 * contact the presented key is recorded only once the handshake signature checked out and the login succeeded.
 */
export function connectShell(target: SshTarget, opts: ConnectOptions = {}): Promise<SshShell> {
  const address = `${target.host}:${target.port}`;
  const pinned = target.hostKey.kind === 'pinned' ? target.hostKey.key : undefined;
  const source = target.hostKey.kind === 'pinned' ? target.hostKey.source : undefined;
  const client = new Client();
  let presented: SshPublicKey | undefined;
  let mismatch: string | undefined;
  const algorithms = hostKeyAlgorithms(pinned);

  return new Promise<SshShell>((resolve, reject) => {
    let settled = false;
    const fail = (err: Error) => {
      if (settled) return;
      settled = true;
      client.removeAllListeners('ready');
      client.end();
      reject(err);
    };
    // `on`, not `once`: a handshake can fail with a second error (the socket's) after the first, and an 'error'
    // event without a listener would crash the process.
    const onError = (err: Error & { level?: string }) => {
      if (mismatch) return fail(new HostKeyMismatchError(mismatch));
      const authFailed = err.level === 'client-authentication';
      fail(
        new SshConnectError(
          `ssh ${target.user}@${target.who} (${address}): ${authFailed ? 'login refused' : 'connection failed'}: ${err.message}`,
          target.who,
          address,
          authFailed,
        ),
      );
    };
    client.on('error', onError);
    // ssh2 reports a peer that closes before login (a guest's sshd stopped by a reboot) with 'close' alone, no
    // 'error'; it also clears its ready timer then, so without this the promise would never settle.
    client.once('close', () =>
      onError(new Error('the server closed the connection before the login completed')),
    );
    client.once('ready', async () => {
      if (settled) return;
      if (!presented) return fail(new Error(`${target.who} (${address}): no host key seen in the handshake`));
      settled = true;
      // From here on the shell watches the connection: later transport errors fail the operations they hit.
      const shell = new SshShell(client, presented, target.who, opts.deadlines);
      client.removeListener('error', onError);
      if (target.hostKey.kind === 'first-contact') {
        try {
          await target.hostKey.record(presented);
        } catch (err) {
          await shell.close();
          return reject(err);
        }
      }
      resolve(shell);
    });
    client.connect({
      host: target.host,
      port: target.port,
      username: target.user,
      privateKey: target.privateKey,
      readyTimeout: opts.timeoutMs ?? 20_000,
      ...(opts.sock && { sock: opts.sock as never }),
      keepaliveInterval: KEEPALIVE.intervalMs,
      keepaliveCountMax: KEEPALIVE.countMax,
      ...(algorithms ? { algorithms: { serverHostKey: algorithms as never } } : {}),
      hostVerifier: (wire: Buffer, verify: (ok: boolean) => void) => {
        let key: SshPublicKey;
        try {
          key = keyFromWire(wire);
        } catch {
          return verify(false);
        }
        const result = checkHostKeyPin({ who: target.who, address, presented: key, pinned, source });
        if (result.kind === 'mismatch') {
          mismatch = result.message;
          return verify(false);
        }
        presented = key;
        verify(true);
      },
    });
  });
}
