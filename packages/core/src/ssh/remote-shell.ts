// The SSH port: what the engine needs from a logged-in session to an agent. packages/ssh implements it with ssh2;
// tests may substitute fakes. It extends provisioning's AgentShell so one session serves bring-up and provisioning.
import type { SshPublicKey } from '../provision/hostkey.js';
import type { AgentShell } from '../provision/interfaces.js';

export interface RemoteShell extends AgentShell {
  /** Reads a remote file (SFTP) as UTF-8. */
  readFile(remotePath: string): Promise<string>;
  /** Copies a local directory tree to `remoteDir` (SFTP), creating directories and keeping file modes. */
  uploadDir(localDir: string, remoteDir: string): Promise<void>;
}

/**
 * How a connection treats the host key the server presents. `pinned`: only that key is accepted. `first-contact`:
 * no key is known yet; the presented key is handed to `record` (which must persist it) before the login goes on.
 */
export type HostKeyPolicy =
  | { kind: 'pinned'; key: SshPublicKey /** where the pin lives, for messages */; source?: string }
  | { kind: 'first-contact'; record: (key: SshPublicKey) => Promise<void> | void };

export interface SshTarget {
  /** Who we connect to, for messages (agent name). */
  who: string;
  host: string;
  port: number;
  user: string;
  /** OpenSSH/PEM private key text. */
  privateKey: string;
  hostKey: HostKeyPolicy;
}

export type RemoteShellFactory = (target: SshTarget, opts?: { timeoutMs?: number }) => Promise<RemoteShell>;

/**
 * The SSH connection to an agent went away mid-operation (the guest rebooted, its sshd died, keepalives went
 * unanswered): the operation's outcome is unknown, and a new connection may succeed once the guest is back.
 */
export class RemoteConnectionLostError extends Error {
  constructor(
    readonly who: string,
    readonly operation: string,
    readonly reason: string,
  ) {
    super(`connection to ${who} lost during ${operation}: ${reason}`);
    this.name = 'RemoteConnectionLostError';
  }
}

/** A remote operation ran past its deadline; it was abandoned (its channel closed). */
export class RemoteTimeoutError extends Error {
  constructor(
    readonly who: string,
    readonly operation: string,
    readonly timeoutMs: number,
  ) {
    super(`${who}: ${operation} did not finish within ${Math.round(timeoutMs / 1000)} s`);
    this.name = 'RemoteTimeoutError';
  }
}
