// What provisioning needs from the world, as interfaces the engine drives and the CLI wires to
// the ssh, secrets and state-store adapters.
import type { SshPublicKey } from './hostkey.js';
import type { ProvisionProgress } from './steps.js';

export type OutputStream = 'stdout' | 'stderr';

/** An SSH session to one agent, already past host-key pinning. */
export interface AgentShell {
  /** The host key the server presented and proved in this connection's handshake. */
  readonly hostKey: SshPublicKey;
  /**
   * Runs a command, streaming its output as it arrives; resolves with the exit code. Past `timeoutMs` (the
   * adapter's default when absent) the command is abandoned with a RemoteTimeoutError.
   */
  exec(
    command: string,
    onOutput?: (chunk: string, stream: OutputStream) => void,
    opts?: { timeoutMs?: number },
  ): Promise<number>;
  /** Uploads local files (SFTP); remote parent directories are created. */
  upload(files: readonly { local: string; remote: string }[]): Promise<void>;
  close(): Promise<void>;
}

export interface ConnectOptions {
  /** The key the agent must present; a different one is refused. */
  pinnedHostKey?: string;
  /**
   * Accept and re-pin whatever key the agent presents (only after an explicit user confirmation:
   * `fleet provision <name> --rekey --yes`). Otherwise a key other than the pinned one is refused.
   */
  acceptNewHostKey?: boolean;
  /**
   * The agent may be (re)booting, e.g. after a connection was lost mid-step: wait for its SSH to become ready
   * (within the fleet's boot timeout) instead of failing at the first refused connection.
   */
  waitReady?: boolean;
}

export interface AgentConnector {
  connect(agent: string, opts?: ConnectOptions): Promise<AgentShell>;
}

export interface RekeySummary {
  /** Secret files re-encrypted. */
  rekeyed: string[];
  /** Secret files whose recipients already matched. */
  unchanged: string[];
  failed: { file: string; message: string }[];
}

export interface SecretsRekeyer {
  /** Records `agent`'s host key as a recipient (secrets/hosts/<agent>.pub). */
  recordHostKey(agent: string, publicKeyLine: string): Promise<void>;
  /** Re-encrypts every secret whose rules now list the agent's host key. */
  rekeyAgent(agent: string): Promise<RekeySummary>;
}

/** The per-agent progress record, kept atomically in the engine's state store. */
export interface ProvisionStore {
  read(agent: string): Promise<ProvisionProgress>;
  update(agent: string, change: (p: ProvisionProgress) => ProvisionProgress): Promise<ProvisionProgress>;
  /** The host key SSH connections to the agent are pinned to ("ssh-ed25519 AAAA..."). */
  pinnedHostKey(agent: string): Promise<string | undefined>;
  /** Re-pins after a confirmed host-key change (`--rekey --yes`). */
  pinHostKey(agent: string, hostKey: string): Promise<void>;
  /** The pinned key is one fleet made and handed over before first boot (AgentRuntime.hostKeyHandedOver). */
  hostKeyHandedOver(agent: string): Promise<boolean>;
}
