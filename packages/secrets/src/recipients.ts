// Recipient strings as secrets.nix lists them, turned into typage Recipient objects.
import { bech32 } from '@scure/base';
import type { Recipient } from 'age-encryption';
import { SecretsError } from './errors.js';
import { SshEd25519Recipient } from './ssh-ed25519.js';
import { parseSshPublicKey } from './ssh-keys.js';
import { SshRsaRecipient } from './ssh-rsa.js';

export type RecipientKind = 'ssh-ed25519' | 'ssh-rsa' | 'X25519';

export interface ParsedRecipient {
  /** The recipient as written, trimmed (comments kept, for display). */
  text: string;
  kind: RecipientKind;
  /** What typage's Encrypter.addRecipient takes: fleet's SSH recipients, or an age1 string. */
  recipient: Recipient | string;
  /**
   * What this recipient's stanza shows in a file header: "ssh-ed25519 TAG", "ssh-rsa TAG", or
   * "X25519" (X25519 stanzas carry only an ephemeral share, so they do not name their recipient).
   */
  stanzaKey: string;
}

function describe(text: string): string {
  return text.length > 50 ? `${text.slice(0, 47)}...` : text;
}

export function parseRecipient(input: string): ParsedRecipient {
  const text = input.trim();
  const type = text.split(/\s+/)[0] ?? '';
  // Bech32: the human-readable part ends at the last "1". Plain X25519 is exactly "age";
  // "age1yubikey", "age1pq" and friends are plugins or types the age CLI here does not know.
  const hrp = text.slice(0, text.lastIndexOf('1'));
  try {
    if (type === 'ssh-ed25519' || type === 'ssh-rsa') {
      const publicKey = parseSshPublicKey(text);
      const recipient =
        publicKey.type === 'ssh-ed25519'
          ? new SshEd25519Recipient(publicKey)
          : new SshRsaRecipient(publicKey);
      return {
        text,
        kind: publicKey.type,
        recipient,
        stanzaKey: `${type} ${recipient.tag}`,
      };
    }
    if (hrp === 'age') {
      // Checked here (bech32, key length) so a bad key in secrets.nix is reported by name.
      const { prefix, bytes } = bech32.decodeToBytes(text);
      if (prefix !== 'age' || bytes.length !== 32) throw new Error('not an age1 X25519 recipient');
      return { text, kind: 'X25519', recipient: text, stanzaKey: 'X25519' };
    }
  } catch (err) {
    throw new SecretsError(`invalid recipient "${describe(text)}": ${(err as Error).message}`);
  }
  const what = hrp.startsWith('age1') ? `age plugin recipient type "${hrp}"` : `recipient type "${type}"`;
  throw new SecretsError(
    `unsupported ${what} in "${describe(text)}": use ssh-ed25519, ssh-rsa or age1... (X25519) keys`,
  );
}

/**
 * parseRecipient with memory: secrets.nix repeats the same few keys across every rule, and building
 * a recipient (curve conversion, key import) costs far more than using it.
 */
export function recipientParser(): (text: string) => ParsedRecipient {
  const seen = new Map<string, ParsedRecipient>();
  return (text) => {
    let parsed = seen.get(text);
    if (parsed === undefined) {
      parsed = parseRecipient(text);
      seen.set(text, parsed);
    }
    return parsed;
  };
}
