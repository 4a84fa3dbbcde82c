import { type SshPublicKey, sameKey } from '../provision/hostkey.js';
import { fingerprintSha256 } from './fingerprint.js';

export type HostKeyPinResult =
  | { kind: 'first-contact' }
  | { kind: 'match' }
  | { kind: 'mismatch'; message: string };

export interface HostKeyPinCheck {
  /** Agent name, for the message. */
  who: string;
  /** "127.0.0.1:2222". */
  address: string;
  presented: SshPublicKey;
  pinned?: SshPublicKey;
  /** Where the pin is recorded, e.g. the known_hosts path. */
  source?: string;
  /** What the user can run when the change is expected. */
  fix?: string;
}

/** Compares the key a server presented with the pinned one. A mismatch is never acceptable to a caller. */
export function checkHostKeyPin(c: HostKeyPinCheck): HostKeyPinResult {
  if (!c.pinned) return { kind: 'first-contact' };
  if (sameKey(c.pinned, c.presented)) return { kind: 'match' };
  const fix =
    c.fix ??
    `if ${c.who} was recreated on purpose, run: fleet provision ${c.who} --rekey --yes (it re-pins the key)`;
  return {
    kind: 'mismatch',
    message:
      `host key of ${c.who} (${c.address}) does not match its pinned key: expected ${c.pinned.type} ` +
      `${fingerprintSha256(c.pinned)}${c.source ? ` (pinned in ${c.source})` : ''}, but the server presented ` +
      `${c.presented.type} ${fingerprintSha256(c.presented)}. Refusing to connect: this is what a ` +
      `man-in-the-middle looks like. ${fix}`,
  };
}
