// The host-key capture check: the key file the guest shows us must be the very key its SSH
// server proved possession of in the handshake, and must not silently replace a recorded one.

export interface SshPublicKey {
  /** Key type as it appears in the key's wire encoding, e.g. "ssh-ed25519". */
  type: string;
  /** Base64 of the SSH wire encoding. */
  blob: string;
}

export class HostKeyFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HostKeyFormatError';
  }
}

/** Reads the type string that opens an SSH wire-format key (uint32 length + bytes). */
function wireType(bytes: Uint8Array): string | undefined {
  if (bytes.length < 4) return undefined;
  const len = ((bytes[0] ?? 0) << 24) | ((bytes[1] ?? 0) << 16) | ((bytes[2] ?? 0) << 8) | (bytes[3] ?? 0);
  if (len <= 0 || len > 64 || 4 + len > bytes.length) return undefined;
  return String.fromCharCode(...bytes.subarray(4, 4 + len));
}

function base64Bytes(text: string): Uint8Array | undefined {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text)) return undefined;
  try {
    return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
  } catch {
    return undefined;
  }
}

/** Wire-format key bytes (as ssh2 hands them to a host verifier) to a key. */
export function keyFromWire(bytes: Uint8Array): SshPublicKey {
  const type = wireType(bytes);
  if (type === undefined) throw new HostKeyFormatError('not an SSH wire-format public key');
  return { type, blob: btoa(String.fromCharCode(...bytes)) };
}

/** Parses an authorized_keys / .pub line ("ssh-ed25519 AAAA... comment"). */
export function parsePublicKeyLine(line: string): SshPublicKey {
  const [type, blob] = line.trim().split(/\s+/);
  if (!type || !blob)
    throw new HostKeyFormatError(`not an SSH public key line: ${JSON.stringify(line.trim())}`);
  const bytes = base64Bytes(blob);
  const inner = bytes && wireType(bytes);
  if (inner !== type) {
    throw new HostKeyFormatError(`SSH public key of type ${type} does not encode a ${type} key`);
  }
  return { type, blob };
}

export function publicKeyLine(key: SshPublicKey): string {
  return `${key.type} ${key.blob}`;
}

export function sameKey(a: SshPublicKey, b: SshPublicKey): boolean {
  return a.type === b.type && a.blob === b.blob;
}

export type HostKeyCapture =
  | { ok: true; key: SshPublicKey; changed: boolean }
  | { ok: false; reason: 'handshake-mismatch' | 'changed' | 'malformed'; message: string };

export interface HostKeyEvidence {
  agent: string;
  /** Path of the key file read from the guest, for messages. */
  path: string;
  /** Content of that file. */
  fileLine: string;
  /** The key the guest's SSH server presented (and proved) in this connection's handshake. */
  handshake: SshPublicKey;
  /** The key recorded by an earlier capture, if any. */
  recorded?: string;
  /** The user explicitly confirmed replacing a recorded key (`--rekey --yes`). */
  acceptChange: boolean;
}

/** Decides whether the key read from the guest may become the agent's recorded host key. */
export function checkHostKeyCapture(e: HostKeyEvidence): HostKeyCapture {
  let fileKey: SshPublicKey;
  try {
    fileKey = parsePublicKeyLine(e.fileLine);
  } catch (err) {
    return { ok: false, reason: 'malformed', message: `${e.agent}: ${e.path}: ${(err as Error).message}` };
  }
  if (!sameKey(fileKey, e.handshake)) {
    return {
      ok: false,
      reason: 'handshake-mismatch',
      message:
        `${e.agent}: ${e.path} holds ${publicKeyLine(fileKey)} but the SSH server presented ` +
        `${publicKeyLine(e.handshake)}; refusing to record a key the server did not prove it holds`,
    };
  }
  const recorded = e.recorded === undefined ? undefined : parsePublicKeyLine(e.recorded);
  const changed = recorded !== undefined && !sameKey(recorded, fileKey);
  if (changed && !e.acceptChange) {
    return {
      ok: false,
      reason: 'changed',
      message:
        `${e.agent}: host key changed from ${e.recorded} to ${publicKeyLine(fileKey)}; if the VM was ` +
        `rebuilt on purpose, run: fleet provision ${e.agent} --rekey --yes`,
    };
  }
  return { ok: true, key: fileKey, changed };
}
